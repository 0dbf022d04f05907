// SPDX-License-Identifier: MIT
#include "ftdla/opt/gaussian_process.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "ftdla/core/error.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/opt/kernel.hpp"
#include "ftdla/opt/lbfgs.hpp"

namespace ftdla::opt {
namespace {

constexpr double kSqrt5 = 2.23606797749979;
constexpr double kLog2Pi = 1.8378770664093453;
// Priors of fit() (see log_prior()): mean and sd of each log parameter.
constexpr double kLogLengthPriorMean = -0.6931471805599453;  // log 0.5: half the unit cube
constexpr double kLogLengthPriorSd = 1.5;
constexpr double kLogSignalPriorMean = 0.0;  // standardized outputs have unit variance
constexpr double kLogSignalPriorSd = 1.5;
constexpr double kLogNoisePriorMean = -6.907755278982137;  // log 1e-3
constexpr double kLogNoisePriorSd = 3.0;
// fit(): random draws screened per random start, and L-BFGS tolerances. Hyperparameters need no more
// precision than this: a relative LML change of 1e-9 or a gradient of 1e-4 per log parameter.
constexpr size_t kScreenedStarts = 8;
constexpr double kFitGradientTolerance = 1e-4;
constexpr double kFitValueTolerance = 1e-9;
// Jitter escalation when the Cholesky factorization fails: multiply by 10 up to this (standardized units).
constexpr double kMaxExtraJitter = 1e-2;

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

// log-space box of each log parameter: θ = lo + (hi − lo)·sigmoid(z).
struct LogBox {
  Eigen::VectorXd lo, hi;
  Eigen::VectorXd to_theta(const Eigen::VectorXd& z) const {
    Eigen::VectorXd t(z.size());
    for (Eigen::Index i = 0; i < z.size(); ++i) t[i] = lo[i] + (hi[i] - lo[i]) * sigmoid(z[i]);
    return t;
  }
  Eigen::VectorXd dtheta_dz(const Eigen::VectorXd& z) const {
    Eigen::VectorXd d(z.size());
    for (Eigen::Index i = 0; i < z.size(); ++i) {
      const double s = sigmoid(z[i]);
      d[i] = (hi[i] - lo[i]) * s * (1.0 - s);
    }
    return d;
  }
  Eigen::VectorXd to_z(const Eigen::VectorXd& theta) const {
    Eigen::VectorXd z(theta.size());
    for (Eigen::Index i = 0; i < theta.size(); ++i) {
      if (hi[i] <= lo[i]) { z[i] = 0.0; continue; }
      const double f = std::clamp((theta[i] - lo[i]) / (hi[i] - lo[i]), 1e-6, 1.0 - 1e-6);
      z[i] = std::log(f / (1.0 - f));
    }
    return z;
  }
};

}  // namespace

// ---- kernel ---------------------------------------------------------------------------------------

double matern52(const Eigen::Ref<const Eigen::VectorXd>& a, const Eigen::Ref<const Eigen::VectorXd>& b,
                const Eigen::VectorXd& length_scales, double signal_var) {
  FTDLA_ASSERT(a.size() == b.size() && a.size() == length_scales.size());
  const double r = ((a - b).array() / length_scales.array()).matrix().norm();
  return signal_var * matern52_correlation(r);
}

Eigen::VectorXd matern52_gradient(const Eigen::Ref<const Eigen::VectorXd>& a,
                                  const Eigen::Ref<const Eigen::VectorXd>& b,
                                  const Eigen::VectorXd& length_scales, double signal_var) {
  FTDLA_ASSERT(a.size() == b.size() && a.size() == length_scales.size());
  const Eigen::Index d = a.size();
  const Eigen::ArrayXd scaled_sq = ((a - b).array() / length_scales.array()).square();
  const double r = std::sqrt(scaled_sq.sum());
  const double e = std::exp(-kSqrt5 * r);
  Eigen::VectorXd g(d + 1);
  g.head(d) = (signal_var * (5.0 / 3.0) * (1.0 + kSqrt5 * r) * e) * scaled_sq.matrix();
  g[d] = signal_var * matern52_correlation(r);
  return g;
}

// ---- hyperparameters ------------------------------------------------------------------------------

Eigen::VectorXd GpHyper::to_log() const {
  const Eigen::Index d = length_scales.size();
  Eigen::VectorXd t(d + 2);
  t.head(d) = length_scales.array().log().matrix();
  t[d] = std::log(signal_var);
  t[d + 1] = std::log(noise_var);
  return t;
}

GpHyper GpHyper::from_log(const Eigen::VectorXd& theta) {
  FTDLA_ASSERT(theta.size() >= 3);
  const Eigen::Index d = theta.size() - 2;
  GpHyper h;
  h.length_scales = theta.head(d).array().exp().matrix();
  h.signal_var = std::exp(theta[d]);
  h.noise_var = std::exp(theta[d + 1]);
  return h;
}

std::vector<std::string> GpOptions::problems(const std::string& prefix) const {
  std::vector<std::string> out;
  auto bad = [&](const char* field, const std::string& what) { out.push_back(prefix + "." + field + ": " + what); };
  if (restarts < 1) bad("restarts", "must be at least 1 (got 0)");
  if (fit_iterations < 1) bad("fit_iterations", "must be at least 1 (got " + std::to_string(fit_iterations) + ")");
  auto range = [&](const char* lo_name, double lo, const char* hi_name, double hi, bool allow_zero) {
    if (!std::isfinite(lo) || lo < 0.0 || (!allow_zero && lo == 0.0)) {
      bad(lo_name, std::string("must be finite and ") + (allow_zero ? ">= 0" : "> 0") + " (got " + num(lo) + ")");
    } else if (!std::isfinite(hi) || hi < lo) {
      bad(hi_name, "must be finite and >= " + std::string(lo_name) + " (got " + num(hi) + ", " + lo_name +
                       " = " + num(lo) + ")");
    }
  };
  range("length_scale_min", length_scale_min, "length_scale_max", length_scale_max, false);
  range("signal_var_min", signal_var_min, "signal_var_max", signal_var_max, false);
  range("noise_var_min", noise_var_min, "noise_var_max", noise_var_max, true);
  if (!std::isfinite(jitter) || jitter < 0.0) bad("jitter", "must be finite and >= 0 (got " + num(jitter) + ")");
  if (noise_var_max + jitter <= 0.0) bad("noise_var_max", "noise_var_max + jitter must be > 0 (got 0)");
  return out;
}

double GpPrediction::sd() const { return std::sqrt(std::max(var, 0.0)); }

// ---- GaussianProcess --------------------------------------------------------------------------------

GaussianProcess::GaussianProcess(size_t dimension, GpOptions options)
    : dimension_(dimension), options_(std::move(options)) {
  if (dimension_ == 0) throw ConfigError("GaussianProcess: dimension must be at least 1 (got 0)");
  validate_options();
  const double length = std::clamp(0.5, options_.length_scale_min, options_.length_scale_max);
  hyper_.length_scales = Eigen::VectorXd::Constant(static_cast<Eigen::Index>(dimension_), length);
  hyper_.signal_var = std::clamp(1.0, options_.signal_var_min, options_.signal_var_max);
  hyper_.noise_var = std::clamp(std::max(options_.noise_var_min, 1e-4), options_.noise_var_min, options_.noise_var_max);
  z_.resize(static_cast<Eigen::Index>(dimension_), 0);
  factorize();
}

GaussianProcess::GaussianProcess(const Space& space, GpOptions options)
    : GaussianProcess((space.validate(), space.dimension()), std::move(options)) {
  space_ = space;
}

void GaussianProcess::validate_options() const {
  const auto p = options_.problems();
  if (p.empty()) return;
  std::string msg;
  for (const auto& s : p) msg += (msg.empty() ? "" : "; ") + s;
  throw ConfigError(msg);
}

Eigen::VectorXd GaussianProcess::transform(const std::vector<double>& x) const {
  if (space_) {
    const std::vector<double> u = space_->to_unit(x);
    return Eigen::Map<const Eigen::VectorXd>(u.data(), static_cast<Eigen::Index>(u.size()));
  }
  if (x.size() != dimension_) {
    throw ValidationError("GaussianProcess::transform(): point has " + std::to_string(x.size()) +
                          " coordinates (expected " + std::to_string(dimension_) + ")");
  }
  for (double v : x) {
    if (!std::isfinite(v)) {
      throw ValidationError("GaussianProcess::transform(): non-finite coordinate in " + to_string(x));
    }
  }
  return Eigen::Map<const Eigen::VectorXd>(x.data(), static_cast<Eigen::Index>(x.size()));
}

Eigen::MatrixXd GaussianProcess::transform(const std::vector<std::vector<double>>& xs) const {
  Eigen::MatrixXd z(static_cast<Eigen::Index>(dimension_), static_cast<Eigen::Index>(xs.size()));
  for (size_t j = 0; j < xs.size(); ++j) z.col(static_cast<Eigen::Index>(j)) = transform(xs[j]);
  return z;
}

void GaussianProcess::set_data(const std::vector<std::vector<double>>& xs, const std::vector<double>& ys) {
  if (xs.size() != ys.size()) {
    throw ValidationError("GaussianProcess::set_data(): " + std::to_string(xs.size()) + " inputs but " +
                          std::to_string(ys.size()) + " outputs");
  }
  const Eigen::Map<const Eigen::VectorXd> y(ys.data(), static_cast<Eigen::Index>(ys.size()));
  set_transformed_data(transform(xs), y);
}

void GaussianProcess::set_transformed_data(const Eigen::MatrixXd& z, const Eigen::VectorXd& ys, const Eigen::VectorXd& noise) {
  if (noise.size() != 0 && noise.size() != ys.size())
    throw ValidationError("GaussianProcess::set_transformed_data(): " + std::to_string(noise.size()) +
                          " noise variances for " + std::to_string(ys.size()) + " outputs");
  for (Eigen::Index i = 0; i < noise.size(); ++i)
    if (!(noise[i] >= 0.0) || !std::isfinite(noise[i]))
      throw ValidationError("GaussianProcess::set_transformed_data(): noise variance " + std::to_string(i) + " is " +
                            num(noise[i]) + " (expected a finite number >= 0)");
  if (z.rows() != static_cast<Eigen::Index>(dimension_) || z.cols() != ys.size()) {
    throw ValidationError("GaussianProcess::set_transformed_data(): inputs are " + std::to_string(z.rows()) + " x " +
                          std::to_string(z.cols()) + " (expected " + std::to_string(dimension_) + " x " +
                          std::to_string(ys.size()) + ")");
  }
  if (!z.allFinite()) throw ValidationError("GaussianProcess::set_transformed_data(): non-finite input");
  for (Eigen::Index i = 0; i < ys.size(); ++i) {
    if (!std::isfinite(ys[i])) {
      throw ValidationError("GaussianProcess::set_data(): output " + std::to_string(i) + " is " + num(ys[i]) +
                            " (expected a finite number)");
    }
  }
  const Eigen::Index n = ys.size();
  z_ = z;
  y_mean_ = n > 0 ? ys.mean() : 0.0;
  y_scale_ = 1.0;
  if (n >= 2) {
    const double sd = std::sqrt((ys.array() - y_mean_).square().sum() / static_cast<double>(n - 1));
    // Constant outputs: keep scale 1 so the GP stays well defined.
    if (sd > 1e-12 * std::max(1.0, std::abs(y_mean_))) y_scale_ = sd;
  }
  y_ = (ys.array() - y_mean_) / y_scale_;
  obs_noise_ = noise.size() ? Eigen::VectorXd(noise / (y_scale_ * y_scale_)) : Eigen::VectorXd::Zero(n);
  const Eigen::Index d = static_cast<Eigen::Index>(dimension_);
  pair_sq_.resize(n * (n - 1) / 2, d);
  Eigen::Index p = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = j + 1; i < n; ++i, ++p) {
      pair_sq_.row(p) = (z_.col(i) - z_.col(j)).array().square().matrix().transpose();
    }
  }
  factorize();
}

