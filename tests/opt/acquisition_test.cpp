// SPDX-License-Identifier: MIT
#include "ftdla/opt/acquisition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ftdla/core/stats.hpp"

namespace ftdla::opt {
namespace {

// E[max(best − Y, 0)], Y ~ N(mean, sd²), by composite Simpson on [mean − 12 sd, best] (the integrand
// vanishes below; the neglected tail mass is < 1e-32).
double ei_by_quadrature(double mean, double sd, double best) {
  const double lo = mean - 12 * sd;
  if (best <= lo) return 0.0;
  const int n = 20000;  // even
  const double h = (best - lo) / n;
  double s = 0.0;
  for (int i = 0; i <= n; ++i) {
    const double y = lo + i * h;
    const double w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    s += w * (best - y) * normal_pdf((y - mean) / sd) / sd;
  }
  return s * h / 3;
}

TEST(ExpectedImprovement, MatchesNumericalIntegration) {
  for (double mean : {-2.0, 0.0, 0.7, 3.0}) {
    for (double sd : {0.01, 0.3, 1.0, 4.0}) {
      for (double best : {-1.0, 0.0, 0.5, 2.0}) {
        const double ei = expected_improvement({mean, sd}, best);
        const double q = ei_by_quadrature(mean, sd, best);
        EXPECT_NEAR(ei, q, 1e-9 * std::max(1.0, q)) << mean << " " << sd << " " << best;
        EXPECT_GE(ei, 0.0);
        EXPECT_GE(ei, std::max(best - mean, 0.0) - 1e-12);  // Jensen: EI >= improvement of the mean
      }
    }
  }
}

TEST(ExpectedImprovement, EqualsImprovementWhenSdIsZero) {
  EXPECT_EQ(expected_improvement({1.0, 0.0}, 3.0), 2.0);
  EXPECT_EQ(expected_improvement({3.0, 0.0}, 1.0), 0.0);
  EXPECT_EQ(expected_improvement({1.0, 0.0}, 1.0), 0.0);
  EXPECT_EQ(log_expected_improvement({3.0, 0.0}, 1.0), -INFINITY);
  EXPECT_DOUBLE_EQ(log_expected_improvement({1.0, 0.0}, 3.0), std::log(2.0));
  // Continuity: sd → 0 approaches the improvement.
  EXPECT_NEAR(expected_improvement({1.0, 1e-9}, 3.0), 2.0, 1e-12);
  EXPECT_NEAR(expected_improvement({3.0, 1e-9}, 1.0), 0.0, 1e-300);
}

TEST(ExpectedImprovement, LogFormAgreesAndStaysFiniteInTheTail) {
  // Where EI is representable the log form equals log EI.
  for (double u = -30.0; u <= 8.0; u += 0.25) {
    const double ei = expected_improvement({0.0, 2.0}, 2.0 * u);
    const double lei = log_expected_improvement({0.0, 2.0}, 2.0 * u);
    if (ei > 1e-300) {
      EXPECT_NEAR(lei, std::log(ei), 1e-10 * std::max(1.0, std::abs(lei))) << u;
    }
  }
  // Far tail: finite, strictly increasing in best, ~ log sd − u²/2 − ½log 2π − 2 log|u| (Mills ratio).
  double prev = -INFINITY;
  for (double u = -1e4; u <= -40; u *= 0.5) {
    const double lei = log_expected_improvement({0.0, 1.0}, u);
    ASSERT_TRUE(std::isfinite(lei)) << u;
    EXPECT_GT(lei, prev);
    prev = lei;
    const double asym = -0.5 * u * u - 0.5 * std::log(2 * M_PI) - 2 * std::log(-u);
    EXPECT_NEAR(lei, asym, 3.0 / (u * u) + 1e-12 * std::abs(asym)) << u;
  }
}

TEST(LogNormalCdf, MatchesLogOfCdfAndTailAsymptotics) {
  for (double z = -37.0; z <= 8.0; z += 0.125) {
    EXPECT_NEAR(log_normal_cdf(z), std::log(normal_cdf(z)), 1e-11 * std::max(1.0, std::abs(std::log(normal_cdf(z)))))
        << z;
  }
  // Beyond erfc's range: log Φ(z) ≈ −z²/2 − log(−z) − ½ log 2π.
  for (double z : {-50.0, -200.0, -1e5}) {
    EXPECT_NEAR(log_normal_cdf(z), -0.5 * z * z - std::log(-z) - 0.5 * std::log(2 * M_PI), 2.0 / (z * z));
  }
  EXPECT_NEAR(log_normal_cdf(10.0), -7.619853024160527e-24, 1e-36);  // log1p(−Φ(−10))
}

TEST(ProbabilityOfFeasibility, IsNormalCdfAndDeterministicWhenSdIsZero) {
  EXPECT_DOUBLE_EQ(probability_of_feasibility({0.0, 1.0}), 0.5);
  EXPECT_DOUBLE_EQ(probability_of_feasibility({-1.0, 0.5}), normal_cdf(2.0));
  EXPECT_EQ(probability_of_feasibility({0.0, 0.0}), 1.0);  // c <= 0 is feasible
  EXPECT_EQ(probability_of_feasibility({-1.0, 0.0}), 1.0);
  EXPECT_EQ(probability_of_feasibility({1e-12, 0.0}), 0.0);
  EXPECT_EQ(log_probability_of_feasibility({1e-12, 0.0}), -INFINITY);
  EXPECT_TRUE(std::isfinite(log_probability_of_feasibility({100.0, 1.0})));
}

TEST(ConstrainedExpectedImprovement, IsEiTimesProductOfPofAndAtMostEi) {
  const Belief f{0.4, 0.5};
  const std::vector<Belief> cs{{-0.2, 0.3}, {0.1, 1.0}, {-5.0, 0.0}};
  const double ei = expected_improvement(f, 0.6);
  double pof = 1.0;
  for (const Belief& c : cs) pof *= probability_of_feasibility(c);
  const double cei = constrained_expected_improvement(f, cs, 0.6);
  EXPECT_NEAR(cei, ei * pof, 1e-14);
  EXPECT_LE(cei, ei);
  for (double m = -3; m <= 3; m += 0.5) {
    const std::vector<Belief> one{{m, 0.7}};
    EXPECT_LE(constrained_expected_improvement(f, one, 0.6), ei);
  }
  // A known-violated (cheap) constraint gives exactly 0 / −inf.
  const std::vector<Belief> violated{{0.5, 0.0}};
  EXPECT_EQ(constrained_expected_improvement(f, violated, 0.6), 0.0);
  EXPECT_EQ(log_constrained_expected_improvement(f, violated, 0.6), -INFINITY);
  // No constraints: plain EI.
  EXPECT_DOUBLE_EQ(constrained_expected_improvement(f, {}, 0.6), ei);
}

TEST(ConstrainedExpectedImprovement, WithoutIncumbentIsProductOfPof) {
  const std::vector<Belief> cs{{-0.2, 0.3}, {0.1, 1.0}};
  const double pof = probability_of_feasibility(cs[0]) * probability_of_feasibility(cs[1]);
  EXPECT_NEAR(constrained_expected_improvement({100.0, 1.0}, cs, std::nullopt), pof, 1e-15);
  EXPECT_NEAR(log_constrained_expected_improvement({100.0, 1.0}, cs, std::nullopt), std::log(pof), 1e-14);
}

}  // namespace
}  // namespace ftdla::opt
