// SPDX-License-Identifier: MIT
#include "ftdla/core/stats.hpp"

#include <cmath>
#include <sstream>

#include "ftdla/core/error.hpp"

namespace ftdla {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }

double normal_inverse_cdf(double p) {
  if (!(p > 0.0 && p < 1.0)) throw ConfigError("normal_inverse_cdf: p must be in (0, 1)");
  // Acklam's algorithm, relative error < 1.15e-9, refined by one Halley step.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double plow = 0.02425;
  double x;
  if (p < plow) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - plow) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = normal_cdf(x) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double normal_quantile_two_sided(double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) {
    std::ostringstream os;
    os << "confidence: must be in (0, 1) (got " << confidence << ")";
    throw ConfigError(os.str());
  }
  return normal_inverse_cdf(0.5 + confidence / 2.0);
}

RateEstimate wilson(uint64_t successes, uint64_t trials, double confidence) {
  FTDLA_ASSERT(successes <= trials);
  RateEstimate r;
  r.successes = successes;
  r.trials = trials;
  if (trials == 0) return r;
  const double z = normal_quantile_two_sided(confidence);
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / n;
  const double center = (p + z2 / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
  r.rate = p;
  r.lo = std::max(0.0, center - half);
  r.hi = std::min(1.0, center + half);
  if (successes == 0) r.lo = 0.0;
  if (successes == trials) r.hi = 1.0;
  return r;
}

uint64_t leveugle_sample_size(double population, double margin, double confidence, double p) {
  if (!(margin > 0.0 && margin < 1.0)) {
    std::ostringstream os;
    os << "margin: must be in (0, 1) (got " << margin << ")";
    throw ConfigError(os.str());
  }
  if (!(p > 0.0 && p < 1.0)) throw ConfigError("expected proportion: must be in (0, 1)");
  if (population < 0) throw ConfigError("population: must be >= 0 (0 = infinite)");
  const double t = normal_quantile_two_sided(confidence);
  const double tpp = t * t * p * (1 - p);
  double n;
  if (population == 0) {
    n = tpp / (margin * margin);
  } else {
    n = population * tpp / (margin * margin * (population - 1) + tpp);
  }
  // Round first to absorb floating error near integers, then take the ceiling.
  const double rounded = std::round(n);
  return static_cast<uint64_t>(std::fabs(n - rounded) < 1e-9 ? rounded : std::ceil(n));
}

}  // namespace ftdla
