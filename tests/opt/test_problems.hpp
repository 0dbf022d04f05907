// SPDX-License-Identifier: MIT
// Small problems for the opt/ tests, each with its documented optimum.
#pragma once
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "ftdla/opt/problem.hpp"

namespace ftdla::opt::testing {

/// A Problem made of lambdas. `cheap` (optional) supplies the cheap outputs; the flags say which are cheap.
class FunctionProblem : public Problem {
 public:
  using Fn = std::function<Outcome(const std::vector<double>&)>;
  FunctionProblem(Space space, size_t num_constraints, Fn full) : space_(std::move(space)), k_(num_constraints),
                                                                  full_(std::move(full)) {}
  const Space& space() const override { return space_; }
  size_t num_constraints() const override { return k_; }
  bool objective_is_cheap() const override { return cheap_objective; }
  bool constraint_is_cheap(size_t i) const override { return i < cheap_constraint.size() && cheap_constraint[i]; }
  Outcome evaluate_cheap(const std::vector<double>& x) const override {
    if (!cheap_) return Problem::evaluate_cheap(x);
    return cheap_(x);
  }
  Outcome evaluate(const std::vector<double>& x) override {
    ++evaluations;
    return full_(x);
  }
  void set_cheap(Fn cheap) { cheap_ = std::move(cheap); }

  bool cheap_objective = false;
  std::vector<bool> cheap_constraint;
  int evaluations = 0;

 private:
  Space space_;
  size_t k_;
  Fn full_;
  Fn cheap_;
};

/// Constrained 2-D integer problem on the 20 x 20 lattice x1, x2 in {0, …, 19}, u = x1/19, v = x2/19:
///   minimize f = (u − 0.3)² + 2 (v − 0.25)²   subject to   c = 0.8 − u² − v − 0.2 sin(6u + 2v) <= 0.
/// The unconstrained minimum (u, v) = (0.3, 0.25) is infeasible; 191 of 400 points are feasible.
/// Optimum (by enumeration, also checked by grid_search in the tests): x = (15, 7), f = 0.267631578947...,
/// c = −0.0469; the runner-up (14, 9) has f = 0.29090 (8.7 % worse).
/// `cheap_objective` declares f analytic (evaluate_cheap), as cost is in the DSE; c is always expensive.
class KnownAnswerLattice : public FunctionProblem {
 public:
  static constexpr double kOptimum = 0.26763157894736844;
  static inline const std::vector<double> kArgmin{15.0, 7.0};

  explicit KnownAnswerLattice(bool cheap_objective_flag)
      : FunctionProblem(Space{{Knob::integer("x1", 0, 19), Knob::integer("x2", 0, 19)}}, 1, &outcome) {
    cheap_objective = cheap_objective_flag;
    set_cheap([](const std::vector<double>& x) { return Outcome{outcome(x).objective, {0.0}}; });
  }
  static Outcome outcome(const std::vector<double>& x) {
    const double u = x[0] / 19.0, v = x[1] / 19.0;
    return Outcome{(u - 0.3) * (u - 0.3) + 2.0 * (v - 0.25) * (v - 0.25),
                   {0.8 - u * u - v - 0.2 * std::sin(6.0 * u + 2.0 * v)}};
  }
};

}  // namespace ftdla::opt::testing
