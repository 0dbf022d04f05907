// SPDX-License-Identifier: MIT
#include "ftdla/dse/cross_layer.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <sstream>

#include "ftdla/core/error.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::dse {

void SpaceSpec::validate() const {
  auto fail = [](const std::string& k, const std::string& w) { throw ConfigError("space." + k + ": " + w); };
  if (k.empty()) fail("k", "must list at least one value");
  for (int v : k)
    if (v < 2 || v > accel.abits) fail("k", "values must be in [2, " + std::to_string(accel.abits) + "] (got " + std::to_string(v) + ")");
  if (fraction.empty()) fail("fraction", "must list at least one value");
  for (double f : fraction)
    if (!(f >= 0.0 && f <= 1.0)) fail("fraction", "values must be in [0, 1]");
  if (lanes.empty()) fail("lanes", "must list at least one value");
  for (int u : lanes)
    if (u < 1 || u > protect::kMaxLanes) fail("lanes", "values must be in [1, " + std::to_string(protect::kMaxLanes) + "]");
  if (harden_min < 0 || harden_max > accel.abits || harden_min > harden_max)
    fail("harden_max", "need 0 <= harden_min <= harden_max <= " + std::to_string(accel.abits));
}

nlohmann::json to_json(const SpaceSpec& s) {
  protect::DesignPoint d;
  d.accel = s.accel;
  return {{"k", s.k}, {"fraction", s.fraction}, {"lanes", s.lanes}, {"harden_min", s.harden_min},
          {"harden_max", s.harden_max}, {"per_layer_k", s.per_layer_k}, {"accel", protect::to_json(d)["accel"]}};
}

SpaceSpec parse_space(const nlohmann::json& j, SpaceSpec s) {
  if (!j.is_object()) throw ConfigError("space: must be a JSON object");
  static const std::vector<std::string> known = {"k", "fraction", "lanes", "harden_min", "harden_max", "per_layer_k", "accel"};
  for (const auto& item : j.items()) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const std::string& k = item.key();
    const nlohmann::json& v = item.value();
    if (std::find(known.begin(), known.end(), k) == known.end())
      throw ConfigError("space." + excerpt(k) + ": unknown key (did you mean '" + closest_match(k, known) + "'?)");
    // Integers must be integral JSON numbers in int range: nlohmann's get<int> would truncate 4.7 to 4
    // and wrap 4294967302 to 6.
    auto ints = [&](const std::string& key) {
      if (!v.is_array()) throw ConfigError("space." + key + ": must be an array of integers (got " + json_excerpt(v) + ")");
      std::vector<int> out;
      for (size_t i = 0; i < v.size(); ++i)
        out.push_back(static_cast<int>(json_int(v[i], "space." + key + "[" + std::to_string(i) + "]", INT_MIN, INT_MAX)));
      return out;
    };
    if (k == "k") s.k = ints(k);
    if (k == "lanes") s.lanes = ints(k);
    if (k == "harden_min") s.harden_min = static_cast<int>(json_int(v, "space.harden_min", INT_MIN, INT_MAX));
    if (k == "harden_max") s.harden_max = static_cast<int>(json_int(v, "space.harden_max", INT_MIN, INT_MAX));
    try {
      if (k == "fraction") s.fraction = v.get<std::vector<double>>();
      if (k == "per_layer_k") s.per_layer_k = v.get<bool>();
    } catch (const nlohmann::json::exception&) {
      throw ConfigError("space." + k + ": wrong type");
    }
    if (k == "accel") s.accel = protect::parse_design(nlohmann::json{{"accel", v}}, "space").accel;
  }
  for (auto* vec : {&s.k, &s.lanes}) {
    std::sort(vec->begin(), vec->end());
    vec->erase(std::unique(vec->begin(), vec->end()), vec->end());
  }
  std::sort(s.fraction.begin(), s.fraction.end());
  s.fraction.erase(std::unique(s.fraction.begin(), s.fraction.end()), s.fraction.end());
  s.validate();
  return s;
}

const char* objective_name(Objective o) {
  switch (o) {
    case Objective::Area: return "area";
    case Objective::Energy: return "energy";
    case Objective::AreaEnergy: return "area_energy";
  }
  return "?";
}

Objective parse_objective(const std::string& s) {
  if (s == "area") return Objective::Area;
  if (s == "energy") return Objective::Energy;
  if (s == "area_energy") return Objective::AreaEnergy;
  throw ConfigError("--objective: unknown objective '" + s + "' (expected area, energy or area_energy)");
}