void GaussianProcess::set_hyper(const GpHyper& hyper) {
  if (hyper.length_scales.size() != static_cast<Eigen::Index>(dimension_)) {
    throw ValidationError("GaussianProcess::set_hyper(): " + std::to_string(hyper.length_scales.size()) +
                          " length scales (expected " + std::to_string(dimension_) + ")");
  }
  if (!(hyper.length_scales.array() > 0.0).all() || !hyper.length_scales.allFinite() || !(hyper.signal_var > 0.0) ||
      !std::isfinite(hyper.signal_var) || !(hyper.noise_var >= 0.0) || !std::isfinite(hyper.noise_var)) {
    throw ValidationError("GaussianProcess::set_hyper(): length scales and signal_var must be > 0, noise_var >= 0");
  }
  hyper_ = hyper;
  factorize();
}

void GaussianProcess::factorize() {
  const Eigen::Index n = z_.cols();
  const double sf2 = hyper_.signal_var;
  z_scaled_ = z_.array().colwise() / hyper_.length_scales.array();
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    k(j, j) = sf2;
    for (Eigen::Index i = j + 1; i < n; ++i) {
      const double r = (z_scaled_.col(i) - z_scaled_.col(j)).norm();
      k(i, j) = k(j, i) = sf2 * matern52_correlation(r);
    }
  }
  extra_jitter_ = 0.0;
  const double base = hyper_.noise_var + options_.jitter;
  for (;;) {
    Eigen::MatrixXd kn = k;
    kn.diagonal().array() += base + extra_jitter_;
    kn.diagonal() += obs_noise_;
    chol_.compute(kn);
    if (chol_.info() == Eigen::Success) break;
    // Not positive definite numerically: escalate the jitter (Rasmussen & Williams, GPML §3.4.3 remark).
    extra_jitter_ = extra_jitter_ == 0.0 ? std::max(1e-10, 10.0 * options_.jitter) : 10.0 * extra_jitter_;
    FTDLA_ASSERT(extra_jitter_ <= kMaxExtraJitter);
  }
  alpha_ = chol_.solve(y_);
}

