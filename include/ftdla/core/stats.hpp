// SPDX-License-Identifier: MIT
// Statistics for fault-injection rates: Wilson score intervals and statistical fault-injection sample sizes.
#pragma once
#include <cstdint>

namespace ftdla {

/// A proportion estimate with its confidence interval, all in [0, 1].
struct RateEstimate {
  uint64_t successes = 0;  ///< events counted (e.g. SDCs)
  uint64_t trials = 0;     ///< injections
  double rate = 0.0;       ///< successes / trials (0 when trials == 0)
  double lo = 0.0;         ///< lower bound of the interval
  double hi = 1.0;         ///< upper bound of the interval
};

/// Two-sided standard normal quantile z such that P(|Z| <= z) = confidence, confidence in (0, 1).
/// Throws ConfigError outside that range.
double normal_quantile_two_sided(double confidence);

/// Inverse of the standard normal CDF, p in (0, 1) (Acklam's rational approximation + one Newton step).
double normal_inverse_cdf(double p);

/// Standard normal CDF and density.
double normal_cdf(double x);
double normal_pdf(double x);

/// Wilson score interval: [p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)] / (1 + z²/n).
/// trials == 0 gives the uninformative [0, 1].
RateEstimate wilson(uint64_t successes, uint64_t trials, double confidence = 0.95);

/// Statistical fault-injection sample size (Leveugle et al., DATE 2009):
/// n = N·t²·p(1−p) / (e²·(N−1) + t²·p(1−p)), rounded up. population 0 means infinite.
/// margin e in (0, 1), confidence in (0, 1), p in (0, 1) (0.5 = worst case). Throws ConfigError otherwise.
uint64_t leveugle_sample_size(double population, double margin, double confidence, double p = 0.5);

}  // namespace ftdla