double objective_value(Objective o, const cost::Overheads& ov) {
  switch (o) {
    case Objective::Area: return ov.area;
    case Objective::Energy: return ov.energy;
    case Objective::AreaEnergy: return (1 + ov.area) * (1 + ov.energy) - 1;
  }
  return ov.area;
}

Method parse_method(const std::string& s) {
  if (s == "bo") return Method::Bo;
  if (s == "random") return Method::Random;
  if (s == "grid") return Method::Grid;
  throw ConfigError("--method: unknown method '" + s + "' (expected bo, random or grid)");
}

namespace {
std::vector<double> as_doubles(const std::vector<int>& v) { return {v.begin(), v.end()}; }
}  // namespace

CrossLayerProblem::CrossLayerProblem(Evaluator& ev, SpaceSpec spec, Objective obj, std::vector<std::string> layer_names)
    : ev_(ev), spec_(std::move(spec)), obj_(obj), layers_(std::move(layer_names)) {
  spec_.validate();
  if (spec_.per_layer_k) {
    for (const auto& l : layers_) space_.knobs.push_back(opt::Knob::categorical("k:" + l, as_doubles(spec_.k)));
  } else {
    space_.knobs.push_back(opt::Knob::categorical("k", as_doubles(spec_.k)));
  }
  for (double f : spec_.fraction) {
    if (f == 0.0) arch_.push_back({0.0, 0});
    else
      for (int u : spec_.lanes) arch_.push_back({f, u});
  }
  std::vector<double> idx;
  for (size_t i = 0; i < arch_.size(); ++i) idx.push_back(static_cast<double>(i));
  if (idx.size() == 1) idx.push_back(1.0), arch_.push_back(arch_.front());  // a categorical needs two levels
  space_.knobs.push_back(opt::Knob::categorical("arch", idx));
  space_.knobs.push_back(opt::Knob::integer("harden_bits", spec_.harden_min, spec_.harden_max));
  space_.validate();
}

protect::DesignPoint CrossLayerProblem::decode(const std::vector<double>& x) const {
  protect::DesignPoint d;
  d.accel = spec_.accel;
  const int a = spec_.accel.abits;
  size_t i = 0;
  int min_live = a;
  if (spec_.per_layer_k) {
    for (const auto& l : layers_) {
      const int k = static_cast<int>(std::lround(x[i++]));
      if (k < a) d.k_per_layer[l] = k;
      min_live = std::min(min_live, k);
    }
  } else {
    const int k = static_cast<int>(std::lround(x[i++]));
    d.k = k < a ? k : 0;
    min_live = k;
  }
  const auto& [f, u] = arch_.at(static_cast<size_t>(std::lround(x[i++])));
  d.fraction = f;
  d.lanes = u;
  // More hardened bits than live bits means "harden every live bit".
  d.harden_bits = std::min(static_cast<int>(std::lround(x[i++])), min_live);
  return d;
}

std::vector<double> CrossLayerProblem::encode(const protect::DesignPoint& d) const {
  std::vector<double> x;
  const int a = spec_.accel.abits;
  if (spec_.per_layer_k) {
    for (const auto& l : layers_) {
      auto it = d.k_per_layer.find(l);
      x.push_back(it != d.k_per_layer.end() ? it->second : (d.k > 0 ? d.k : a));
    }
  } else {
    x.push_back(d.k > 0 ? d.k : a);
  }
  size_t a_idx = 0;
  for (size_t j = 0; j < arch_.size(); ++j)
    if (arch_[j].first == d.fraction && (d.fraction == 0.0 || arch_[j].second == d.lanes)) {
      a_idx = j;
      break;
    }
  x.push_back(static_cast<double>(a_idx));
  x.push_back(d.harden_bits);
  return space_.round(x);
}

opt::Outcome CrossLayerProblem::evaluate_cheap(const std::vector<double>& x) const {
  const CheapEvaluation c = ev_.cheap(decode(x));
  opt::Outcome o;
  o.objective = objective_value(obj_, c.overheads);
  o.constraints = {0.0, 0.0, c.overheads.latency - ev_.constraints().max_latency_overhead};
  return o;
}

