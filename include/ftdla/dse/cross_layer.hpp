// SPDX-License-Identifier: MIT
// The cross-layer design problem handed to opt/: knobs (k, protected fraction f, TMR lanes U, hardened
// bits h) decoded into a DesignPoint, objective = hardware overhead (analytic), constraints = clean
// accuracy and accuracy under faults (fault injection) and latency (analytic). Also the reference
// designs and the best single-layer designs the cross-layer result is compared with.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ftdla/dse/evaluator.hpp"
#include "ftdla/opt/search.hpp"

namespace ftdla::dse {

/// The design space. Defaults: k in {3..8} (8 = A: unconstrained), f in {0, 1, 2, 5, 10, 20, 40}%,
/// U in {1, 2, 4, 8, 16, 32}, h in [0, 8]: 6 x 7 x 6 x 9 = 2268 points.
struct SpaceSpec {
  std::vector<int> k = {3, 4, 5, 6, 7, 8};
  std::vector<double> fraction = {0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4};
  std::vector<int> lanes = {1, 2, 4, 8, 16, 32};
  int harden_min = 0, harden_max = 8;
  bool per_layer_k = false;   ///< one k knob per compute layer instead of a global one
  protect::AccelPoint accel;  ///< the accelerator every design runs on
  void validate() const;      ///< throws ConfigError ("space.k: ...")
};
nlohmann::json to_json(const SpaceSpec& s);
/// Keys: k, fraction, lanes (arrays), harden_min, harden_max, per_layer_k, accel (object as in a design).
SpaceSpec parse_space(const nlohmann::json& j, SpaceSpec base = {});

enum class Objective { Area, Energy, AreaEnergy };
const char* objective_name(Objective o);
Objective parse_objective(const std::string& s);
/// The minimized value: area overhead, energy overhead, or (1 + area)(1 + energy) - 1.
double objective_value(Objective o, const cost::Overheads& ov);

class CrossLayerProblem : public opt::Problem {
 public:
  CrossLayerProblem(Evaluator& ev, SpaceSpec spec, Objective obj, std::vector<std::string> layer_names);
  const opt::Space& space() const override { return space_; }
  size_t num_constraints() const override { return 3; }
  bool objective_is_cheap() const override { return true; }
  bool constraint_is_cheap(size_t i) const override { return i == 2; }
  opt::Outcome evaluate_cheap(const std::vector<double>& x) const override;
  opt::Outcome evaluate(const std::vector<double>& x) override;

  protect::DesignPoint decode(const std::vector<double>& x) const;
  std::vector<double> encode(const protect::DesignPoint& d) const;
  /// The full evaluation of every point evaluated so far, in order.
  const std::vector<Evaluation>& evaluations() const { return evals_; }
  std::function<void(const Evaluation&)> on_evaluation;

 private:
  Evaluator& ev_;
  SpaceSpec spec_;
  Objective obj_;
  std::vector<std::string> layers_;
  opt::Space space_;
  /// The architecture knob: index into (f, U) pairs, (0, 0) first, then f > 0 by f then U, so that
  /// designs without a hybrid unit are one point, not one per U value.
  std::vector<std::pair<double, int>> arch_;
  std::vector<Evaluation> evals_;
};

struct Baselines {
  Evaluation unprotected, full_tmr;
  Evaluation algorithm_only, architecture_only, circuit_only;  ///< cheapest feasible of each subspace
};

/// Cheapest feasible design among `candidates`: evaluated in increasing objective order (ties: given
/// order), skipping latency-infeasible ones, until the first feasible one. If none is feasible, the
/// evaluated candidate with the highest accuracy under faults (feasible = false).
Evaluation cheapest_feasible(Evaluator& ev, Objective obj, std::vector<protect::DesignPoint> candidates,
                             const std::function<void(const Evaluation&)>& on_eval = {});

/// Reference designs and the single-layer bests over the space's values of each knob.
Baselines evaluate_baselines(Evaluator& ev, const SpaceSpec& spec, Objective obj,
                             const std::function<void(const std::string& label, const Evaluation&)>& on_eval = {});

enum class Method { Bo, Random, Grid };
Method parse_method(const std::string& s);

struct OptimizeResult {
  opt::SearchResult search;
  std::vector<Evaluation> history;  ///< one per search evaluation (same order as search.history)
  std::optional<Evaluation> best;
};

/// Run the search; BO is warm-started with the feasible single-layer bests (so its result can only be
/// as cheap or cheaper than theirs).
OptimizeResult optimize(Evaluator& ev, const SpaceSpec& spec, Objective obj, Method m, opt::SearchOptions so,
                        const std::vector<std::string>& layer_names, const Baselines* warm = nullptr,
                        const std::function<void(const Evaluation&, const opt::Trial&, const opt::SearchResult&)>& on_eval = {});

}  // namespace ftdla::dse
