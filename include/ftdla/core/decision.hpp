// SPDX-License-Identifier: MIT
// Yes/no decisions from sampled accuracies, made on intervals rather than point estimates.
//
// A campaign measures, per test image i, n_i faulty inferences of which s_i were classified correctly,
// and (optionally) a 0/1 reference r_i for that image: the unprotected model's golden result, so that the
// statistic is the paired accuracy difference D = sum_i (s_i - n_i r_i) / N. Images are a sample of the
// data too, so the standard error is cluster-robust over images (CR1, Liang & Zeger, Biometrika 1986):
// it contains both the fault-draw and the image-sampling variance, and pairing removes the part of the
// image variance the design shares with its reference. A floor (an Agresti-Coull-style add-2/add-4 rate
// of disagreeing trials) keeps the error from collapsing to 0 on small samples that happen to agree.
// Accuracy losses are skewed (most images survive every fault, a few lose often), and the studentized
// mean of skewed data has one heavy tail: bounds use the Cornish-Fisher-corrected quantile of the
// studentized mean, z -/+ g (2 z^2 + 1) / (6 sqrt(G)) with g the skewness of the image residuals
// (Johnson, JASA 1978; Hall, Biometrika 1983), which brings one-sided error rates back to nominal. The
// correction is applied only where it widens a bound (a few non-zero residuals give wild skewness).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ftdla {

/// Per-image tallies of one campaign (or one clean pass: trials = 1 per image).
struct ImageTally {
  std::vector<int64_t> trials;   ///< n_i, faulty inferences on image i (0 = image unused)
  std::vector<int64_t> correct;  ///< s_i, of them classified correctly
  std::vector<int> reference;    ///< r_i in {0, 1}; empty = absolute statistic (r_i = 0)
};

/// The mean of a tally with its cluster-robust standard error.
struct MeanEstimate {
  double mean = 0.0;    ///< D (paired) or the accuracy (absolute)
  double se = 0.0;      ///< standard error, > 0 when n > 0
  int64_t n = 0;        ///< trials
  int64_t clusters = 0; ///< images with trials
  double skew = 0.0;    ///< sample skewness of the image residuals (0 when < 3 images)
  /// One-sided bounds: P(mean - lower_at(z) > truth) is about 1 - Phi(z), skew-corrected.
  double lower_at(double z) const;
  double upper_at(double z) const;
  /// Two-sided interval at `confidence`.
  double lo(double confidence = 0.95) const;
  double hi(double confidence = 0.95) const;
};
MeanEstimate estimate_mean(const ImageTally& t);

enum class Verdict { Satisfied, Violated, Undecided };
/// "satisfied", "violated", "undecided".
const char* verdict_name(Verdict v);

/// A one-sided test of "statistic >= threshold" that stays valid when the sample grows and is looked at
/// again: looks at first, 2 first, 4 first, ... trials, the last one at max (a planned schedule), each at
/// level risk / looks (Bonferroni over the planned looks: the probability that any look wrongly says
/// "satisfied" when the truth is below the threshold is at most the sum, risk). The same holds for wrong
/// "violated" calls.
struct SequentialTest {
  double risk = 0.05;     ///< in (0, 0.5)
  int64_t first = 250;    ///< trials at the first look, >= 1
  int64_t max = 8000;     ///< trials at the last look, >= first
  void validate() const;  ///< throws ConfigError naming the option (--risk, --trials, --max-trials)
  int looks() const;
  /// Trials at look j (0-based): min(first * 2^j, max).
  int64_t look_size(int j) const;
  /// One-sided normal quantile at risk / looks.
  double z() const;
  /// Verdict at a look: satisfied when mean - z se >= threshold, violated when mean + z se < threshold.
  Verdict judge(const MeanEstimate& m, double threshold) const;
  /// One-sided confidence bounds used by judge().
  double lower(const MeanEstimate& m) const;
  double upper(const MeanEstimate& m) const;
};

}  // namespace ftdla
