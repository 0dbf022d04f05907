// SPDX-License-Identifier: MIT
// The cross-layer evaluation of one design point: clean accuracy of its (range-constrained) quantized
// model, accuracy and SDC under the fault environment with its protection applied inside fault injection,
// and its area / energy / latency with overheads over the unprotected design. Expensive parts are cached
// in memory (per quantization + array) and on disk (per design, fault environment and seed), so repeated
// evaluations, also across runs, are free.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ftdla/core/decision.hpp"
#include "ftdla/cost/component_table.hpp"
#include "ftdla/cost/design_cost.hpp"
#include "ftdla/cost/synth_cost.hpp"
#include "ftdla/data/dataset.hpp"
#include "ftdla/fault/campaign.hpp"
#include "ftdla/model/graph.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ftdla/protect/design.hpp"
#include "ftdla/protect/plan.hpp"

namespace ftdla::dse {

/// The fault environment and how precisely it is measured. Defaults: transient flips of the output
/// neuron registers at BER 2e-3 per bit per inference (an accelerated-test rate at which the unprotected
/// LeNet-5 loses about 10 points). Each evaluation injects adaptively: `trials` faulty inferences first,
/// doubling until the reliability constraint is decided at `risk` or `max_trials` is reached; trial t
/// uses fault image t mod fault_images, so images are used once each before any is reused.
struct Environment {
  fault::Site site = fault::Site::Neuron;
  double ber = 2e-3;          ///< in [0, 1]
  int64_t trials = 250;       ///< faulty inferences at the first look, >= 1
  int64_t max_trials = 8000;  ///< cap on faulty inferences per evaluation, >= trials
  double risk = 0.05;         ///< probability of a wrong feasible / infeasible call per constraint, (0, 0.5)
  int64_t fault_images = 5000;///< test images for fault injection, >= 1 (capped by the test set)
  int64_t eval_images = 10000;///< test images for clean accuracy, >= 1 (capped by the test set)
  int64_t vuln_samples = 300; ///< injections per channel for the VF ranking that picks protected channels
  uint64_t seed = 1;
  /// Bound on the memory of the golden runs of all quantization + array contexts together (--max-memory):
  /// their registers are stored while they fit in half of it, later contexts recompute them per image.
  /// How results are computed, not what they are: not in to_json() or the cache key.
  int64_t max_memory = fault::kDefaultMaxMemory;
  void validate() const;      ///< throws ConfigError naming the key ("env.ber: ...")
  /// The sequential test of the reliability constraint (risk, trials, max_trials).
  SequentialTest test() const { return {risk, trials, max_trials}; }
};
/// The keys that determine results (not max_memory).
nlohmann::json to_json(const Environment& e);
/// Keys: site, ber, trials, max_trials, risk, fault_images, eval_images, vuln_samples, seed (unknown keys
/// rejected).
Environment parse_environment(const nlohmann::json& j, Environment base = {});

/// The user's constraints. Defaults: clean accuracy may drop at most 1 point below the unprotected int8
/// model (on the eval images); accuracy under faults must stay within 1 point of the unprotected model's
/// clean accuracy on the same fault-injection images; latency may grow 5%.
struct Constraints {
  double max_accuracy_drop = 0.01;      ///< clean accuracy >= baseline - this, in [0, 1]
  double max_faulty_drop = 0.01;        ///< faulty accuracy >= baseline - this, in [0, 1] (if min_faulty_accuracy < 0)
  double min_faulty_accuracy = -1.0;    ///< absolute reliability target in [0, 1]; < 0 = use max_faulty_drop
  double max_latency_overhead = 0.05;   ///< latency <= (1 + this) * unprotected latency, >= 0
  void validate() const;
};
nlohmann::json to_json(const Constraints& c);
Constraints parse_constraints(const nlohmann::json& j, Constraints base = {});

/// How a sampled constraint came out (see core/decision.hpp): each is judged on a one-sided bound at the
/// environment's risk, never on the point estimate.
struct Evaluation {
  protect::DesignPoint design;
  double clean_accuracy = 0.0;     ///< on the eval images
  double golden_fault_accuracy = 0.0;  ///< this design's clean accuracy on the images the campaign used
  double faulty_accuracy = 0.0;
  /// Accuracy under faults with a 95% interval over fault draws and images (cluster-robust); sdc with a
  /// 95% Wilson interval (conditional on the images).
  RateEstimate faulty, sdc;
  int64_t injections = 0;          ///< faulty inferences this evaluation used
  int64_t images = 0;              ///< distinct fault images they ran on
  /// Paired differences against the unprotected design on the same images: clean accuracy on the eval
  /// images, and accuracy under faults minus the unprotected golden accuracy (relative target); with an
  /// absolute target, reliability holds the accuracy under faults itself.
  MeanEstimate clean_diff, reliability;
  double clean_target = 0.0;       ///< the clean accuracy required (baseline - max_accuracy_drop)
  double reliability_target = 0.0; ///< the accuracy under faults required, on exactly the images used
  Verdict clean_verdict = Verdict::Undecided, reliability_verdict = Verdict::Undecided;
  double area_um2 = 0.0, energy_pj = 0.0;
  int64_t latency_cycles = 0;
  cost::CostReport cost;           ///< the full price (breakdown, pe_area_um2, clock_ns, latency_ns, cost_source)
  cost::Overheads overheads;       ///< vs the unprotected design on the same accelerator
  double protected_fraction = 0.0; ///< MACs on the TMR unit
  bool feasible = false;           ///< every constraint satisfied (decided, not just estimated)
  std::string decision;            ///< "feasible", "infeasible" (a constraint violated) or "undecided"
  std::vector<std::string> violated;   ///< constraints decided violated
  std::vector<std::string> undecided;  ///< constraints still undecided at max_trials (count as infeasible)
  bool cached = false;
  double seconds = 0.0;
};
nlohmann::json to_json(const Evaluation& e);

/// The measured figures of `e` (accuracies, estimates, intervals, injections, images) from stored metrics:
/// what Evaluator::measure() returns and the evaluation cache holds. Throws ImportError naming `where`
/// for metrics that lack a figure or hold one of the wrong type or range.
void apply_metrics(const nlohmann::json& m, Evaluation& e, const std::string& where = "metrics");
/// One line of an evaluation cache file (JSON lines {"key": ..., "metrics": ...}): the key and metrics, or
/// nothing for a torn, malformed or implausible line (that design is measured again). Never throws.
std::optional<std::pair<std::string, nlohmann::json>> parse_cache_line(const std::string& line,
                                                                      const std::string& path);

/// Cost-only view (no fault injection): what BO may use directly.
struct CheapEvaluation {
  cost::CostReport cost;
  cost::Overheads overheads;
  bool latency_ok = true;
};

class Evaluator {
 public:
  /// `model_id` identifies the model bytes in the disk cache; `cache_path` empty = memory only.
  Evaluator(const model::Graph& g, const data::Dataset& test, const data::Dataset& calib, quant::QuantOptions base,
            Environment env, Constraints cons, cost::ComponentTable table, std::string model_id,
            std::string cache_path = "");
  ~Evaluator();

