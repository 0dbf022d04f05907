// SPDX-License-Identifier: MIT
// Gaussian-process regression (Matérn 5/2 ARD, constant mean, Gaussian noise) on Eigen, with
// hyperparameters fit by maximizing the log marginal likelihood plus mild log-normal priors.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "ftdla/opt/space.hpp"

namespace ftdla::opt {

/// GP hyperparameters. Inputs are in kernel coordinates (the unit cube when a Space is given);
/// variances are in standardized output units (the outputs are centred and divided by their std).
struct GpHyper {
  Eigen::VectorXd length_scales;  ///< ℓ_d > 0, one per input dimension
  double signal_var = 1.0;        ///< σ_f² > 0
  double noise_var = 1e-6;        ///< σ_n² >= 0 (observation noise variance)

  /// Log parameter vector θ = [log ℓ_1, …, log ℓ_d, log σ_f², log σ_n²] (size d + 2).
  Eigen::VectorXd to_log() const;
  /// Inverse of to_log(); `theta` must have size >= 3.
  static GpHyper from_log(const Eigen::VectorXd& theta);
};

/// Bounds and fitting controls. Variances are in standardized output units, lengths in unit-cube units.
struct GpOptions {
  size_t restarts = 3;               ///< L-BFGS starts of the hyperparameter fit: the previous fit (or a
                                     ///< default) plus the best restarts − 1 of 8·(restarts − 1) random draws (>= 1)
  int fit_iterations = 100;          ///< L-BFGS iterations per start (>= 1)
  double length_scale_min = 0.01;    ///< ℓ lower bound (> 0); 0.01 is below any useful lattice spacing
  double length_scale_max = 20.0;    ///< ℓ upper bound (>= min); 20 makes a dimension nearly irrelevant
  double signal_var_min = 0.01;      ///< σ_f² lower bound (> 0)
  double signal_var_max = 100.0;     ///< σ_f² upper bound (>= min)
  double noise_var_min = 1e-6;       ///< σ_n² lower bound (>= 0); set min == max to fix the noise
  double noise_var_max = 1.0;        ///< σ_n² upper bound (>= min); 1 = all variance may be noise
  double jitter = 1e-8;              ///< added to the covariance diagonal for Cholesky stability (>= 0)

  /// Problems found, each "<prefix>.<field>: what (got X)"; empty when valid.
  std::vector<std::string> problems(const std::string& prefix = "opt.gp") const;
};

/// Predictive distribution of the latent function (noise excluded), in original output units.
struct GpPrediction {
  double mean = 0.0;
  double var = 0.0;  ///< >= 0
  double sd() const;
};

/// GP regression y = m + f(T(x)) + ε, f ~ GP(0, k) with k = Matern 5/2 ARD (kernel.hpp), ε ~ N(0, σ_n²),
/// constant mean m = sample mean of y (outputs are standardized before fitting).
///
/// Input transform T: with a Space, T(x) = space.to_unit(space.round(x)), i.e. integer and categorical
/// knobs are rounded INSIDE the kernel, k(T(x), T(x')) (Garrido-Merchán & Hernández-Lobato,
/// Neurocomputing 2020), so the GP is constant within each integer cell. Without a Space,
/// T is the identity (inputs should then be roughly in [0, 1]).
///
/// Usage: set_data(xs, ys); fit(seed) (or set_hyper(h)); predict(x).
class GaussianProcess {
 public:
  /// Identity input transform on `dimension` inputs.
  explicit GaussianProcess(size_t dimension, GpOptions options = {});
  /// Rounding + unit-cube transform of `space` (copied). Throws ConfigError if the space is invalid.
  explicit GaussianProcess(const Space& space, GpOptions options = {});

  /// T(x) as a column (size d). Throws ValidationError on a wrong size or non-finite coordinate.
  Eigen::VectorXd transform(const std::vector<double>& x) const;
  /// T applied to each point: a d × m matrix, one column per point.
  Eigen::MatrixXd transform(const std::vector<std::vector<double>>& xs) const;

