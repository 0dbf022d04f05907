// SPDX-License-Identifier: MIT
#include "ftdla/dse/evaluator.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
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
      throw ConfigError(where + "." + k + ": unknown key (did you mean '" + closest_match(k, known) + "'?)");
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
  if (fault_images < 1) throw ConfigError("env.fault_images: must be >= 1 (got " + std::to_string(fault_images) + ")");
  if (eval_images < 1) throw ConfigError("env.eval_images: must be >= 1 (got " + std::to_string(eval_images) + ")");
  if (vuln_samples < 1) throw ConfigError("env.vuln_samples: must be >= 1 (got " + std::to_string(vuln_samples) + ")");
  if (max_memory < 1) throw ConfigError("--max-memory: must be > 0 bytes (got " + std::to_string(max_memory) + ")");
}

nlohmann::json to_json(const Environment& e) {
  return {{"site", fault::site_name(e.site)}, {"ber", e.ber}, {"trials", e.trials}, {"fault_images", e.fault_images},
          {"eval_images", e.eval_images}, {"vuln_samples", e.vuln_samples}, {"seed", e.seed}};
}

Environment parse_environment(const nlohmann::json& j, Environment e) {
  for_keys(j, "env", {"site", "ber", "trials", "fault_images", "eval_images", "vuln_samples", "seed"},
           [&](const std::string& k, const nlohmann::json& v) {
             if (k == "site") e.site = fault::parse_site(v.get<std::string>());
             if (k == "ber") e.ber = v.get<double>();
             if (k == "trials") e.trials = v.get<int64_t>();
             if (k == "fault_images") e.fault_images = v.get<int64_t>();
             if (k == "eval_images") e.eval_images = v.get<int64_t>();
             if (k == "vuln_samples") e.vuln_samples = v.get<int64_t>();
             if (k == "seed") e.seed = v.get<uint64_t>();
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

nlohmann::json to_json(const Evaluation& e) {
  nlohmann::json j = {{"design", protect::to_json(e.design)},
                      {"clean_accuracy", e.clean_accuracy},
                      {"golden_accuracy_fault_images", e.golden_fault_accuracy},
                      {"faulty_accuracy", e.faulty_accuracy},
                      {"faulty_accuracy_ci95", {e.faulty.lo, e.faulty.hi}},
                      {"sdc_rate", e.sdc.rate},
                      {"sdc_ci95", {e.sdc.lo, e.sdc.hi}},
                      {"injections", e.sdc.trials},
                      {"area", e.area_um2},
                      {"energy", e.energy_pj},
                      {"latency_cycles", e.latency_cycles},
                      {"area_overhead", e.overheads.area},
                      {"energy_overhead", e.overheads.energy},
                      {"latency_overhead", e.overheads.latency},
                      {"protected_fraction", e.protected_fraction},
                      {"feasible", e.feasible},
                      {"violated", e.violated},
                      {"cached", e.cached}};
  return j;
}

std::string file_fingerprint(const std::string& path) {
  const std::string bytes = read_file(path);
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

struct Evaluator::Context {
  quant::QGraph q;
  std::unique_ptr<engine::IntegerEngine> engine;
  accel::Mapping mp;
  std::unique_ptr<fault::GoldenSet> golden;
  double clean_accuracy = -1.0;
  bool have_scores = false;
  std::vector<protect::ChannelScore> scores;
};

Evaluator::Evaluator(const model::Graph& g, const data::Dataset& test, const data::Dataset& calib, quant::QuantOptions base,
                     Environment env, Constraints cons, cost::ComponentTable table, std::string model_id,
                     std::string cache_path)
    : g_(g), test_(test), calib_(calib), base_(std::move(base)), env_(env), cons_(cons), table_(std::move(table)),
      model_id_(std::move(model_id)), cache_path_(std::move(cache_path)) {
  env_.validate();
  cons_.validate();
  quant::check_input_fits(g_, test_);
  if (!cache_path_.empty()) {
    // JSON lines, appended one evaluation at a time; a torn last line (crash) is skipped.
    std::ifstream in(cache_path_);
    std::string line;
    while (std::getline(in, line)) {
      try {
        const auto j = nlohmann::json::parse(line);
        disk_[j.at("key").get<std::string>()] = j.at("metrics");
      } catch (const std::exception&) {
      }
    }
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
    const int64_t calib_images = std::min<int64_t>(qo.calib_images, calib_.count());
    if (!ranges_ || ranges_->images != calib_images)
      ranges_ = std::make_unique<quant::FloatRanges>(quant::measure_ranges(g_, calib_, calib_images));
    slot->q = quant::quantize(g_, calib_, qo, ranges_.get());
    slot->engine = std::make_unique<engine::IntegerEngine>(slot->q);
    slot->mp = accel::map_network(slot->q, as);
    // One bound for all contexts: a new set may store what keeps the total within max_memory / 2.
    const int64_t budget = std::max<int64_t>(1, env_.max_memory - 2 * golden_bytes());
    slot->golden = std::make_unique<fault::GoldenSet>(*slot->engine, test_, env_.fault_images, budget);
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
    o.images = std::min<int64_t>(env_.fault_images, c.golden->size());
    o.seed = env_.seed;
    const vuln::VulnReport r = vuln::characterize(inj, *c.golden, o);
    for (const auto& ch : r.ranking) c.scores.push_back({ch.layer, ch.channel, ch.sdc_share});
    c.have_scores = true;
  }
  return c.scores;
}

protect::ProtectionPlan Evaluator::plan(const protect::DesignPoint& d, Context& c) {
  static const std::vector<protect::ChannelScore> kNone;
  const bool need = d.preset == protect::Preset::None && d.mode == protect::ProtectMode::Fraction && d.fraction > 0;
  return protect::make_plan(d, c.q, c.mp, need ? scores(c) : kNone);
}

CheapEvaluation Evaluator::cheap(const protect::DesignPoint& d) {
  d.validate();
  Context& c = context(d);
  return cheap(d, c, plan(d, c));
}

CheapEvaluation Evaluator::cheap(const protect::DesignPoint& d, Context& c, const protect::ProtectionPlan& p) {
  CheapEvaluation r;
  r.cost = cost::evaluate_cost(p, c.q, c.mp, table_);
  // The unprotected reference depends only on the accelerator: priced once per accelerator.
  const protect::DesignPoint ref = protect::reference_design(d, protect::Preset::Unprotected);
  const std::string key = protect::to_json(ref).dump();
  auto it = reference_cost_.find(key);
  if (it == reference_cost_.end()) {
    Context& rc = context(ref);
    it = reference_cost_.emplace(key, cost::evaluate_cost(plan(ref, rc), rc.q, rc.mp, table_)).first;
  }
  r.overheads = cost::overheads(r.cost, it->second);
  r.latency_ok = r.overheads.latency <= cons_.max_latency_overhead + 1e-12;
  return r;
}

double Evaluator::baseline_fault_accuracy(const protect::AccelPoint& accel) {
  protect::DesignPoint ref;
  ref.preset = protect::Preset::Unprotected;
  ref.accel = accel;
  const Context& c = context(ref);
  int64_t correct = 0;
  for (int64_t i = 0; i < c.golden->size(); ++i) correct += c.golden->top1[i] == c.golden->labels[i];
  return static_cast<double>(correct) / static_cast<double>(c.golden->size());
}

double Evaluator::reliability_target(const protect::AccelPoint& accel) {
  return cons_.min_faulty_accuracy >= 0 ? cons_.min_faulty_accuracy : baseline_fault_accuracy(accel) - cons_.max_faulty_drop;
}

double Evaluator::baseline_accuracy(const protect::AccelPoint& accel) {
  protect::DesignPoint ref;
  ref.preset = protect::Preset::Unprotected;
  ref.accel = accel;
  Context& c = context(ref);
  if (c.clean_accuracy < 0) c.clean_accuracy = engine::evaluate(*c.engine, test_, env_.eval_images).accuracy;
  return c.clean_accuracy;
}

std::string Evaluator::cache_key(const protect::DesignPoint& d) const {
  nlohmann::json k = {{"v", 3}, {"range", static_cast<int>(base_.range)}, {"model", model_id_}, {"design", protect::to_json(d)}, {"env", to_json(env_)},
                      {"calib", static_cast<int>(base_.calib)}, {"percentile", base_.percentile},
                      {"calib_images", base_.calib_images}, {"data", test_.source}};
  return k.dump();
}

std::vector<double> Evaluator::constraint_values(const Evaluation& e) {
  const double base = baseline_accuracy(e.design.accel);
  return {(base - cons_.max_accuracy_drop) - e.clean_accuracy, reliability_target(e.design.accel) - e.faulty_accuracy,
          e.overheads.latency - cons_.max_latency_overhead};
}

void Evaluator::finish(Evaluation& e) {
  const auto c = constraint_values(e);
  static const char* names[] = {"accuracy", "reliability", "latency"};
  e.violated.clear();
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i] > 1e-12) e.violated.push_back(names[i]);
  e.feasible = e.violated.empty();
}

Evaluation Evaluator::evaluate(const protect::DesignPoint& d) {
  const auto t0 = std::chrono::steady_clock::now();
  d.validate();
  Evaluation e;
  e.design = d;
  Context& c = context(d);
  const protect::ProtectionPlan p = plan(d, c);
  const CheapEvaluation ch = cheap(d, c, p);
  e.area_um2 = ch.cost.area_um2;
  e.energy_pj = ch.cost.energy_pj;
  e.latency_cycles = ch.cost.latency_cycles;
  e.overheads = ch.overheads;
  e.protected_fraction = p.protected_fraction();
  const std::string key = cache_key(d);
  auto it = disk_.find(key);
  if (it != disk_.end()) {
    const auto& m = it->second;
    e.clean_accuracy = m.at("clean_accuracy").get<double>();
    e.faulty = wilson(m.at("faulty_correct").get<uint64_t>(), m.at("trials").get<uint64_t>());
    e.sdc = wilson(m.at("sdc").get<uint64_t>(), m.at("trials").get<uint64_t>());
    e.golden_fault_accuracy = m.at("golden_correct").get<double>() / m.at("trials").get<double>();
    e.cached = true;
    ++cache_hits_;
  } else {
    if (c.clean_accuracy < 0) c.clean_accuracy = engine::evaluate(*c.engine, test_, env_.eval_images).accuracy;
    e.clean_accuracy = c.clean_accuracy;
    const fault::Injector inj(*c.engine, c.mp, protect::to_shield(p));
    fault::CampaignSpec spec;
    spec.site = env_.site;
    spec.mode = fault::FaultMode::Ber;
    spec.ber = env_.ber;
    spec.trials = env_.trials;
    spec.images = c.golden->size();
    spec.seed = env_.seed;
    const fault::CampaignCounts n = fault::Campaign(inj, *c.golden, spec).run(0, spec.trials);
    e.faulty = wilson(static_cast<uint64_t>(n.faulty_correct), static_cast<uint64_t>(n.trials));
    e.sdc = wilson(static_cast<uint64_t>(n.sdc), static_cast<uint64_t>(n.trials));
    e.golden_fault_accuracy = static_cast<double>(n.golden_correct) / static_cast<double>(n.trials);
    const nlohmann::json m = {{"clean_accuracy", e.clean_accuracy}, {"faulty_correct", n.faulty_correct},
                              {"golden_correct", n.golden_correct}, {"sdc", n.sdc}, {"trials", n.trials}};
    disk_[key] = m;
    if (!cache_path_.empty()) {
      // One O_APPEND write per line: concurrent or interrupted runs never interleave half lines.
      const std::string line = nlohmann::json{{"key", key}, {"metrics", m}}.dump() + "\n";
      const int fd = ::open(cache_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        const ssize_t w = ::write(fd, line.data(), line.size());
        (void)w;
        ::close(fd);
      }
    }
    ++evaluations_;
  }
  e.faulty_accuracy = e.faulty.rate;
  finish(e);
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace ftdla::dse