double GaussianProcess::log_marginal_likelihood(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const {
  const Eigen::Index d = static_cast<Eigen::Index>(dimension_);
  FTDLA_ASSERT(theta.size() == d + 2);
  const Eigen::Index n = z_.cols();
  if (grad) grad->setZero(d + 2);
  if (n == 0) return 0.0;
  const Eigen::VectorXd inv_l2 = (-2.0 * theta.head(d)).array().exp().matrix();
  const double sf2 = std::exp(theta[d]);
  const double sn2 = std::exp(theta[d + 1]);
  const Eigen::VectorXd r2 = pair_sq_ * inv_l2;

  Eigen::MatrixXd k(n, n);
  Eigen::VectorXd dfac(r2.size());  // σ_f² (5/3)(1 + √5 r) e^{−√5 r}: ∂k/∂log ℓ_d = dfac · Δ_d²/ℓ_d²
  Eigen::Index p = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    k(j, j) = sf2;
    for (Eigen::Index i = j + 1; i < n; ++i, ++p) {
      const double s = kSqrt5 * std::sqrt(r2[p]);
      const double e = std::exp(-s);
      k(i, j) = k(j, i) = sf2 * (1.0 + s + s * s / 3.0) * e;
      dfac[p] = sf2 * (5.0 / 3.0) * (1.0 + s) * e;
    }
  }
  Eigen::LLT<Eigen::MatrixXd> llt;
  double extra = 0.0;
  for (;;) {
    Eigen::MatrixXd kn = k;
    kn.diagonal().array() += sn2 + options_.jitter + extra;
    kn.diagonal() += obs_noise_;
    llt.compute(kn);
    if (llt.info() == Eigen::Success) break;
    extra = extra == 0.0 ? std::max(1e-10, 10.0 * options_.jitter) : 10.0 * extra;
    if (extra > kMaxExtraJitter) return -std::numeric_limits<double>::infinity();
  }
  const Eigen::VectorXd alpha = llt.solve(y_);
  const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
  const double lml = -0.5 * y_.dot(alpha) - 0.5 * log_det - 0.5 * static_cast<double>(n) * kLog2Pi;
  if (!grad) return lml;

  // W = ααᵀ − K⁻¹; ∂LML/∂θ = ½ Σ_ij W_ij ∂K_ij/∂θ.
  Eigen::MatrixXd w = llt.solve(Eigen::MatrixXd::Identity(n, n));
  w = alpha * alpha.transpose() - w;
  Eigen::VectorXd c(r2.size());
  double signal = 0.5 * sf2 * w.diagonal().sum();
  p = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = j + 1; i < n; ++i, ++p) {
      c[p] = w(i, j) * dfac[p];    // pairs (i, j) and (j, i): the ½ cancels
      signal += w(i, j) * k(i, j);
    }
  }
  grad->head(d) = (pair_sq_.transpose() * c).cwiseProduct(inv_l2);
  (*grad)[d] = signal;
  (*grad)[d + 1] = 0.5 * sn2 * w.diagonal().sum();
  return lml;
}

