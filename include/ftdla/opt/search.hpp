// SPDX-License-Identifier: MIT
// Searchers over a Problem with a common interface: constrained Bayesian optimization, random search and
// grid search. All are deterministic for a seed and never evaluate the same rounded point twice.
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ftdla/opt/gaussian_process.hpp"
#include "ftdla/opt/problem.hpp"

namespace ftdla::opt {

/// Why a search ended.
enum class StopReason {
  Budget,      ///< SearchOptions::budget evaluations done
  Stagnation,  ///< SearchOptions::stagnation evaluations in a row without improving the best feasible objective
  Exhausted,   ///< every point of the finite space was evaluated (or screened out)
  NoCandidate, ///< no unevaluated point can improve: every remaining lattice point has acquisition 0
               ///< (cheap objective cannot beat the incumbent, or a cheap constraint is violated), or
               ///< random sampling found no new admissible point
};
/// "budget", "stagnation", "exhausted", "no_candidate".
const char* to_string(StopReason reason);

/// How a trial's point was chosen.
enum class TrialSource {
  Initial,  ///< BO space-filling initial design
  Model,    ///< BO acquisition maximum
  Random,   ///< random search, or BO's random fallback when the sampled acquisition is 0 everywhere
  Grid,     ///< grid search
};
/// "initial", "model", "random", "grid".
const char* to_string(TrialSource source);

/// One full evaluation.
struct Trial {
  size_t index = 0;              ///< 0-based position in SearchResult::history
  std::vector<double> x;         ///< the evaluated (rounded, valid) point
  Outcome outcome;
  bool feasible = false;         ///< every constraint <= 0
  TrialSource source = TrialSource::Random;
  /// log of the acquisition value that chose the point (log cEI, or Σ log PoF before a feasible point
  /// exists); NaN unless source == Model.
  double log_acquisition = std::numeric_limits<double>::quiet_NaN();
};

struct SearchResult {
  std::vector<Trial> history;           ///< in evaluation order
  std::optional<size_t> best;           ///< index of the best feasible trial (lowest objective, ties -> earliest)
  StopReason stop_reason = StopReason::Budget;
  uint64_t seed = 0;                    ///< SearchOptions::seed used
  size_t screened = 0;                  ///< points skipped without evaluation because a cheap constraint failed
  /// The best feasible trial, or nullptr.
  const Trial* best_trial() const { return best ? &history[*best] : nullptr; }
};

/// Called after every evaluation with the new trial and the result so far (history includes the trial,
/// best is updated). Exceptions thrown by it propagate out of the searcher.
using SearchCallback = std::function<void(const Trial& trial, const SearchResult& so_far)>;

/// Options shared by the searchers (JSON section "opt"). Defaults live here only.
struct SearchOptions {
  size_t budget = 40;           ///< maximum number of full evaluations (>= 1)
  /// BO only: space-filling initial points (Latin hypercube, rounded, deduplicated) before the model is
  /// used; 0 = automatic, min(budget, max(10, 2(d+1))). Must not exceed budget.
  size_t initial = 0;
  uint64_t seed = 0;            ///< every random choice derives from it
  /// Stop after this many evaluations in a row that do not improve the best feasible objective (the
  /// first feasible point counts as an improvement); counted from the start but, for BO, only checked
  /// once the initial design is done. 0 = off.
  size_t stagnation = 0;
  /// Skip points that violate a cheap constraint (Problem::constraint_is_cheap) without evaluating them:
  /// they are known infeasible. Skipped points are not in the history and do not use budget.
  bool screen_cheap = true;
  /// BO only: when the space is a lattice of at most this many points, the acquisition is scored on every
  /// unevaluated lattice point; otherwise on random candidates + local neighbour search. In [1, 5e6].
  uint64_t exhaustive_limit = 50'000;
  size_t candidates = 2'000;    ///< BO only: random candidates per iteration when not exhaustive (>= 1)
  /// BO only: every refit_every-th model step (and the first) fits the GP hyperparameters from
  /// gp.restarts starts; the steps in between only refine the previous fit (one L-BFGS start, several
  /// times cheaper). 1 = full fit at every step (>= 1).
  size_t refit_every = 5;
  GpOptions gp;                 ///< BO only: GP fitting (restarts, noise bounds, jitter)
  /// BO only: points evaluated first, in order (rounded; repeats and points failing a cheap constraint
  /// skipped), before the space-filling design; they count toward the budget.
  std::vector<std::vector<double>> warm_start;

  /// Problems found, each "opt.<field>: what (got X)"; empty when valid.
  std::vector<std::string> problems() const;
  /// Throws ConfigError listing every problem.
  void validate() const;
  /// Effective number of initial points for a d-dimensional space (see `initial`).
  size_t initial_points(size_t dimension) const;
};

/// Constrained Bayesian optimization: a Latin-hypercube initial
/// design, then at each step independent GPs (gaussian_process.hpp) for the objective and each constraint
/// that is not cheap, refit by marginal likelihood, and the next point maximizes
/// log cEI = log EI(best feasible) + Σ log PoF (acquisition.hpp), using cheap outputs exactly; before any
/// feasible point exists it maximizes Σ log PoF. The acquisition is maximized over every unevaluated
/// lattice point when the lattice has <= exhaustive_limit points, else over random candidates plus
/// perturbations of the best trials refined by a neighbour hill-climb; points are rounded to the space.
/// Throws ConfigError for invalid options or space, EvaluationError for NaN/inf outcomes or a wrong
/// number of constraints (message shows the point).
SearchResult bayes_optimize(Problem& problem, const SearchOptions& options, const SearchCallback& callback = {});

/// Uniform random search over the rounded space (Space::from_uniform). On a finite lattice points are
/// drawn without replacement (stops with Exhausted when all are used); in a space with real knobs a point
/// equal to an earlier one is redrawn. Throws like bayes_optimize.
SearchResult random_search(Problem& problem, const SearchOptions& options, const SearchCallback& callback = {});

/// Exhaustive grid search: every lattice point in Space::lattice_point order (last knob fastest), up to
/// the budget. Gives the ground-truth optimum when budget >= lattice size. Throws ConfigError when a knob
/// is real, otherwise like bayes_optimize.
SearchResult grid_search(Problem& problem, const SearchOptions& options, const SearchCallback& callback = {});

}  // namespace ftdla::opt
