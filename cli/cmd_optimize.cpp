// SPDX-License-Identifier: MIT
// `ftdla evaluate` (one design point) and `ftdla optimize` (cross-layer co-optimization).
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "commands.hpp"
#include "common.hpp"
#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/dse/cross_layer.hpp"
#include "ftdla/model/onnx_import.hpp"

namespace ftdla::cli {

namespace {

nlohmann::json read_json(const std::string& path, const std::string& what) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(what + " " + path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
}

std::string default_cache_path() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string dir = xdg && *xdg ? std::string(xdg) : (home && *home ? std::string(home) + "/.cache" : std::string());
  if (dir.empty()) return "";
  ::mkdir(dir.c_str(), 0755);
  dir += "/ftdla";
  ::mkdir(dir.c_str(), 0755);
  return dir + "/evaluations.jsonl";
}

/// Options shared by evaluate and optimize, and the Evaluator they build.
struct DseArgs {
  ModelArgs model;
  MemoryArgs memory;
  std::string constraints_path, cost_path, cache = "default";
  dse::Environment environment;  ///< options bind straight to it: its defaults are the CLI's defaults
  void add_to(CLI::App& app) {
    model.add_to(app);
    app.add_option("--ber", environment.ber, "bit error rate of the fault environment")->capture_default_str();
    app.add_option("--constraints", constraints_path, "JSON: max_accuracy_drop, max_faulty_drop, min_faulty_accuracy, max_latency_overhead");
    app.add_option("--cost-table", cost_path, "JSON overriding the component cost table");
    app.add_option("--trials", environment.trials, "faulty inferences per evaluation")->capture_default_str();
    app.add_option("--fault-images", environment.fault_images, "test images used for fault injection")->capture_default_str();
    app.add_option("--eval-images", environment.eval_images, "test images for clean accuracy")->capture_default_str();
    app.add_option("--seed", environment.seed, "random seed")->capture_default_str();
    memory.add_to(app);
    app.add_option("--cache", cache, "evaluation cache file (JSON lines), 'none' to disable; default ~/.cache/ftdla/evaluations.jsonl");
  }
  dse::Environment env() const {
    dse::Environment e = environment;
    e.max_memory = memory.bytes();
    e.validate();
    return e;
  }
  dse::Constraints cons() const {
    return constraints_path.empty() ? dse::Constraints{} : dse::parse_constraints(read_json(constraints_path, "--constraints"));
  }
  cost::ComponentTable table() const {
    return cost_path.empty() ? cost::ComponentTable{} : cost::ComponentTable::from_json(read_json(cost_path, "--cost-table"));
  }
  std::string cache_path() const { return cache == "none" ? "" : cache == "default" ? default_cache_path() : cache; }
};

struct Loaded {
  model::Graph g;
  data::Dataset test, calib;
  std::unique_ptr<TempDir> rank_cache;  ///< under MPI, a non-root rank's private copy of the cache
  std::unique_ptr<dse::Evaluator> ev;
  std::vector<std::string> layers;
};

std::unique_ptr<Loaded> load(const DseArgs& a, const dse::Environment& env) {
  auto l = std::make_unique<Loaded>();
  const quant::QuantOptions qo = a.model.quant_options();
  const dse::Constraints cons = a.cons();
  const cost::ComponentTable table = a.table();
  l->g = model::load_onnx(a.model.model);
  l->test = data::load_split(a.model.data, "test", a.model.data_options(std::max(env.eval_images, env.fault_images)));
  l->calib = data::load_split(a.model.data, "train", a.model.data_options(qo.calib_images));
  std::string cache = a.cache_path();
  if (dist::size() > 1 && !cache.empty()) {
    // The cache decides which designs are run, and a run is a collective under MPI, so every rank must
    // start from the same cache: the root reads the file once and the other ranks get a private copy
    // (their appends go there and are dropped); only the root appends to the real file. (A concurrent
    // writer between this read and the root Evaluator's own read is the one race left.)
    std::string bytes;
    if (dist::is_root()) {
      std::ifstream in(cache, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      bytes = ss.str();
    }
    dist::broadcast(bytes);
    if (!dist::is_root()) {
      l->rank_cache = std::make_unique<TempDir>("ftdla-cache");
      cache = l->rank_cache->file("evaluations.jsonl");
      write_file_atomic(cache, bytes);
    }
  }
  l->ev = std::make_unique<dse::Evaluator>(l->g, l->test, l->calib, qo, env, cons, table, dse::file_fingerprint(a.model.model),
                                           cache);
  for (const auto& n : l->g.nodes)
    if (model::is_compute(n.op)) l->layers.push_back(n.name);
  return l;
}

std::string design_text(const protect::DesignPoint& d) {
  if (d.preset != protect::Preset::None) return protect::preset_name(d.preset);
  char buf[160];
  std::string k = d.k ? std::to_string(d.k) : (d.k_per_layer.empty() ? "A" : "per-layer");
  std::snprintf(buf, sizeof buf, "k=%s f=%.2f U=%d h=%d", k.c_str(), d.fraction, d.lanes, d.harden_bits);
  return buf;
}

void print_eval(const char* tag, const dse::Evaluation& e) {
  std::printf("%-18s %-26s clean %.4f faulty %.4f [%.4f,%.4f] area %+7.2f%% energy %+7.2f%% latency %+6.2f%% %s%s\n", tag,
              design_text(e.design).c_str(), e.clean_accuracy, e.faulty_accuracy, e.faulty.lo, e.faulty.hi,
              100 * e.overheads.area, 100 * e.overheads.energy, 100 * e.overheads.latency,
              e.feasible ? "feasible" : "infeasible", e.cached ? " (cached)" : "");
  std::fflush(stdout);
}

}  // namespace

void add_evaluate(CLI::App& root) {
  auto* app = root.add_subcommand("evaluate", "accuracy under faults, SDC and cost of one protected design point");
  auto a = std::make_shared<DseArgs>();
  auto design_path = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  a->add_to(*app);
  app->add_option("--design", *design_path, "design point JSON (k, protected, lanes, harden_bits, accel, or preset)")->required();
  app->add_option("--json", *json_out, "write the result JSON here");
  app->callback([a, design_path, json_out] {
    const protect::DesignPoint d = protect::parse_design(read_json(*design_path, "--design"));
    const dse::Environment env = a->env();
    auto l = load(*a, env);
    const dse::Evaluation e = l->ev->evaluate(d);
    print_eval("design", e);
    if (!json_out->empty()) {
      nlohmann::json j = dse::to_json(e);
      j["model"] = a->model.model;
      j["environment"] = dse::to_json(env);
      j["constraints"] = dse::to_json(l->ev->constraints());
      j["baseline_clean_accuracy"] = l->ev->baseline_accuracy(d.accel);
      j["reliability_target"] = l->ev->reliability_target(d.accel);
      add_run_info(j, job_peak_rss_mb());
      add_memory_info(j, env.max_memory, l->ev->golden_stored(), l->ev->golden_bytes());
      write_json(*json_out, j);
    }
  });
}

void add_optimize(CLI::App& root) {
  auto* app = root.add_subcommand("optimize", "cheapest cross-layer protection meeting accuracy, reliability and latency constraints");
  auto a = std::make_shared<DseArgs>();
  struct Opt {
    std::string space_path, method = "bo", objective = "area", json;
    size_t budget = 30;
    bool no_baselines = false;
  };
  auto o = std::make_shared<Opt>();
  a->add_to(*app);
  app->add_option("--budget", o->budget, "fault-injection evaluations of the search (default 30)");
  app->add_option("--space", o->space_path, "design space JSON (k, fraction, lanes, harden_min/max, per_layer_k, accel)");
  app->add_option("--method", o->method, "bo | random | grid");
  app->add_option("--objective", o->objective, "area | energy | area_energy");
  app->add_option("--json", o->json, "write best, history and baselines as JSON");
  app->callback([a, o] {
    const dse::Method method = dse::parse_method(o->method);
    const dse::Objective obj = dse::parse_objective(o->objective);
    const dse::SpaceSpec spec = o->space_path.empty() ? dse::SpaceSpec{} : dse::parse_space(read_json(o->space_path, "--space"));
    if (o->budget < 1) throw ConfigError("--budget: must be >= 1");
    const dse::Environment env = a->env();
    auto l = load(*a, env);
    std::printf("ftdla optimize: %s, BER %.3g (%s site), %lld faulty inferences per evaluation, objective %s overhead\n",
                a->model.model.c_str(), env.ber, fault::site_name(env.site), static_cast<long long>(env.trials),
                dse::objective_name(obj));
    const double base_acc = l->ev->baseline_accuracy(spec.accel);
    std::printf("baseline clean int%d accuracy %.4f (%.4f on the fault images); constraints: clean >= %.4f, faulty >= %.4f, "
                "latency <= +%.1f%%\n",
                spec.accel.abits, base_acc, l->ev->baseline_fault_accuracy(spec.accel),
                base_acc - l->ev->constraints().max_accuracy_drop,
                l->ev->reliability_target(spec.accel),
                100 * l->ev->constraints().max_latency_overhead);
    std::printf("-- reference designs and single-layer bests --\n");
    const dse::Baselines b = dse::evaluate_baselines(*l->ev, spec, obj, [](const std::string& label, const dse::Evaluation& e) {
      print_eval(label.c_str(), e);
    });
    std::printf("-- %s search, budget %zu --\n", o->method.c_str(), o->budget);
    opt::SearchOptions so;
    so.budget = o->budget;
    so.seed = env.seed;
    so.initial = std::min<size_t>(o->budget, 8);
    int n = 0;
    const dse::OptimizeResult r = dse::optimize(
        *l->ev, spec, obj, method, so, l->layers, &b,
        [&n, obj](const dse::Evaluation& e, const opt::Trial&, const opt::SearchResult& so_far) {
          char tag[48];
          const opt::Trial* best = so_far.best_trial();
          std::snprintf(tag, sizeof tag, "#%d best %s", ++n, best ? (std::to_string(static_cast<int>(100 * best->outcome.objective * 100) / 100.0).substr(0, 6) + "%").c_str() : "-");
          (void)obj;
          print_eval(tag, e);
        });
    // Headline comparison.
    std::printf("\n%-18s %-26s %9s %9s %9s %9s %s\n", "design", "knobs", "area", "energy", "latency", "faulty", "feasible");
    auto row = [](const char* name, const dse::Evaluation& e) {
      std::printf("%-18s %-26s %+8.2f%% %+8.2f%% %+8.2f%% %9.4f %s\n", name, design_text(e.design).c_str(), 100 * e.overheads.area,
                  100 * e.overheads.energy, 100 * e.overheads.latency, e.faulty_accuracy, e.feasible ? "yes" : "no");
    };
    row("unprotected", b.unprotected);
    row("full_tmr", b.full_tmr);
    row("algorithm_only", b.algorithm_only);
    row("architecture_only", b.architecture_only);
    row("circuit_only", b.circuit_only);
    if (r.best) row("cross_layer (best)", *r.best);
    else std::printf("cross_layer (best)  no feasible design found within the budget\n");
    std::printf("search: %zu evaluations (%lld run, %lld from cache), stopped: %s\n", r.search.history.size(),
                static_cast<long long>(l->ev->evaluations()), static_cast<long long>(l->ev->cache_hits()),
                opt::to_string(r.search.stop_reason));
    if (!o->json.empty()) {
      auto summary = [](const dse::Evaluation& e) {
        nlohmann::json j = dse::to_json(e);
        return j;
      };
      nlohmann::json hist = nlohmann::json::array();
      for (size_t i = 0; i < r.history.size(); ++i) {
        nlohmann::json h = summary(r.history[i]);
        h["source"] = opt::to_string(r.search.history[i].source);
        h["objective"] = r.search.history[i].outcome.objective;
        hist.push_back(h);
      }
      nlohmann::json j = {
          {"model", a->model.model},
          {"method", o->method},
          {"objective", dse::objective_name(obj)},
          {"budget", o->budget},
          {"seed", env.seed},
          {"environment", dse::to_json(env)},
          {"constraints", dse::to_json(l->ev->constraints())},
          {"space", dse::to_json(spec)},
          {"baseline_clean_accuracy", base_acc},
          {"reliability_target", l->ev->reliability_target(spec.accel)},
          {"best", r.best ? summary(*r.best) : nlohmann::json(nullptr)},
          {"history", hist},
          {"stop_reason", opt::to_string(r.search.stop_reason)},
          {"baselines",
           {{"unprotected", summary(b.unprotected)},
            {"full_tmr", summary(b.full_tmr)},
            {"algorithm_only", summary(b.algorithm_only)},
            {"architecture_only", summary(b.architecture_only)},
            {"circuit_only", summary(b.circuit_only)}}}};
      add_run_info(j, job_peak_rss_mb());
      add_memory_info(j, env.max_memory, l->ev->golden_stored(), l->ev->golden_bytes());
      write_json(o->json, j);
    }
  });
}

}  // namespace ftdla::cli