double GaussianProcess::log_prior(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) {
  const Eigen::Index d = theta.size() - 2;
  FTDLA_ASSERT(d >= 1);
  double lp = 0.0;
  if (grad) grad->resize(theta.size());
  auto term = [&](Eigen::Index i, double mean, double sd) {
    const double z = (theta[i] - mean) / sd;
    lp += -0.5 * z * z;
    if (grad) (*grad)[i] = -z / sd;
  };
  for (Eigen::Index i = 0; i < d; ++i) term(i, kLogLengthPriorMean, kLogLengthPriorSd);
  term(d, kLogSignalPriorMean, kLogSignalPriorSd);
  term(d + 1, kLogNoisePriorMean, kLogNoisePriorSd);
  return lp;
}

double GaussianProcess::fit(uint64_t seed, std::optional<size_t> restarts) {
  const Eigen::Index d = static_cast<Eigen::Index>(dimension_);
  const GpOptions& o = options_;
  if (z_.cols() == 0) return 0.0;
  const size_t n_starts = std::max<size_t>(1, restarts.value_or(o.restarts));
  LogBox box;
  box.lo.resize(d + 2);
  box.hi.resize(d + 2);
  box.lo.head(d).setConstant(std::log(o.length_scale_min));
  box.hi.head(d).setConstant(std::log(o.length_scale_max));
  box.lo[d] = std::log(o.signal_var_min);
  box.hi[d] = std::log(o.signal_var_max);
  // Zero noise is allowed: the log box then starts at a tiny value (the jitter keeps K positive definite).
  box.lo[d + 1] = std::log(std::max(o.noise_var_min, 1e-300));
  box.hi[d + 1] = std::log(std::max(o.noise_var_max, 1e-300));

  Eigen::VectorXd g_theta(d + 2), g_prior(d + 2);
  const SmoothFunction objective = [&](const Eigen::VectorXd& z, Eigen::VectorXd& grad) {
    const Eigen::VectorXd theta = box.to_theta(z);
    const double lml = log_marginal_likelihood(theta, &g_theta);
    if (!std::isfinite(lml)) return std::numeric_limits<double>::infinity();
    const double lp = log_prior(theta, &g_prior);
    grad = -(g_theta + g_prior).cwiseProduct(box.dtheta_dz(z));
    return -(lml + lp);
  };

  // Starting points: the current hyperparameters (warm start), then the best restarts − 1 of
  // kScreenedStarts·(restarts − 1) random draws ranked by the objective value alone (no gradient, cheap).
  // Draws: ℓ log-uniform in [0.05, 2], σ_f² log-uniform in [0.3, 3], σ_n² log-uniform in
  // [noise_var_min, 0.1] (where standardized BO data usually lie), clipped to the box.
  Rng rng(seed);
  std::vector<Eigen::VectorXd> starts;
  {
    GpHyper h = hyper_;
    h.noise_var = std::max(h.noise_var, std::max(o.noise_var_min, 1e-300));
    starts.push_back(h.to_log().cwiseMax(box.lo).cwiseMin(box.hi));
  }
  if (n_starts > 1) {
    auto log_uniform = [&](double a, double b) { return std::log(a) + rng.uniform() * (std::log(b) - std::log(a)); };
    std::vector<std::pair<double, Eigen::VectorXd>> draws;
    for (size_t i = 0; i < kScreenedStarts * (n_starts - 1); ++i) {
      Eigen::VectorXd t(d + 2);
      for (Eigen::Index k = 0; k < d; ++k) t[k] = log_uniform(0.05, 2.0);
      t[d] = log_uniform(0.3, 3.0);
      const double nlo = std::max(o.noise_var_min, 1e-8);
      t[d + 1] = log_uniform(nlo, std::max(nlo, 0.1));
      t = t.cwiseMax(box.lo).cwiseMin(box.hi);
      const double lml = log_marginal_likelihood(t);
      draws.emplace_back(std::isfinite(lml) ? -(lml + log_prior(t)) : std::numeric_limits<double>::infinity(), t);
    }
    std::stable_sort(draws.begin(), draws.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i + 1 < n_starts; ++i) starts.push_back(draws[i].second);
  }
  LbfgsOptions lo;
  lo.max_iterations = o.fit_iterations;
  lo.gradient_tolerance = kFitGradientTolerance;
  lo.value_tolerance = kFitValueTolerance;
  Eigen::VectorXd best_theta = starts.front();
  double best = std::numeric_limits<double>::infinity();
  for (const Eigen::VectorXd& theta0 : starts) {
    const LbfgsResult r = minimize_lbfgs(objective, box.to_z(theta0), lo);
    if (std::isfinite(r.value) && r.value < best) {
      best = r.value;
      best_theta = box.to_theta(r.x);
    }
  }
  GpHyper h = GpHyper::from_log(best_theta);
  if (o.noise_var_min == 0.0 && o.noise_var_max == 0.0) h.noise_var = 0.0;
  set_hyper(h);
  return log_marginal_likelihood(best_theta);
}

