// SPDX-License-Identifier: MIT
#include "ftdla/opt/acquisition.hpp"

#include <cmath>
#include <limits>

#include "ftdla/core/error.hpp"
#include "ftdla/core/stats.hpp"

namespace ftdla::opt {
namespace {

constexpr double kHalfLog2Pi = 0.9189385332046727;  // ½ log 2π
constexpr double kInf = std::numeric_limits<double>::infinity();
// Below this u (or z) the direct formulas lose more than ~2 digits to cancellation / underflow.
constexpr double kTail = -5.0;
// Above this t the asymptotic series of the Mills ratio is exact to double precision (next term ~ 1e-14).
constexpr double kAsymptotic = 100.0;

// Mills ratio R(t) = Φ(−t)/φ(t) for t >= 5 (Abramowitz & Stegun 26.2.14, continued fraction
// R(t) = 1/(t + 1/(t + 2/(t + 3/(t + …)))), evaluated backwards; 60 terms converge for t >= 5).
double mills_ratio(double t) {
  if (t > kAsymptotic) {
    const double s = 1.0 / (t * t);
    return (1.0 - s * (1.0 - 3.0 * s * (1.0 - 5.0 * s))) / t;
  }
  double f = t;
  for (int k = 60; k >= 1; --k) f = t + k / f;
  return 1.0 / f;
}

// log h(u), h(u) = φ(u) + u Φ(u) > 0 (EI / sd).
double log_h(double u) {
  if (u > kTail) return std::log(normal_pdf(u) + u * normal_cdf(u));
  // u <= −5, t = −u: h(u) = φ(t)(1 − t R(t)); for large t use 1 − tR(t) = 1/t² − 3/t⁴ + 15/t⁶ − 105/t⁸ …
  const double t = -u;
  double tail;
  if (t > kAsymptotic) {
    const double s = 1.0 / (t * t);
    tail = s * (1.0 - s * (3.0 - s * (15.0 - 105.0 * s)));
  } else {
    tail = 1.0 - t * mills_ratio(t);
  }
  return -0.5 * u * u - kHalfLog2Pi + std::log(tail);
}

void check(const Belief& b, const char* where) {
  if (!std::isfinite(b.mean) || !std::isfinite(b.sd) || b.sd < 0.0) {
    throw InternalError(std::string(where) + ": belief must have finite mean and finite sd >= 0");
  }
}

}  // namespace

double log_normal_cdf(double z) {
  if (z > 0.0) return std::log1p(-normal_cdf(-z));
  if (z > kTail) return std::log(normal_cdf(z));
  return -0.5 * z * z - kHalfLog2Pi + std::log(mills_ratio(-z));
}

double expected_improvement(const Belief& y, double best) {
  check(y, "expected_improvement()");
  if (y.sd == 0.0) return std::max(best - y.mean, 0.0);  // known value: plain improvement
  const double u = (best - y.mean) / y.sd;
  if (u > kTail) return std::max(0.0, y.sd * (u * normal_cdf(u) + normal_pdf(u)));
  return std::exp(log_expected_improvement(y, best));
}

double log_expected_improvement(const Belief& y, double best) {
  check(y, "log_expected_improvement()");
  if (y.sd == 0.0) return best > y.mean ? std::log(best - y.mean) : -kInf;
  return std::log(y.sd) + log_h((best - y.mean) / y.sd);
}

double probability_of_feasibility(const Belief& c) {
  check(c, "probability_of_feasibility()");
  if (c.sd == 0.0) return c.mean <= 0.0 ? 1.0 : 0.0;  // known value: feasible or not
  return normal_cdf(-c.mean / c.sd);
}

double log_probability_of_feasibility(const Belief& c) {
  check(c, "log_probability_of_feasibility()");
  if (c.sd == 0.0) return c.mean <= 0.0 ? 0.0 : -kInf;
  return log_normal_cdf(-c.mean / c.sd);
}

double log_constrained_expected_improvement(const Belief& objective, std::span<const Belief> constraints,
                                            std::optional<double> best_feasible) {
  double s = 0.0;
  for (const Belief& c : constraints) s += log_probability_of_feasibility(c);
  if (!best_feasible || s == -kInf) return s;
  return log_expected_improvement(objective, *best_feasible) + s;
}

double constrained_expected_improvement(const Belief& objective, std::span<const Belief> constraints,
                                        std::optional<double> best_feasible) {
  return std::exp(log_constrained_expected_improvement(objective, constraints, best_feasible));
}

}  // namespace ftdla::opt