  Evaluation evaluate(const protect::DesignPoint& d);
  CheapEvaluation cheap(const protect::DesignPoint& d);
  /// Clean accuracy of the unprotected int8 design on `accel` (the accuracy baseline), on the eval images.
  double baseline_accuracy(const protect::AccelPoint& accel);
  /// The same model's clean accuracy on the fault-injection images (the reliability baseline).
  double baseline_fault_accuracy(const protect::AccelPoint& accel);
  /// The accuracy under faults a design must reach.
  double reliability_target(const protect::AccelPoint& accel);
  /// Constraint values from the point estimates (<= 0: estimate meets it): accuracy, reliability,
  /// latency. Feasibility is Evaluation::feasible, decided on intervals; these feed the GP models.
  std::vector<double> constraint_values(const Evaluation& e);
  /// Variance of each constraint value (the squared standard errors; latency is exact: 0).
  std::vector<double> constraint_noise(const Evaluation& e) const;
  /// The channel ranking fraction designs on `accel` use: one per accelerator, measured on first use on
  /// the unconstrained model and shared by every k.
  std::vector<protect::ChannelScore> channel_scores(const protect::AccelPoint& accel);
  /// Use `scores` for `accel` instead of measuring them: an independent validation evaluates the very
  /// design (the same protected channels) that the search chose.
  void use_channel_scores(const protect::AccelPoint& accel, std::vector<protect::ChannelScore> scores);
  /// Faulty inferences run by evaluate() so far (cache hits excluded).
  int64_t injections() const { return injections_; }
  const Environment& environment() const { return env_; }
  const Constraints& constraints() const { return cons_; }
  int64_t evaluations() const { return evaluations_; }
  int64_t cache_hits() const { return cache_hits_; }
  /// Resuming an interrupted run: the metrics it measured (cache key -> metrics, as measured() returns),
  /// served as if measured now (counted in evaluations() and injections(), not cached), so that the
  /// resumed run reports exactly what an uninterrupted one would. They take precedence over the disk
  /// cache (which holds them too when the run used one). Throws ImportError naming `where` on a record
  /// measure() cannot have written.
  void replay(const nlohmann::json& measurements, const std::string& where);
  /// Every metrics record measured (or replayed) by this evaluator, by cache key: what a resumed run needs.
  const nlohmann::json& measured() const { return measured_; }
  /// Evaluations served from replay() so far.
  int64_t replayed() const { return replayed_; }
  /// True when every golden set built so far stores its registers (none built: true).
  bool golden_stored() const;
  /// Bytes of golden registers stored over all contexts (at most environment().max_memory / 2).
  int64_t golden_bytes() const;
  /// Price designs by synthesis (cost/synth_cost.hpp) instead of the component table; the PE's port
  /// activity is measured per quantization on the first cost::kOperandActivityImages test images.
  void use_synthesized_costs(std::shared_ptr<const cost::SynthesizedCostModel> model) { synth_ = std::move(model); }
  /// Where costs come from: the synthesis flow's cost_source, or "table".
  std::string cost_source() const { return synth_ ? synth_->tools().cost_source() : "table"; }