  /// Replace the training data and refactorize with the current hyperparameters (defaults at first:
  /// ℓ = 0.5, σ_f² = 1, σ_n² = max(noise_var_min, 1e-4) clamped to the bounds). ys must be finite and
  /// xs.size() == ys.size(), else ValidationError. An empty set gives the prior.
  void set_data(const std::vector<std::vector<double>>& xs, const std::vector<double>& ys);
  /// Same, with inputs already transformed (d × n, e.g. from transform()).
  /// `noise`, if not empty, is each observation's own noise variance in original output units (>= 0,
  /// size n, e.g. a sampled rate's squared standard error); it is added to that diagonal entry on top
  /// of the fitted σ_n² (which then only absorbs model misfit), as in a fixed-noise GP.
  void set_transformed_data(const Eigen::MatrixXd& z, const Eigen::VectorXd& ys, const Eigen::VectorXd& noise = {});
  /// Use these hyperparameters (length_scales.size() == dimension(), else ValidationError) and refactorize.
  void set_hyper(const GpHyper& hyper);
  /// Fit the hyperparameters by maximizing log marginal likelihood + log prior with L-BFGS over
  /// `options.restarts` starts (the first is the current hyperparameters), inside the bounds of GpOptions
  /// (enforced by a sigmoid reparameterization). Deterministic for a seed. Returns the best
  /// log marginal likelihood (standardized units). `restarts` overrides options().restarts for this call
  /// (1 = only refine the current hyperparameters, much cheaper when the data changed little).
  double fit(uint64_t seed, std::optional<size_t> restarts = std::nullopt);

  /// log p(y | X, θ) = −½ yᵀK⁻¹y − ½ log|K| − (n/2) log 2π (GPML eq. 5.8) on the standardized outputs,
  /// K = σ_f² R(ℓ) + (σ_n² + jitter) I + diag(observation noise); θ as in GpHyper::to_log(). If grad is given it receives
  /// ∂/∂θ_j = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ_j), α = K⁻¹y (GPML eq. 5.9). Returns −inf if K is not positive
  /// definite even with extra jitter.
  double log_marginal_likelihood(const Eigen::VectorXd& theta, Eigen::VectorXd* grad = nullptr) const;
  /// Log density (up to a constant) of the mild priors used by fit(), with gradient: independent normals on
  /// log ℓ_d (mean log 0.5, sd 1.5), log σ_f² (mean 0, sd 1.5), log σ_n² (mean log 1e-3, sd 3).
  /// They only keep the fit away from degenerate optima with few observations.
  static double log_prior(const Eigen::VectorXd& theta, Eigen::VectorXd* grad = nullptr);

  /// Predictive mean and latent variance at x (original units).
  GpPrediction predict(const std::vector<double>& x) const;
  /// Batch prediction at transformed inputs z (d × m): mean and var (size m, original units).
  void predict(const Eigen::MatrixXd& z, Eigen::VectorXd& mean, Eigen::VectorXd& var) const;

  size_t dimension() const { return dimension_; }
  size_t size() const { return static_cast<size_t>(z_.cols()); }
  const GpHyper& hyper() const { return hyper_; }
  const GpOptions& options() const { return options_; }
  double output_mean() const { return y_mean_; }    ///< the constant mean m
  double output_scale() const { return y_scale_; }  ///< std used to standardize y (1 if degenerate)

 private:
  void validate_options() const;
  void factorize();

  size_t dimension_;
  GpOptions options_;
  std::optional<Space> space_;
  GpHyper hyper_;
  Eigen::MatrixXd z_;           // d × n transformed training inputs
  Eigen::VectorXd y_;           // standardized outputs
  Eigen::VectorXd obs_noise_;   // per-observation noise variances, standardized (zeros when not given)
  double y_mean_ = 0.0;
  double y_scale_ = 1.0;
  Eigen::MatrixXd pair_sq_;     // n(n−1)/2 × d squared differences, pairs (i > j) column-major order
  Eigen::LLT<Eigen::MatrixXd> chol_;
  Eigen::VectorXd alpha_;       // K⁻¹ y
  Eigen::MatrixXd z_scaled_;    // z_ / ℓ
  double extra_jitter_ = 0.0;   // jitter added by factorize() on top of options_.jitter
};

}  // namespace ftdla::opt