GpPrediction GaussianProcess::predict(const std::vector<double>& x) const {
  Eigen::VectorXd mean, var;
  predict(Eigen::MatrixXd(transform(x)), mean, var);
  return GpPrediction{mean[0], var[0]};
}

void GaussianProcess::predict(const Eigen::MatrixXd& z, Eigen::VectorXd& mean, Eigen::VectorXd& var) const {
  const Eigen::Index d = static_cast<Eigen::Index>(dimension_);
  FTDLA_ASSERT(z.rows() == d);
  const Eigen::Index m = z.cols(), n = z_.cols();
  mean.resize(m);
  var.resize(m);
  const double sf2 = hyper_.signal_var;
  const double scale2 = y_scale_ * y_scale_;
  if (n == 0) {
    mean.setConstant(y_mean_);
    var.setConstant(sf2 * scale2);
    return;
  }
  // Blocks of columns keep the n × block cross-covariance in cache for large candidate sets.
  constexpr Eigen::Index kBlock = 1024;
  Eigen::MatrixXd ks;
  Eigen::VectorXd zj(d);
  for (Eigen::Index start = 0; start < m; start += kBlock) {
    const Eigen::Index b = std::min(kBlock, m - start);
    ks.resize(n, b);
    for (Eigen::Index j = 0; j < b; ++j) {
      zj = z.col(start + j).cwiseQuotient(hyper_.length_scales);
      for (Eigen::Index i = 0; i < n; ++i) ks(i, j) = sf2 * matern52_correlation((z_scaled_.col(i) - zj).norm());
    }
    mean.segment(start, b) = (ks.transpose() * alpha_).array() * y_scale_ + y_mean_;
    chol_.matrixL().solveInPlace(ks);
    var.segment(start, b) = ((sf2 - ks.colwise().squaredNorm().array()).max(0.0) * scale2).matrix().transpose();
  }
}

}  // namespace ftdla::opt
