// SPDX-License-Identifier: MIT
// The black-box problem the searchers minimize: a design space, one objective and inequality
// constraints c_k(x) <= 0, some of which may be cheap (analytic) to compute.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ftdla/core/error.hpp"
#include "ftdla/opt/space.hpp"

namespace ftdla::opt {

/// Result of evaluating one point. Feasible iff every constraint is <= 0, unless the problem decides
/// feasibility itself (sampled constraints judged on confidence bounds).
struct Outcome {
  Outcome() = default;
  Outcome(double objective_value, std::vector<double> constraint_values, std::vector<double> noise = {},
          std::optional<bool> verdict = std::nullopt)
      : objective(objective_value), constraints(std::move(constraint_values)), constraint_noise(std::move(noise)),
        feasible(verdict) {}
  double objective = 0.0;           ///< minimized
  std::vector<double> constraints;  ///< c_k(x), one per Problem::num_constraints(); <= 0 means satisfied
  /// Observation noise variance of each constraint value (a sampled estimate's squared standard
  /// error); empty = exact. The constraint GPs take it as that observation's own noise.
  std::vector<double> constraint_noise;
  /// The problem's own verdict; when set it overrides the signs of `constraints`.
  std::optional<bool> feasible;
};

/// The problem's verdict if given, else true iff every constraint is <= 0 (none: feasible).
bool is_feasible(const Outcome& outcome);

/// An evaluation returned something unusable (NaN/inf value, wrong number of constraints). The message
/// names the searcher, the evaluation number and the offending point.
class EvaluationError : public ftdla::Error {
 public:
  using ftdla::Error::Error;
};

/// A minimization problem over a Space. Implementations own the meaning of x; the searchers only see
/// numbers. evaluate() may be expensive (a fault-injection campaign) and is called at most once per
/// distinct rounded point by every searcher.
class Problem {
 public:
  virtual ~Problem() = default;
  /// The design space; must stay the same during a search.
  virtual const Space& space() const = 0;
  /// Number of constraints k (0 allowed).
  virtual size_t num_constraints() const = 0;
  /// True when the objective can be computed by evaluate_cheap() (analytic, deterministic). BO then uses
  /// its value directly instead of modelling it with a GP.
  virtual bool objective_is_cheap() const { return false; }
  /// True when constraint `index` can be computed by evaluate_cheap(); BO then uses its 0/1 feasibility
  /// directly, and the searchers can skip points it rules out (SearchOptions::screen_cheap).
  virtual bool constraint_is_cheap(size_t /*index*/) const { return false; }
  /// The cheap outputs at a valid point x; only the entries declared cheap are read (the others may hold
  /// anything, e.g. 0). Must agree with evaluate() on those entries. Default: throws UnsupportedError.
  virtual Outcome evaluate_cheap(const std::vector<double>& x) const;
  /// The full (expensive) evaluation at a valid (rounded) point x. The objective must be meaningful at
  /// infeasible points too (BO models it everywhere); NaN/inf values are rejected with EvaluationError.
  virtual Outcome evaluate(const std::vector<double>& x) = 0;
};

}  // namespace ftdla::opt
