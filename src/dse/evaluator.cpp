// SPDX-License-Identifier: MIT
#include "ftdla/dse/evaluator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <fstream>
#include <sstream>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/hash.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/core/text.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ftdla/vuln/characterize.hpp"

namespace ftdla::dse {

namespace {

void check_unit(const char* key, double v) {
  if (!(v >= 0.0 && v <= 1.0)) {
    std::ostringstream os;
    os << key << ": must be in [0, 1] (got " << v << ")";
    throw ConfigError(os.str());
  }
}

template <typename F>
void for_keys(const nlohmann::json& j, const std::string& where, const std::vector<std::string>& known, F&& f) {
  if (!j.is_object()) throw ConfigError(where + ": must be a JSON object");
  for (auto& [k, v] : j.items()) {
    if (std::find(known.begin(), known.end(), k) == known.end())
      throw ConfigError(where + "." + excerpt(k) + ": unknown key (did you mean '" + closest_match(k, known) + "'?)");
    try {
      f(k, v);
    } catch (const nlohmann::json::exception&) {
      throw ConfigError(where + "." + k + ": wrong type");
    }
  }
}

}  // namespace

void Environment::validate() const {
  check_unit("env.ber", ber);
  if (trials < 1) throw ConfigError("env.trials: must be >= 1 (got " + std::to_string(trials) + ")");
  if (max_trials < trials)
    throw ConfigError("env.max_trials: must be >= env.trials (got " + std::to_string(max_trials) + " < " + std::to_string(trials) + ")");
  if (!(risk > 0.0 && risk < 0.5)) throw ConfigError("env.risk: must be in (0, 0.5) (got " + std::to_string(risk) + ")");
  if (fault_images < 1) throw ConfigError("env.fault_images: must be >= 1 (got " + std::to_string(fault_images) + ")");
  if (eval_images < 1) throw ConfigError("env.eval_images: must be >= 1 (got " + std::to_string(eval_images) + ")");
  if (vuln_samples < 1) throw ConfigError("env.vuln_samples: must be >= 1 (got " + std::to_string(vuln_samples) + ")");
  if (max_memory < 1) throw ConfigError("--max-memory: must be > 0 bytes (got " + std::to_string(max_memory) + ")");
}

nlohmann::json to_json(const Environment& e) {
  return {{"site", fault::site_name(e.site)}, {"ber", e.ber}, {"trials", e.trials}, {"max_trials", e.max_trials},
          {"risk", e.risk}, {"fault_images", e.fault_images}, {"eval_images", e.eval_images},
          {"vuln_samples", e.vuln_samples}, {"seed", e.seed}};
}

Environment parse_environment(const nlohmann::json& j, Environment e) {
  for_keys(j, "env", {"site", "ber", "trials", "max_trials", "risk", "fault_images", "eval_images", "vuln_samples", "seed"},
           [&](const std::string& k, const nlohmann::json& v) {
             if (k == "site") e.site = fault::parse_site(v.get<std::string>());
             if (k == "ber") e.ber = v.get<double>();
             // Counts must be integral JSON numbers (get<int64_t> would truncate 4.7 to 4).
             auto count = [&] { return json_int(v, "env." + k, INT64_MIN, INT64_MAX); };
             if (k == "trials") e.trials = count();
             if (k == "max_trials") e.max_trials = count();
             if (k == "risk") e.risk = v.get<double>();
             if (k == "fault_images") e.fault_images = count();
             if (k == "eval_images") e.eval_images = count();
             if (k == "vuln_samples") e.vuln_samples = count();
             if (k == "seed") {
               if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
                 throw ConfigError("env.seed: must be an integer >= 0 (got " + json_excerpt(v) + ")");
               e.seed = v.get<uint64_t>();
             }
           });
  e.validate();
  return e;
}

void Constraints::validate() const {
  check_unit("constraints.max_accuracy_drop", max_accuracy_drop);
  check_unit("constraints.max_faulty_drop", max_faulty_drop);
  if (min_faulty_accuracy >= 0) check_unit("constraints.min_faulty_accuracy", min_faulty_accuracy);
  if (!(max_latency_overhead >= 0.0)) throw ConfigError("constraints.max_latency_overhead: must be >= 0");
}

nlohmann::json to_json(const Constraints& c) {
  return {{"max_accuracy_drop", c.max_accuracy_drop}, {"max_faulty_drop", c.max_faulty_drop},
          {"min_faulty_accuracy", c.min_faulty_accuracy}, {"max_latency_overhead", c.max_latency_overhead}};
}

Constraints parse_constraints(const nlohmann::json& j, Constraints c) {
  for_keys(j, "constraints", {"max_accuracy_drop", "max_faulty_drop", "min_faulty_accuracy", "max_latency_overhead"},
           [&](const std::string& k, const nlohmann::json& v) {
             const double x = v.get<double>();
             if (k == "max_accuracy_drop") c.max_accuracy_drop = x;
             if (k == "max_faulty_drop") c.max_faulty_drop = x;
             if (k == "min_faulty_accuracy") c.min_faulty_accuracy = x;
             if (k == "max_latency_overhead") c.max_latency_overhead = x;
           });
  c.validate();
  return c;
}

namespace {
nlohmann::json estimate_json(const MeanEstimate& m) {
  return {{"mean", m.mean}, {"se", m.se}, {"skew", m.skew}, {"n", m.n}, {"clusters", m.clusters}};
}
/// A count in stored metrics: an integral JSON number >= 0 (nlohmann's get<uint64_t> would wrap -1 and
/// cast 1e300 with undefined behaviour).
int64_t metric_count(const nlohmann::json& m, const char* key, const std::string& where) {
  const auto it = m.find(key);
  if (it == m.end() || !it->is_number_integer() || (it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX) ||
      it->get<int64_t>() < 0)
    throw ImportError(where + "." + key + ": missing or not an integer >= 0");
  return it->get<int64_t>();
}
double metric_real(const nlohmann::json& m, const char* key, const std::string& where) {
  const auto it = m.find(key);
  if (it == m.end() || !it->is_number() || !std::isfinite(it->get<double>()))
    throw ImportError(where + "." + key + ": missing or not a finite number");
  return it->get<double>();
}

MeanEstimate estimate_from(const nlohmann::json& m, const char* key, const std::string& where) {
  const auto it = m.find(key);
  if (it == m.end() || !it->is_object()) throw ImportError(where + "." + key + ": missing or not an object");
  const std::string w = where + "." + key;
  MeanEstimate e;
  e.mean = metric_real(*it, "mean", w);
  e.se = metric_real(*it, "se", w);
  e.skew = metric_real(*it, "skew", w);
  e.n = metric_count(*it, "n", w);
  e.clusters = metric_count(*it, "clusters", w);
  if (e.se < 0) throw ImportError(w + ".se: negative");
  return e;
}
}  // namespace

void apply_metrics(const nlohmann::json& m, Evaluation& e, const std::string& where) {
  if (!m.is_object()) throw ImportError(where + ": not a JSON object");
  // Counts measure() can write: 0 <= each <= trials >= 1, and a clean accuracy in [0, 1].
  const int64_t trials = metric_count(m, "trials", where);
  if (trials < 1) throw ImportError(where + ".trials: must be >= 1");
  const int64_t faulty_correct = metric_count(m, "faulty_correct", where), sdc = metric_count(m, "sdc", where),
                golden_correct = metric_count(m, "golden_correct", where);
  for (const int64_t c : {faulty_correct, sdc, golden_correct})
    if (c > trials) throw ImportError(where + ": a count exceeds trials = " + std::to_string(trials));
  e.clean_accuracy = metric_real(m, "clean_accuracy", where);
  if (e.clean_accuracy < 0.0 || e.clean_accuracy > 1.0) throw ImportError(where + ".clean_accuracy: not in [0, 1]");
  e.clean_target = metric_real(m, "clean_target", where);
  e.clean_diff = estimate_from(m, "clean_diff", where);
  e.reliability = estimate_from(m, "reliability", where);
  e.reliability_target = metric_real(m, "reliability_target", where);
  const MeanEstimate faulty = estimate_from(m, "faulty", where);
  e.faulty = wilson(static_cast<uint64_t>(faulty_correct), static_cast<uint64_t>(trials));
  e.faulty.lo = std::max(0.0, faulty.lo());  // over fault draws and images, not Wilson's
  e.faulty.hi = std::min(1.0, faulty.hi());
  e.faulty_accuracy = e.faulty.rate;
  e.sdc = wilson(static_cast<uint64_t>(sdc), static_cast<uint64_t>(trials));
  e.injections = trials;
  e.images = faulty.clusters;
  e.golden_fault_accuracy = static_cast<double>(golden_correct) / static_cast<double>(trials);
}

std::optional<std::pair<std::string, nlohmann::json>> parse_cache_line(const std::string& line, const std::string& path) {
  try {
    const nlohmann::json j = parse_json(line, path);
    if (!j.is_object()) return std::nullopt;
    const auto key = j.find("key"), metrics = j.find("metrics");
    if (key == j.end() || !key->is_string() || metrics == j.end()) return std::nullopt;
    // An entry with impossible or missing figures (edited by hand, corrupted) is dropped: the design is
    // re-measured rather than evaluate() failing on it later.
    Evaluation scratch;
    apply_metrics(*metrics, scratch, path);
    return std::make_pair(key->get<std::string>(), *metrics);
  } catch (const Error&) {
    return std::nullopt;
  }
}

nlohmann::json to_json(const Evaluation& e) {
  nlohmann::json j = {{"design", protect::to_json(e.design)},
                      {"clean_accuracy", e.clean_accuracy},
                      {"clean_target", e.clean_target},
                      {"clean_decision", verdict_name(e.clean_verdict)},
                      {"golden_accuracy_fault_images", e.golden_fault_accuracy},
                      {"faulty_accuracy", e.faulty_accuracy},
                      {"faulty_accuracy_ci95", {e.faulty.lo, e.faulty.hi}},
                      {"reliability_target", e.reliability_target},
                      {"reliability_decision", verdict_name(e.reliability_verdict)},
                      {"sdc_rate", e.sdc.rate},
                      {"sdc_ci95", {e.sdc.lo, e.sdc.hi}},
                      {"injections", e.injections},
                      {"images", e.images},
                      {"area", e.area_um2},
                      {"energy", e.energy_pj},
                      {"latency_cycles", e.latency_cycles},
                      {"area_um2", e.cost.area_um2},
                      {"energy_pj", e.cost.energy_pj},
                      {"pe_area_um2", e.cost.pe_area_um2},
                      {"clock_ns", e.cost.clock_ns},
                      {"latency_ns", e.cost.latency_ns},
                      {"cost_source", e.cost.cost_source},
                      {"cost", cost::to_json(e.cost)},
                      {"area_overhead", e.overheads.area},
                      {"energy_overhead", e.overheads.energy},
                      {"latency_overhead", e.overheads.latency},
                      {"protected_fraction", e.protected_fraction},
                      {"feasible", e.feasible},
                      {"decision", e.decision},
                      {"violated", e.violated},
                      {"undecided", e.undecided},
                      {"cached", e.cached}};
  return j;
}

std::string file_fingerprint(const std::string& path) {
  // A mistyped offset basis (one digit short of FNV's 14695981039346656037), kept: it is part of the
  // keys of existing evaluation caches.
  constexpr uint64_t kLegacyBasis = 1469598103934665603ULL;
  return hex64(fnv1a64(read_file(path), kLegacyBasis));
}

struct Evaluator::Context {
  quant::QGraph q;
  std::unique_ptr<engine::IntegerEngine> engine;
  accel::Mapping mp;
  std::unique_ptr<fault::GoldenSet> golden;
  double clean_accuracy = -1.0;
  std::vector<char> clean_correct;  ///< per eval image (empty until needed)
  bool have_scores = false;
  std::vector<protect::ChannelScore> scores;
  std::unique_ptr<cost::OperandActivity> activity;
};

Evaluator::Evaluator(const model::Graph& g, const data::Dataset& test, const data::Dataset& calib, quant::QuantOptions base,
                     Environment env, Constraints cons, cost::ComponentTable table, std::string model_id,
                     std::string cache_path)
    : g_(g), test_(test), calib_(calib), base_(std::move(base)), env_(env), cons_(cons), table_(std::move(table)),
      model_id_(std::move(model_id)), cache_path_(std::move(cache_path)) {
  env_.validate();
  cons_.validate();
  quant::check_input_fits(g_, test_);
  quant::check_labels(g_, test_);
  if (!cache_path_.empty()) {
    // JSON lines, appended one evaluation at a time; a torn last line (crash) is skipped.
    std::ifstream in(cache_path_);
    std::string line;
    while (std::getline(in, line))
      if (auto entry = parse_cache_line(line, cache_path_)) disk_[std::move(entry->first)] = std::move(entry->second);
  }
}

Evaluator::~Evaluator() = default;

Evaluator::Context& Evaluator::context(const protect::DesignPoint& d) {
  const quant::QuantOptions qo = protect::to_quant_options(d, base_);
  const accel::ArraySpec as = protect::to_array_spec(d);
  nlohmann::json key = {{"wbits", qo.wbits}, {"abits", qo.abits}, {"accbits", qo.accbits}, {"k", qo.k},
                        {"k_per_layer", qo.k_per_layer}, {"rows", as.rows}, {"cols", as.cols},
                        {"dataflow", accel::dataflow_name(as.dataflow)}};
  auto& slot = contexts_[key.dump()];
  if (!slot) {
    slot = std::make_unique<Context>();
    // The float ranges do not depend on the design: measured once, reused by every quantization.
    // (None for a model that brings its own scales.)
    const int64_t calib_images = std::min<int64_t>(qo.calib_images, calib_.count());
    if (!quant::uses_model_scales(g_, qo) && (!ranges_ || ranges_->images != calib_images))
      ranges_ = std::make_unique<quant::FloatRanges>(quant::measure_ranges(g_, calib_, calib_images));
    slot->q = quant::quantize(g_, calib_, qo, ranges_.get());
    slot->engine = std::make_unique<engine::IntegerEngine>(slot->q);
    slot->mp = accel::map_network(slot->q, as);
    // One bound for all contexts: a new set may store what keeps the total within max_memory / 2.
    const int64_t budget = std::max<int64_t>(1, env_.max_memory - 2 * golden_bytes());
    slot->golden = std::make_unique<fault::GoldenSet>(*slot->engine, test_, std::min(env_.fault_images, test_.count()), budget);
  }
  return *slot;
}

bool Evaluator::golden_stored() const {
  for (const auto& [key, c] : contexts_)
    if (c && c->golden && !c->golden->stored()) return false;
  return true;
}

int64_t Evaluator::golden_bytes() const {
  int64_t n = 0;
  for (const auto& [key, c] : contexts_)
    if (c && c->golden) n += c->golden->bytes();
  return n;
}

const std::vector<protect::ChannelScore>& Evaluator::scores(Context& c) {
  if (!c.have_scores) {
    // Channels ranked by their share of the uniform-fault SDC rate (VF x neurons); the plan divides by
    // the channel's MACs, so protection goes where SDC per unit of TMR work is highest.
    const fault::Injector inj(*c.engine, c.mp);
    vuln::CharacterizeOptions o;
    o.samples = env_.vuln_samples;
    o.neurons = 0;
    // A few hundred images are plenty for a per-channel rate, and few images let one golden expansion
    // serve many trials (characterize groups a block's trials by image).
    constexpr int64_t kRankingImages = 500;
    o.images = std::min<int64_t>(kRankingImages, c.golden->size());
    // A fault sample of its own: the channels are picked on different faults than the ones that then
    // judge the design, so the ranking's noise does not flatter the design it selects.
    o.seed = Rng::derive(env_.seed, 0x52414e4bULL)();
    const vuln::VulnReport r = vuln::characterize(inj, *c.golden, o);
    for (const auto& ch : r.ranking) c.scores.push_back({ch.layer, ch.channel, ch.sdc_share});
    c.have_scores = true;
  }
  return c.scores;
}

std::vector<protect::ChannelScore> Evaluator::channel_scores(const protect::AccelPoint& accel) {
  return scores(reference_context(accel));
}

void Evaluator::use_channel_scores(const protect::AccelPoint& accel, std::vector<protect::ChannelScore> s) {
  Context& c = reference_context(accel);
  c.scores = std::move(s);
  c.have_scores = true;
}

protect::ProtectionPlan Evaluator::plan(const protect::DesignPoint& d, Context& c) {
  static const std::vector<protect::ChannelScore> kNone;
  const bool need = d.preset == protect::Preset::None && d.mode == protect::ProtectMode::Fraction && d.fraction > 0;
  // One ranking per accelerator, measured on the unconstrained model and used for every k: the range
  // constraint changes register values, not the paths faults take, and ranking every channel is the
  // dominant cost of a deep network's search (about 10 minutes per ranking on resnet18w32, 2 cores).
  return protect::make_plan(d, c.q, c.mp, need ? scores(reference_context(d.accel)) : kNone);
}

CheapEvaluation Evaluator::cheap(const protect::DesignPoint& d) {
  d.validate();
  Context& c = context(d);
  return cheap(d, c, plan(d, c));
}

CheapEvaluation Evaluator::cheap(const protect::DesignPoint& d, Context& c, const protect::ProtectionPlan& p) {
  CheapEvaluation r;
  r.cost = price(p, c);
  // The unprotected reference depends only on the accelerator: priced once per accelerator.
  const protect::DesignPoint ref = protect::reference_design(d, protect::Preset::Unprotected);
  const std::string key = protect::to_json(ref).dump();
  auto it = reference_cost_.find(key);
  if (it == reference_cost_.end()) {
    Context& rc = context(ref);
    it = reference_cost_.emplace(key, price(plan(ref, rc), rc)).first;
  }
  r.overheads = cost::overheads(r.cost, it->second);
  r.latency_ok = r.overheads.latency <= cons_.max_latency_overhead + 1e-12;
  return r;
}

const cost::OperandActivity& Evaluator::activity(Context& c) {
  if (!c.activity)
    c.activity = std::make_unique<cost::OperandActivity>(cost::measure_operand_activity(*c.engine, c.mp, test_));
  return *c.activity;
}

cost::CostReport Evaluator::price(const protect::ProtectionPlan& p, Context& c) {
  if (synth_) return synth_->evaluate(p, c.q, c.mp, activity(c));
  return cost::evaluate_cost(p, c.q, c.mp, table_);
}

Evaluator::Context& Evaluator::reference_context(const protect::AccelPoint& accel) {
  protect::DesignPoint ref;
  ref.preset = protect::Preset::Unprotected;
  ref.accel = accel;
  return context(ref);
}

const std::vector<char>& Evaluator::clean_correct(Context& c) {
  if (c.clean_correct.empty()) {
    const engine::EvalResult r = engine::evaluate(*c.engine, test_, env_.eval_images);
    c.clean_accuracy = r.accuracy;
    c.clean_correct.resize(r.predictions.size());
    for (size_t i = 0; i < r.predictions.size(); ++i) c.clean_correct[i] = r.predictions[i] == test_.labels[i];
  }
  return c.clean_correct;
}

double Evaluator::baseline_fault_accuracy(const protect::AccelPoint& accel) {
  const Context& c = reference_context(accel);
  int64_t correct = 0;
  for (int64_t i = 0; i < c.golden->size(); ++i) correct += c.golden->top1[i] == c.golden->labels[i];
  return static_cast<double>(correct) / static_cast<double>(c.golden->size());
}

double Evaluator::reliability_target(const protect::AccelPoint& accel) {
  return cons_.min_faulty_accuracy >= 0 ? cons_.min_faulty_accuracy : baseline_fault_accuracy(accel) - cons_.max_faulty_drop;
}

double Evaluator::baseline_accuracy(const protect::AccelPoint& accel) {
  Context& c = reference_context(accel);
  clean_correct(c);
  return c.clean_accuracy;
}

std::string Evaluator::cache_key(const protect::DesignPoint& d, const protect::ProtectionPlan& p) const {
  // v5: the Shield hardens the union of every layer's hardened positions, as the circuit does.
  // Which channels are protected depends on a ranking (measured here or adopted from a search): hash it.
  uint64_t h = 1469598103934665603ULL;
  for (const auto& lp : p.layers)
    for (size_t ch = 0; ch < lp.protected_channels.size(); ++ch)
      if (lp.protected_channels[ch]) h = (h ^ (lp.layer * 1000003ULL + ch)) * 1099511628211ULL;
  nlohmann::json k = {{"v", 5}, {"channels", h}, {"range", static_cast<int>(base_.range)}, {"model", model_id_}, {"design", protect::to_json(d)}, {"env", to_json(env_)},
                      {"calib", static_cast<int>(base_.calib)}, {"percentile", base_.percentile},
                      {"calib_images", base_.calib_images}, {"data", test_.source},
                      {"quantization", static_cast<int>(base_.source)}, {"requant", static_cast<int>(base_.requant)}};
  return k.dump();
}

std::vector<double> Evaluator::constraint_values(const Evaluation& e) {
  return {e.clean_target - e.clean_accuracy, e.reliability_target - e.faulty_accuracy,
          e.overheads.latency - cons_.max_latency_overhead};
}

std::vector<double> Evaluator::constraint_noise(const Evaluation& e) const {
  return {e.clean_diff.se * e.clean_diff.se, e.reliability.se * e.reliability.se, 0.0};
}

void Evaluator::finish(Evaluation& e) {
  e.violated.clear();
  e.undecided.clear();
  auto note = [&](const char* name, Verdict v) {
    if (v == Verdict::Violated) e.violated.push_back(name);
    if (v == Verdict::Undecided) e.undecided.push_back(name);
  };
  note("accuracy", e.clean_verdict);
  note("reliability", e.reliability_verdict);
  if (e.overheads.latency - cons_.max_latency_overhead > 1e-12) e.violated.push_back("latency");
  e.feasible = e.violated.empty() && e.undecided.empty();
  e.decision = e.feasible ? "feasible" : e.violated.empty() ? "undecided" : "infeasible";
}

double Evaluator::reliability_threshold() const {
  // Relative target: the paired difference (faulty - unprotected golden) >= -drop; absolute: accuracy >= target.
  return cons_.min_faulty_accuracy < 0 ? -cons_.max_faulty_drop : cons_.min_faulty_accuracy;
}

nlohmann::json Evaluator::measure(const protect::DesignPoint& d, Context& c, const protect::ProtectionPlan& p) {
  Context& base = reference_context(d.accel);
  // Clean accuracy, paired image by image with the unprotected design on the same eval images.
  ImageTally clean;
  const auto& mine = clean_correct(c);
  const auto& theirs = clean_correct(base);
  clean.trials.assign(mine.size(), 1);
  clean.correct.assign(mine.begin(), mine.end());
  clean.reference.assign(theirs.begin(), theirs.end());

  // Accuracy under faults, looked at after trials, 2 trials, ... until decided or max_trials.
  const fault::Injector inj(*c.engine, c.mp, protect::to_shield(p));
  fault::CampaignSpec spec;
  spec.site = env_.site;
  spec.mode = fault::FaultMode::Ber;
  spec.ber = env_.ber;
  spec.trials = env_.max_trials;
  spec.images = c.golden->size();
  spec.seed = env_.seed;
  const fault::Campaign campaign(inj, *c.golden, spec);
  const bool relative = cons_.min_faulty_accuracy < 0;
  ImageTally tally;
  if (relative) {
    tally.reference.resize(static_cast<size_t>(spec.images));
    for (int64_t i = 0; i < spec.images; ++i)
      tally.reference[static_cast<size_t>(i)] = base.golden->top1[i] == base.golden->labels[i];
  }
  const SequentialTest test = env_.test();
  fault::CampaignCounts n;
  MeanEstimate reliability;
  for (int look = 0; look < test.looks(); ++look) {
    n.add(campaign.run(n.trials, test.look_size(look), nullptr, {}, &tally));
    reliability = estimate_mean(tally);
    if (test.judge(reliability, reliability_threshold()) != Verdict::Undecided) break;
  }
  // The target on exactly the images (and trial weights) the campaign used.
  double target = cons_.min_faulty_accuracy;
  if (relative) {
    double ref_correct = 0.0;
    for (size_t i = 0; i < tally.trials.size(); ++i) ref_correct += static_cast<double>(tally.trials[i] * tally.reference[i]);
    target = ref_correct / static_cast<double>(n.trials) - cons_.max_faulty_drop;
  }
  tally.reference.clear();  // now the absolute accuracy under faults, for its interval
  const nlohmann::json m = {{"clean_accuracy", c.clean_accuracy}, {"clean_target", base.clean_accuracy - cons_.max_accuracy_drop},
                            {"clean_diff", estimate_json(estimate_mean(clean))}, {"reliability", estimate_json(reliability)},
                            {"reliability_target", target}, {"faulty", estimate_json(estimate_mean(tally))},
                            {"faulty_correct", n.faulty_correct}, {"golden_correct", n.golden_correct},
                            {"sdc", n.sdc}, {"trials", n.trials}};
  if (!cache_path_.empty()) {
    // One O_APPEND write per line: concurrent or interrupted runs never interleave half lines.
    const std::string line = nlohmann::json{{"key", cache_key(d, p)}, {"metrics", m}}.dump() + "\n";
    const int fd = ::open(cache_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      const ssize_t w = ::write(fd, line.data(), line.size());
      (void)w;
      ::close(fd);
    }
  }
  ++evaluations_;
  injections_ += n.trials;
  return m;
}

void Evaluator::replay(const nlohmann::json& measurements, const std::string& where) {
  if (!measurements.is_object()) throw ImportError(where + ": cannot resume, \"measurements\" is not an object");
  for (const auto& [key, m] : measurements.items()) {
    Evaluation scratch;  // the checks every cached figure passes before use
    try {
      apply_metrics(m, scratch, where);
    } catch (const Error&) {
      throw ImportError(where + ": cannot resume, implausible measurement for " + key);
    }
    replay_[key] = m;
    measured_[key] = m;
    disk_.erase(key);  // measured by the interrupted run (and appended to the cache file): not a cache hit
  }
}

Evaluation Evaluator::evaluate(const protect::DesignPoint& d) {
  const auto t0 = std::chrono::steady_clock::now();
  d.validate();
  Evaluation e;
  e.design = d;
  Context& c = context(d);
  const protect::ProtectionPlan p = plan(d, c);
  const CheapEvaluation ch = cheap(d, c, p);
  e.cost = ch.cost;
  e.area_um2 = ch.cost.area_um2;
  e.energy_pj = ch.cost.energy_pj;
  e.latency_cycles = ch.cost.latency_cycles;
  e.overheads = ch.overheads;
  e.protected_fraction = p.protected_fraction();
  // Measured now or read from the cache: either way the figures come from the same stored metrics.
  const std::string key = cache_key(d, p);
  auto it = disk_.find(key);
  e.cached = it != disk_.end();
  if (e.cached) {
    ++cache_hits_;
  } else if (const auto r = replay_.find(key); r != replay_.end()) {
    // Measured by the run this one resumes: counted as measured now, as an uninterrupted run would.
    ++evaluations_;
    ++replayed_;
    injections_ += r->second.at("trials").get<int64_t>();
    it = disk_.emplace(key, r->second).first;
    replay_.erase(r);
  } else {
    it = disk_.emplace(key, measure(d, c, p)).first;
    measured_[key] = it->second;
  }
  apply_metrics(it->second, e, cache_path_.empty() ? "metrics" : cache_path_);
  e.clean_verdict = SequentialTest{env_.risk, 1, 1}.judge(e.clean_diff, -cons_.max_accuracy_drop);
  e.reliability_verdict = env_.test().judge(e.reliability, reliability_threshold());
  finish(e);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace ftdla::dse
