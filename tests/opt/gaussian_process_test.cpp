// SPDX-License-Identifier: MIT
#include "ftdla/opt/gaussian_process.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ftdla/core/error.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/opt/kernel.hpp"
#include "ftdla/opt/lbfgs.hpp"

namespace ftdla::opt {
namespace {

// Central differences with step h have O(h²) truncation error; 1e-5 relative is ample for these smooth functions.
constexpr double kFdStep = 1e-5;
constexpr double kFdRelTol = 1e-5;

Eigen::VectorXd random_vector(Rng& rng, Eigen::Index n, double lo, double hi) {
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i) v[i] = lo + (hi - lo) * rng.uniform();
  return v;
}

std::vector<std::vector<double>> random_points(Rng& rng, size_t n, size_t d) {
  std::vector<std::vector<double>> xs(n, std::vector<double>(d));
  for (auto& x : xs)
    for (double& v : x) v = rng.uniform();
  return xs;
}

TEST(Matern52, ValueAtZeroIsSignalVarianceAndDecreasesWithDistance) {
  const Eigen::VectorXd ls = Eigen::VectorXd::Constant(2, 0.3);
  const Eigen::VectorXd a = Eigen::VectorXd::Zero(2);
  EXPECT_DOUBLE_EQ(matern52(a, a, ls, 2.5), 2.5);
  double prev = 2.5;
  for (double t = 0.05; t < 2.0; t += 0.05) {
    const double k = matern52(a, Eigen::VectorXd::Constant(2, t), ls, 2.5);
    EXPECT_LT(k, prev);
    EXPECT_GT(k, 0.0);
    prev = k;
  }
  // Closed form at r = 1: (1 + √5 + 5/3) e^{−√5}.
  Eigen::VectorXd b(2);
  b << 0.3, 0.0;
  EXPECT_NEAR(matern52(a, b, ls, 1.0), (1 + std::sqrt(5.0) + 5.0 / 3.0) * std::exp(-std::sqrt(5.0)), 1e-15);
}

TEST(Matern52, GradientMatchesFiniteDifferences) {
  Rng rng(7);
  for (Eigen::Index d : {1, 2, 3, 5, 8}) {
    for (int trial = 0; trial < 10; ++trial) {
      const Eigen::VectorXd a = random_vector(rng, d, 0, 1), b = random_vector(rng, d, 0, 1);
      const Eigen::VectorXd log_ls = random_vector(rng, d, std::log(0.05), std::log(3.0));
      const double log_sf2 = -1.0 + 2.0 * rng.uniform();
      const Eigen::VectorXd g = matern52_gradient(a, b, log_ls.array().exp().matrix(), std::exp(log_sf2));
      Eigen::VectorXd theta(d + 1);
      theta << log_ls, log_sf2;
      for (Eigen::Index i = 0; i <= d; ++i) {
        auto k_at = [&](double delta) {
          Eigen::VectorXd t = theta;
          t[i] += delta;
          return matern52(a, b, t.head(d).array().exp().matrix(), std::exp(t[d]));
        };
        const double fd = (k_at(kFdStep) - k_at(-kFdStep)) / (2 * kFdStep);
        EXPECT_NEAR(g[i], fd, kFdRelTol * std::max(1.0, std::abs(fd))) << "d=" << d << " param " << i;
      }
    }
  }
  // Identical inputs: length-scale derivatives are exactly 0 (no 0/0).
  const Eigen::VectorXd a = Eigen::VectorXd::Constant(3, 0.4);
  const Eigen::VectorXd g = matern52_gradient(a, a, Eigen::VectorXd::Constant(3, 0.2), 1.5);
  EXPECT_TRUE(g.allFinite());
  EXPECT_EQ(g.head(3).norm(), 0.0);
  EXPECT_DOUBLE_EQ(g[3], 1.5);
}

TEST(GaussianProcess, LogMarginalLikelihoodGradientMatchesFiniteDifferences) {
  Rng rng(11);
  for (size_t d : {1u, 2u, 4u, 7u}) {
    GaussianProcess gp(d);
    const auto xs = random_points(rng, 12 + d, d);
    std::vector<double> ys;
    for (const auto& x : xs) ys.push_back(std::sin(5 * x[0]) + (d > 1 ? x[1] * x[1] : 0.0) + 0.1 * rng.normal());
    gp.set_data(xs, ys);
    for (int trial = 0; trial < 5; ++trial) {
      const Eigen::Index di = static_cast<Eigen::Index>(d);
      Eigen::VectorXd theta(di + 2);
      theta.head(di) = random_vector(rng, di, std::log(0.1), std::log(2.0));
      theta[di] = std::log(0.5) + rng.uniform();
      theta[di + 1] = std::log(1e-3) + 4 * rng.uniform();
      Eigen::VectorXd grad;
      const double lml = gp.log_marginal_likelihood(theta, &grad);
      ASSERT_TRUE(std::isfinite(lml));
      EXPECT_DOUBLE_EQ(lml, gp.log_marginal_likelihood(theta));
      for (Eigen::Index i = 0; i < theta.size(); ++i) {
        Eigen::VectorXd tp = theta, tm = theta;
        tp[i] += kFdStep;
        tm[i] -= kFdStep;
        const double fd = (gp.log_marginal_likelihood(tp) - gp.log_marginal_likelihood(tm)) / (2 * kFdStep);
        EXPECT_NEAR(grad[i], fd, 1e-4 * std::max(1.0, std::abs(fd))) << "d=" << d << " param " << i;
      }
      // The prior's gradient too.
      Eigen::VectorXd pg;
      GaussianProcess::log_prior(theta, &pg);
      for (Eigen::Index i = 0; i < theta.size(); ++i) {
        Eigen::VectorXd tp = theta, tm = theta;
        tp[i] += kFdStep;
        tm[i] -= kFdStep;
        const double fd = (GaussianProcess::log_prior(tp) - GaussianProcess::log_prior(tm)) / (2 * kFdStep);
        EXPECT_NEAR(pg[i], fd, kFdRelTol * std::max(1.0, std::abs(fd)));
      }
    }
  }
}

TEST(GaussianProcess, InterpolatesNoiseFreeData) {
  GpOptions o;
  o.noise_var_min = o.noise_var_max = 1e-10;  // noise fixed to (almost) zero
  GaussianProcess gp(2, o);
  Rng rng(3);
  const auto xs = random_points(rng, 25, 2);
  std::vector<double> ys;
  for (const auto& x : xs) ys.push_back(100.0 + 30.0 * std::sin(4 * x[0]) * std::cos(3 * x[1]));
  gp.set_data(xs, ys);
  gp.fit(1);
  for (size_t i = 0; i < xs.size(); ++i) {
    const GpPrediction p = gp.predict(xs[i]);
    EXPECT_NEAR(p.mean, ys[i], 1e-6 * std::abs(ys[i])) << i;
    EXPECT_LT(p.sd(), 1e-3 * gp.output_scale()) << i;
  }
}

TEST(GaussianProcess, ObservationNoiseShrinksThatObservationsPull) {
  // Two uncorrelated points (length scale far below their distance), y = +1 and -1: mean 0, scale
  // sqrt(2), standardized +-1/sqrt(2). With its own noise variance 2 (= 1 standardized) the first point's
  // posterior mean is sf2 / (sf2 + sn2 + jitter + 1) of its value: about 0.5 instead of 1.
  GaussianProcess gp(1);
  Eigen::MatrixXd z(1, 2);
  z << 0.0, 1.0;
  Eigen::VectorXd y(2), noise(2);
  y << 1.0, -1.0;
  noise << 2.0, 0.0;
  gp.set_transformed_data(z, y, noise);
  GpHyper h;
  h.length_scales = Eigen::VectorXd::Constant(1, 0.01);
  h.signal_var = 1.0;
  h.noise_var = 1e-6;
  gp.set_hyper(h);
  Eigen::VectorXd mean, var;
  gp.predict(z, mean, var);
  const double jitter = gp.options().jitter;
  EXPECT_NEAR(mean[0], 1.0 / (2.0 + 1e-6 + jitter), 1e-9);
  EXPECT_NEAR(mean[1], -1.0 / (1.0 + 1e-6 + jitter), 1e-9);
  EXPECT_THROW(gp.set_transformed_data(z, y, Eigen::VectorXd::Zero(3)), ValidationError);
  noise[0] = -1.0;
  EXPECT_THROW(gp.set_transformed_data(z, y, noise), ValidationError);
}

TEST(GaussianProcess, VarianceIsZeroAtDataAndGrowsWithDistance) {
  GpOptions o;
  o.noise_var_min = o.noise_var_max = 1e-10;
  GaussianProcess gp(1, o);
  gp.set_data({{0.2}, {0.4}, {0.5}}, {1.0, -1.0, 0.5});
  GpHyper h;
  h.length_scales = Eigen::VectorXd::Constant(1, 0.2);
  h.signal_var = 1.0;
  h.noise_var = 1e-10;
  gp.set_hyper(h);
  EXPECT_LT(gp.predict({0.5}).var, 1e-6);  // noise + jitter ~ 1e-8 of the prior variance
  double prev = gp.predict({0.5}).var;
  for (double x = 0.55; x <= 2.0; x += 0.05) {
    const double v = gp.predict({x}).var;
    EXPECT_GT(v, prev) << x;
    prev = v;
  }
  // Far from the data the variance returns to the prior variance σ_f² · scale², the mean to the constant mean.
  const GpPrediction far = gp.predict({50.0});
  EXPECT_NEAR(far.var, h.signal_var * gp.output_scale() * gp.output_scale(), 1e-12);
  EXPECT_NEAR(far.mean, gp.output_mean(), 1e-12);
  EXPECT_NEAR(gp.output_mean(), 0.5 / 3.0, 1e-15);
}

TEST(GaussianProcess, BatchPredictionEqualsPointwisePrediction) {
  GaussianProcess gp(3);
  Rng rng(5);
  const auto xs = random_points(rng, 30, 3);
  std::vector<double> ys;
  for (const auto& x : xs) ys.push_back(x[0] - 2 * x[1] * x[2]);
  gp.set_data(xs, ys);
  gp.fit(2);
  const auto qs = random_points(rng, 2500, 3);  // more than one internal block
  Eigen::VectorXd mean, var;
  gp.predict(gp.transform(qs), mean, var);
  for (size_t j = 0; j < qs.size(); j += 97) {
    const GpPrediction p = gp.predict(qs[j]);
    EXPECT_NEAR(mean[static_cast<Eigen::Index>(j)], p.mean, 1e-10);
    EXPECT_NEAR(var[static_cast<Eigen::Index>(j)], p.var, 1e-10);
  }
}

// Draws sample paths f ~ GP(0, Matern52(ℓ = 0.2)) at 80 jittered-grid inputs in [0, 1] and checks the
// fitted ℓ of each path (within 30 %) and their geometric mean (within 15 %).
TEST(GaussianProcess, FitRecoversKnownLengthScale) {
  constexpr double kTrueLength = 0.2;
  constexpr double kPathTolerance = 0.3;
  constexpr double kMeanTolerance = 0.15;
  constexpr size_t kPaths = 5;
  const size_t n = 80;
  double log_sum = 0.0;
  for (size_t path = 0; path < kPaths; ++path) {
    Rng rng(100 + path);
    std::vector<std::vector<double>> xs(n, std::vector<double>(1));
    for (size_t i = 0; i < n; ++i) xs[i][0] = (static_cast<double>(i) + rng.uniform()) / static_cast<double>(n);
    const Eigen::Index m = static_cast<Eigen::Index>(n);
    Eigen::MatrixXd k(m, m);
    const Eigen::VectorXd ls = Eigen::VectorXd::Constant(1, kTrueLength);
    for (Eigen::Index i = 0; i < m; ++i)
      for (Eigen::Index j = 0; j < m; ++j)
        k(i, j) = matern52(Eigen::VectorXd::Constant(1, xs[static_cast<size_t>(i)][0]),
                           Eigen::VectorXd::Constant(1, xs[static_cast<size_t>(j)][0]), ls, 1.0);
    k.diagonal().array() += 1e-8;
    const Eigen::MatrixXd l = k.llt().matrixL();
    Eigen::VectorXd z(m);
    for (Eigen::Index i = 0; i < m; ++i) z[i] = rng.normal();
    const Eigen::VectorXd f = l * z;
    GaussianProcess gp(1);
    gp.set_data(xs, std::vector<double>(f.data(), f.data() + m));
    gp.fit(9);
    const double fitted = gp.hyper().length_scales[0];
    EXPECT_NEAR(fitted, kTrueLength, kPathTolerance * kTrueLength) << "path " << path;
    EXPECT_LT(gp.hyper().noise_var, 1e-3) << "path " << path;
    log_sum += std::log(fitted);
  }
  EXPECT_NEAR(std::exp(log_sum / kPaths), kTrueLength, kMeanTolerance * kTrueLength);
}

// ARD: a dimension the function does not depend on gets a much longer length scale.
TEST(GaussianProcess, FitGivesIrrelevantDimensionLongLengthScale) {
  Rng rng(8);
  const auto xs = random_points(rng, 40, 2);
  std::vector<double> ys;
  for (const auto& x : xs) ys.push_back(std::sin(6 * x[0]));
  GaussianProcess gp(2);
  gp.set_data(xs, ys);
  gp.fit(4);
  EXPECT_GT(gp.hyper().length_scales[1], 4 * gp.hyper().length_scales[0]);
}

TEST(GaussianProcess, FitIsDeterministicAndRespectsBounds) {
  GpOptions o;
  o.length_scale_min = 0.3;
  o.length_scale_max = 0.6;
  o.noise_var_min = 1e-3;
  Rng rng(1);
  const auto xs = random_points(rng, 20, 2);
  std::vector<double> ys;
  for (const auto& x : xs) ys.push_back(std::sin(20 * x[0]) + x[1]);  // wants a short length scale
  GaussianProcess a(2, o), b(2, o);
  a.set_data(xs, ys);
  b.set_data(xs, ys);
  a.fit(77);
  b.fit(77);
  EXPECT_EQ(a.hyper().to_log(), b.hyper().to_log());
  for (Eigen::Index i = 0; i < 2; ++i) {
    EXPECT_GE(a.hyper().length_scales[i], 0.3 * (1 - 1e-9));
    EXPECT_LE(a.hyper().length_scales[i], 0.6 * (1 + 1e-9));
  }
  EXPECT_GE(a.hyper().noise_var, 1e-3 * (1 - 1e-9));
}

TEST(GaussianProcess, RoundsIntegerKnobsInsideTheKernel) {
  const Space s{{Knob::integer("k", 0, 10), Knob::real("r", 0.0, 1.0)}};
  GpOptions o;
  o.noise_var_min = o.noise_var_max = 1e-10;
  GaussianProcess gp(s, o);
  gp.set_data({{2, 0.1}, {5, 0.5}, {9, 0.9}}, {1.0, 3.0, 2.0});
  gp.fit(3);
  // 4.6 and 5.4 round to 5: same prediction as the training point, with ~zero variance.
  for (double k : {4.6, 5.0, 5.4}) {
    const GpPrediction p = gp.predict({k, 0.5});
    EXPECT_NEAR(p.mean, 3.0, 1e-6);
    EXPECT_LT(p.var, 1e-6);
  }
  EXPECT_EQ(gp.predict({6.49, 0.3}).mean, gp.predict({6.0, 0.3}).mean);
  // Outside the box: rounding clamps first.
  EXPECT_EQ(gp.predict({-3.0, 0.3}).mean, gp.predict({0.0, 0.3}).mean);
}

TEST(GaussianProcess, HandlesConstantOutputsAndSinglePoint) {
  GaussianProcess gp(1);
  gp.set_data({{0.5}}, {4.0});
  gp.fit(1);
  EXPECT_NEAR(gp.predict({0.5}).mean, 4.0, 1e-3);
  gp.set_data({{0.1}, {0.5}, {0.9}}, {2.0, 2.0, 2.0});
  gp.fit(1);
  EXPECT_NEAR(gp.predict({0.3}).mean, 2.0, 1e-9);
  EXPECT_TRUE(std::isfinite(gp.predict({0.3}).var));
}

TEST(GaussianProcess, RejectsBadDataAndOptions) {
  GaussianProcess gp(2);
  EXPECT_THROW(gp.set_data({{0.1, 0.2}}, {1.0, 2.0}), ValidationError);
  EXPECT_THROW(gp.set_data({{0.1, 0.2}}, {std::nan("")}), ValidationError);
  EXPECT_THROW(gp.set_data({{0.1}}, {1.0}), ValidationError);
  GpOptions o;
  o.noise_var_min = -1.0;
  try {
    GaussianProcess bad(2, o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("opt.gp.noise_var_min"), std::string::npos) << e.what();
  }
}

TEST(Lbfgs, MinimizesRosenbrock) {
  // Rosenbrock (ensmallen problems/): minimum 0 at (1, …, 1).
  const SmoothFunction rosen = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    double f = 0.0;
    g.setZero();
    for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
      const double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
      f += 100 * a * a + b * b;
      g[i] += -400 * a * x[i] - 2 * b;
      g[i + 1] += 200 * a;
    }
    return f;
  };
  LbfgsOptions o;
  o.max_iterations = 500;
  o.gradient_tolerance = 1e-8;
  o.value_tolerance = 0.0;
  const LbfgsResult r = minimize_lbfgs(rosen, Eigen::VectorXd::Constant(4, -1.2), o);
  EXPECT_LT(r.value, 1e-10);
  EXPECT_NEAR((r.x - Eigen::VectorXd::Ones(4)).norm(), 0.0, 1e-4);
}

TEST(Lbfgs, BacktracksOutOfNonFiniteRegions) {
  // f = x − log(x) has its minimum 1 at x = 1 and is +inf for x <= 0; a full step from 0.1 overshoots into it.
  const SmoothFunction f = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    if (x[0] <= 0) return std::numeric_limits<double>::infinity();
    g[0] = 1.0 - 1.0 / x[0];
    return x[0] - std::log(x[0]);
  };
  const LbfgsResult r = minimize_lbfgs(f, Eigen::VectorXd::Constant(1, 5.0));
  EXPECT_NEAR(r.x[0], 1.0, 1e-4);
}

}  // namespace
}  // namespace ftdla::opt