opt::Outcome CrossLayerProblem::evaluate(const std::vector<double>& x) {
  Evaluation e = ev_.evaluate(decode(x));
  evals_.push_back(e);
  if (on_evaluation) on_evaluation(e);
  opt::Outcome o;
  o.objective = objective_value(obj_, e.overheads);
  o.constraints = ev_.constraint_values(e);
  o.constraint_noise = ev_.constraint_noise(e);
  o.feasible = e.feasible;  // decided on confidence bounds, not on the signs of the estimates
  return o;
}

Evaluation cheapest_feasible(Evaluator& ev, Objective obj, std::vector<protect::DesignPoint> candidates,
                             const std::function<void(const Evaluation&)>& on_eval) {
  std::vector<std::pair<double, size_t>> order;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const CheapEvaluation c = ev.cheap(candidates[i]);
    if (c.latency_ok) order.push_back({objective_value(obj, c.overheads), i});
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::optional<Evaluation> best_effort;
  for (const auto& [value, i] : order) {
    Evaluation e = ev.evaluate(candidates[i]);
    if (on_eval) on_eval(e);
    if (e.feasible) return e;
    if (!best_effort || e.faulty_accuracy > best_effort->faulty_accuracy) best_effort = e;
  }
  if (best_effort) return *best_effort;
  // Every candidate breaks the latency limit: report the first one, evaluated, as infeasible.
  FTDLA_ASSERT(!candidates.empty());
  Evaluation e = ev.evaluate(candidates.front());
  if (on_eval) on_eval(e);
  return e;
}

Baselines evaluate_baselines(Evaluator& ev, const SpaceSpec& spec, Objective obj,
                             const std::function<void(const std::string&, const Evaluation&)>& on_eval) {
  Baselines b;
  auto tagged = [&](const std::string& label) {
    return [&, label](const Evaluation& e) {
      if (on_eval) on_eval(label, e);
    };
  };
  protect::DesignPoint base;
  base.accel = spec.accel;
  b.unprotected = ev.evaluate(protect::reference_design(base, protect::Preset::Unprotected));
  tagged("unprotected")(b.unprotected);
  b.full_tmr = ev.evaluate(protect::reference_design(base, protect::Preset::FullTmr));
  tagged("full_tmr")(b.full_tmr);
  const int a = spec.accel.abits;
  std::vector<protect::DesignPoint> alg, arch, circ;
  for (int k : spec.k)
    if (k < a) {
      protect::DesignPoint d = base;
      d.k = k;
      alg.push_back(d);
    }
  for (double f : spec.fraction)
    if (f > 0)
      for (int u : spec.lanes) {
        protect::DesignPoint d = base;
        d.fraction = f;
        d.lanes = u;
        arch.push_back(d);
      }
  for (int h = std::max(1, spec.harden_min); h <= spec.harden_max; ++h) {
    protect::DesignPoint d = base;
    d.harden_bits = h;
    circ.push_back(d);
  }
  auto best = [&](std::vector<protect::DesignPoint> c, const std::string& label, Evaluation fallback) {
    if (c.empty()) return fallback;
    return cheapest_feasible(ev, obj, std::move(c), tagged(label));
  };
  b.algorithm_only = best(alg, "algorithm_only", b.unprotected);
  b.architecture_only = best(arch, "architecture_only", b.unprotected);
  b.circuit_only = best(circ, "circuit_only", b.unprotected);
  return b;
}

OptimizeResult optimize(Evaluator& ev, const SpaceSpec& spec, Objective obj, Method m, opt::SearchOptions so,
                        const std::vector<std::string>& layer_names, const Baselines* warm,
                        const std::function<void(const Evaluation&, const opt::Trial&, const opt::SearchResult&)>& on_eval) {
  CrossLayerProblem problem(ev, spec, obj, layer_names);
  if (warm && m == Method::Bo)
    for (const Evaluation* e : {&warm->algorithm_only, &warm->architecture_only, &warm->circuit_only})
      if (e->feasible && e->design.preset == protect::Preset::None) so.warm_start.push_back(problem.encode(e->design));
  OptimizeResult r;
  auto cb = [&](const opt::Trial& t, const opt::SearchResult& so_far) {
    if (on_eval) on_eval(problem.evaluations().back(), t, so_far);
  };
  switch (m) {
    case Method::Bo: r.search = opt::bayes_optimize(problem, so, cb); break;
    case Method::Random: r.search = opt::random_search(problem, so, cb); break;
    case Method::Grid: r.search = opt::grid_search(problem, so, cb); break;
  }
  r.history = problem.evaluations();
  if (r.search.best) r.best = r.history.at(*r.search.best);
  return r;
}

}  // namespace ftdla::dse