 private:
  struct Context;
  Context& context(const protect::DesignPoint& d);
  const std::vector<protect::ChannelScore>& scores(Context& c);
  protect::ProtectionPlan plan(const protect::DesignPoint& d, Context& c);
  CheapEvaluation cheap(const protect::DesignPoint& d, Context& c, const protect::ProtectionPlan& p);
  std::string cache_key(const protect::DesignPoint& d, const protect::ProtectionPlan& p) const;
  void finish(Evaluation& e);
  /// Run the campaigns of a design not in the cache; returns (and appends to the cache file) its metrics.
  nlohmann::json measure(const protect::DesignPoint& d, Context& c, const protect::ProtectionPlan& p);
  /// The reliability statistic's threshold: -max_faulty_drop (paired) or min_faulty_accuracy (absolute).
  double reliability_threshold() const;
  /// Per-image clean correctness of a context on the eval images (computed once).
  const std::vector<char>& clean_correct(Context& c);
  Context& reference_context(const protect::AccelPoint& accel);
  const cost::OperandActivity& activity(Context& c);
  cost::CostReport price(const protect::ProtectionPlan& p, Context& c);

  const model::Graph& g_;
  const data::Dataset& test_;
  const data::Dataset& calib_;
  std::unique_ptr<quant::FloatRanges> ranges_;  ///< first calibration pass, shared by all designs
  quant::QuantOptions base_;
  Environment env_;
  Constraints cons_;
  cost::ComponentTable table_;
  std::shared_ptr<const cost::SynthesizedCostModel> synth_;
  std::string model_id_, cache_path_;
  std::map<std::string, std::unique_ptr<Context>> contexts_;
  std::map<std::string, nlohmann::json> disk_;
  std::map<std::string, cost::CostReport> reference_cost_;  ///< unprotected design per accelerator
  int64_t evaluations_ = 0, cache_hits_ = 0, injections_ = 0, replayed_ = 0;
  std::map<std::string, nlohmann::json> replay_;
  nlohmann::json measured_ = nlohmann::json::object();
};

/// FNV-1a 64-bit hash of a file's bytes, as hex (identifies a model in caches).
std::string file_fingerprint(const std::string& path);

}  // namespace ftdla::dse
