// SPDX-License-Identifier: MIT
#include "ftdla/core/decision.hpp"

#include <algorithm>
#include <cmath>

#include "ftdla/core/error.hpp"
#include "ftdla/core/stats.hpp"

namespace ftdla {

MeanEstimate estimate_mean(const ImageTally& t) {
  FTDLA_ASSERT(t.correct.size() == t.trials.size());
  FTDLA_ASSERT(t.reference.empty() || t.reference.size() == t.trials.size());
  MeanEstimate m;
  double sum = 0.0;
  int64_t disagree = 0;  // trials whose correctness differs from the reference
  for (size_t i = 0; i < t.trials.size(); ++i) {
    if (t.trials[i] <= 0) continue;
    const int64_t r = t.reference.empty() ? 0 : t.reference[i];
    m.n += t.trials[i];
    ++m.clusters;
    sum += static_cast<double>(t.correct[i] - t.trials[i] * r);
    disagree += r ? t.trials[i] - t.correct[i] : t.correct[i];
  }
  if (m.n == 0) return m;
  const double n = static_cast<double>(m.n);
  m.mean = sum / n;
  // CR1: G/(G-1) * sum_i (d_i - n_i D)^2 / N^2, d_i the image's summed differences.
  double ss = 0.0, s3 = 0.0;
  for (size_t i = 0; i < t.trials.size(); ++i) {
    if (t.trials[i] <= 0) continue;
    const int64_t r = t.reference.empty() ? 0 : t.reference[i];
    const double e = static_cast<double>(t.correct[i] - t.trials[i] * r) - static_cast<double>(t.trials[i]) * m.mean;
    ss += e * e;
    s3 += e * e * e;
  }
  const double g = static_cast<double>(m.clusters);
  if (m.clusters >= 3 && ss > 0) m.skew = (s3 / g) / std::pow(ss / g, 1.5);
  const double cr = m.clusters > 1 ? g / (g - 1.0) * ss / (n * n) : 0.0;
  // Floor: the binomial variance of the disagreement indicator at an add-2/add-4 adjusted rate.
  const double rate = (static_cast<double>(disagree) + 2.0) / (n + 4.0);
  const double floor = rate * (1.0 - rate) / n;
  m.se = std::sqrt(std::max(cr, floor));
  return m;
}

namespace {
/// Cornish-Fisher term of the studentized mean's quantile, g (2 z^2 + 1) / (6 sqrt(G)), kept within z / 2
/// (beyond that the expansion is not to be trusted and the bound stays conservative).
double skew_term(const MeanEstimate& m, double z) {
  if (m.clusters < 3) return 0.0;
  const double c = m.skew * (2 * z * z + 1) / (6 * std::sqrt(static_cast<double>(m.clusters)));
  return std::clamp(c, -z / 2, z / 2);
}
}  // namespace

// Left skew (g < 0) makes large studentized values more likely, so the lower bound moves down; right skew
// moves the upper bound up. The correction only ever widens a bound: with a handful of non-zero residuals
// (two lucky trials in 250) the sample skewness is extreme and untrustworthy, and narrowing on it would
// make exactly the wrong calls the bounds exist to prevent.
double MeanEstimate::lower_at(double z) const { return mean - (z + std::max(0.0, -skew_term(*this, z))) * se; }
double MeanEstimate::upper_at(double z) const { return mean + (z + std::max(0.0, skew_term(*this, z))) * se; }
double MeanEstimate::lo(double confidence) const { return lower_at(normal_quantile_two_sided(confidence)); }
double MeanEstimate::hi(double confidence) const { return upper_at(normal_quantile_two_sided(confidence)); }

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Satisfied: return "satisfied";
    case Verdict::Violated: return "violated";
    case Verdict::Undecided: return "undecided";
  }
  return "?";
}

void SequentialTest::validate() const {
  if (!(risk > 0.0 && risk < 0.5)) throw ConfigError("--risk: must be in (0, 0.5) (got " + std::to_string(risk) + ")");
  if (first < 1) throw ConfigError("--trials: must be >= 1 (got " + std::to_string(first) + ")");
  if (max < first)
    throw ConfigError("--max-trials: must be >= --trials (got " + std::to_string(max) + " < " + std::to_string(first) + ")");
}

int SequentialTest::looks() const {
  int j = 1;
  for (int64_t n = first; n < max; n = std::min(max, n * 2)) ++j;
  return j;
}

int64_t SequentialTest::look_size(int j) const {
  int64_t n = first;
  for (int i = 0; i < j && n < max; ++i) n = std::min(max, n * 2);
  return n;
}

double SequentialTest::z() const { return normal_inverse_cdf(1.0 - risk / looks()); }
double SequentialTest::lower(const MeanEstimate& m) const { return m.lower_at(z()); }
double SequentialTest::upper(const MeanEstimate& m) const { return m.upper_at(z()); }

Verdict SequentialTest::judge(const MeanEstimate& m, double threshold) const {
  if (m.n == 0) return Verdict::Undecided;
  if (lower(m) >= threshold) return Verdict::Satisfied;
  if (upper(m) < threshold) return Verdict::Violated;
  return Verdict::Undecided;
}

}  // namespace ftdla
