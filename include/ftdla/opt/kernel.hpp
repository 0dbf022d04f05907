// SPDX-License-Identifier: MIT
// Matérn 5/2 covariance with automatic relevance determination (one length scale per input dimension).
#pragma once
#include <cmath>

#include <Eigen/Core>

namespace ftdla::opt {

/// Matérn 5/2 ARD covariance (Rasmussen & Williams, GPML 2006, eq. 4.17):
///   k(a, b) = signal_var · (1 + √5 r + 5r²/3) · exp(−√5 r),  r² = Σ_d (a_d − b_d)² / ℓ_d².
/// a, b and length_scales have the same size d >= 1; length_scales > 0, signal_var > 0.
double matern52(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b,
                const Eigen::VectorXd& length_scales, double signal_var);

/// Gradient of matern52 with respect to the log hyperparameters [log ℓ_1, …, log ℓ_d, log signal_var]
/// (size d + 1):
///   ∂k/∂log ℓ_d = signal_var · (5/3)(1 + √5 r) exp(−√5 r) · (a_d − b_d)² / ℓ_d²,   ∂k/∂log σ² = k.
/// Finite at r = 0 (the r in ∂r/∂ℓ cancels).
Eigen::VectorXd matern52_gradient(const Eigen::Ref<const Eigen::VectorXd>& a,
                                  const Eigen::Ref<const Eigen::VectorXd>& b,
                                  const Eigen::VectorXd& length_scales, double signal_var);

/// The Matérn 5/2 correlation g(r) = (1 + √5 r + 5r²/3) exp(−√5 r), r >= 0; g(0) = 1.
inline double matern52_correlation(double r) {
  const double s = 2.23606797749979 * r;  // √5 r
  return (1.0 + s + s * s / 3.0) * std::exp(-s);
}

}  // namespace ftdla::opt
