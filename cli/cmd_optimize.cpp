// SPDX-License-Identifier: MIT
// `ftdla evaluate` (one design point) and `ftdla optimize` (cross-layer co-optimization).
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "common.hpp"
#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/hash.hpp"
#include "ftdla/dse/cross_layer.hpp"
#include "ftdla/fault/checkpoint.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/report/report.hpp"

namespace ftdla::cli {

namespace {

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
  int64_t validation_images = -1, validation_trials = 20000;  ///< -1: half the test set, at most 5,000
  int64_t images = 0;  ///< --images: sets fault_images and eval_images (0 = their defaults)
  CLI::Option* images_opt = nullptr;
  CLI::Option* validation_trials_opt = nullptr;
  void add_to(CLI::App& app, bool validation) {
    model.add_to(app, true, false,
                 validation ? "optimize takes the bit widths from the design space (--space JSON \"accel\": {\"wbits\", "
                              "\"abits\", \"accbits\"}, default 8/8/32)"
                            : "evaluate takes the bit widths from the design (--design JSON \"accel\": {\"wbits\", \"abits\", "
                              "\"accbits\"}, default 8/8/32)");
    app.add_option("--ber", environment.ber, "bit error rate of the fault environment");
    app.add_option("--constraints", constraints_path, "JSON: max_accuracy_drop, max_faulty_drop, min_faulty_accuracy, max_latency_overhead");
    app.add_option("--cost-table", cost_path,
                   "price designs with this component cost table (JSON) instead of synthesizing them "
                   "(default: Yosys + OpenSTA on the osu018 cells; FTDLA_LIBERTY selects another Liberty file)");
    app.add_option("--trials", environment.trials, "faulty inferences at an evaluation's first look (then doubled until decided)")
        ->check(kNonNegative);
    app.add_option("--max-trials", environment.max_trials, "cap on faulty inferences per evaluation; still undecided there = infeasible")
        ->check(kNonNegative);
    app.add_option("--risk", environment.risk,
                   "probability of a wrong feasible (or infeasible) call per constraint: decisions use one-sided bounds at this level");
    images_opt = app.add_option("--images", images,
                                "test images for clean accuracy and for fault injection, capped by the search images (0 = "
                                "defaults: " + std::to_string(environment.eval_images) + " for clean accuracy, " +
                                    std::to_string(environment.fault_images) + " for fault injection)")
                     ->check(kNonNegative);
    // The two counts separately (hidden; --images sets both).
    add_deprecated(app, "--fault-images", images_opt, environment.fault_images)->check(kNonNegative);
    add_deprecated(app, "--eval-images", images_opt, environment.eval_images)->check(kNonNegative);
    app.add_option("--seed", environment.seed, "random seed")->check(kNonNegative);
    app.add_option("--validation-images", validation_images,
                   std::string("last test images held out from the search") +
                       (validation ? " and used to validate its results (0 = no validation)" : " (as in optimize, so that results match)") +
                       "; -1 = half the test set, at most 5000");
    validation_trials_opt = app.add_option("--validation-trials", validation_trials,
                   validation ? "faulty inferences per design in the validation (>= 1)" : "faulty inferences for --held-out (>= 1)")
        ->check(kNonNegative);
    memory.add_to(app);
    app.add_option("--cache", cache, "evaluation cache file (JSON lines), 'none' to disable; default ~/.cache/ftdla/evaluations.jsonl");
  }
  dse::Environment env() const {
    model.check_unused();
    environment.test().validate();  // names --risk, --trials, --max-trials
    dse::Environment e = environment;
    if (images_opt && images_opt->count() > 0 && images > 0) e.fault_images = e.eval_images = images;
    e.max_memory = memory.bytes();
    e.validate();
    if (cache != "none" && cache != "default") check_output_file(cache, "--cache");
    return e;
  }
  dse::Constraints cons() const {
    return constraints_path.empty() ? dse::Constraints{} : dse::parse_constraints(read_json(constraints_path, "--constraints"));
  }
  cost::ComponentTable table() const {
    return cost_path.empty() ? cost::ComponentTable{} : cost::ComponentTable::from_json(read_json(cost_path, "--cost-table"));
  }
  std::string cache_path() const { return cache == "none" ? "" : cache == "default" ? default_cache_path() : cache; }
  /// The synthesized cost model (null with --cost-table); throws naming the missing tool or library.
  std::shared_ptr<const cost::SynthesizedCostModel> cost_model() const {
    if (!cost_path.empty()) return nullptr;
    if (!synth) synth = std::make_shared<const cost::SynthesizedCostModel>(cost::SynthesisTools::from_environment());
    return synth;
  }
  mutable std::shared_ptr<const cost::SynthesizedCostModel> synth;
};

struct Loaded {
  model::Graph g;
  data::Dataset test, validation, calib;
  std::unique_ptr<TempDir> rank_cache;  ///< under MPI, a non-root rank's private copy of the cache
  std::unique_ptr<dse::Evaluator> ev;
  std::string cache;  ///< the evaluation cache this rank uses ("" = none)
  int64_t validation_images = 0;  ///< held-out images (--validation-images resolved)
  std::vector<std::string> layers;
};

std::unique_ptr<Loaded> load(const DseArgs& a, const dse::Environment& env) {
  auto l = std::make_unique<Loaded>();
  const quant::QuantOptions qo = a.model.quant_options();
  const dse::Constraints cons = a.cons();
  const cost::ComponentTable table = a.table();
  const auto cost_model = a.cost_model();  // before any long work: a missing tool is reported at once
  l->g = model::load_onnx(a.model.model);
  const data::Dataset all_test = data::load(a.model.source(), "test", a.model.data_options());
  quant::check_input_fits(l->g, all_test);
  quant::check_labels(l->g, all_test);
  const int64_t n = all_test.count();
  const int64_t v = a.validation_images < 0 ? std::min<int64_t>(5000, n / 2) : a.validation_images;
  if (v < 0 || v >= n)
    throw ConfigError("--validation-images: must be in [0, " + std::to_string(n) + ") so that images remain for the search (got " +
                      std::to_string(v) + ")");
  // The search sees the first images, the validation the last ones: it never judges on what it searched.
  l->test = data::subset(all_test, 0, n - v);
  l->validation = data::subset(all_test, n - v, n);
  l->validation_images = v;
  l->calib = data::load(a.model.source(), "train", a.model.data_options(qo.calib_images));
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
  l->cache = cache;
  l->ev = std::make_unique<dse::Evaluator>(l->g, l->test, l->calib, qo, env, cons, table, dse::file_fingerprint(a.model.model),
                                           cache);
  if (cost_model) l->ev->use_synthesized_costs(cost_model);
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
  std::printf("%-18s %-26s clean %.4f faulty %.4f [%.4f,%.4f] n=%-5lld area %+7.2f%% energy %+7.2f%% latency %+6.2f%% %s%s\n",
              tag, design_text(e.design).c_str(), e.clean_accuracy, e.faulty_accuracy, e.faulty.lo, e.faulty.hi,
              static_cast<long long>(e.injections), 100 * e.overheads.area, 100 * e.overheads.energy,
              100 * e.overheads.latency, e.decision.c_str(), e.cached ? " (cached)" : "");
  std::fflush(stdout);
}

/// The validation record of a design: evaluated again on held-out images with a fresh seed (the
/// accuracy, target, sample and decision fields of its evaluation JSON, and the seed).
nlohmann::json validation_json(const dse::Evaluation& v, uint64_t seed) {
  const nlohmann::json all = dse::to_json(v);
  nlohmann::json j = {{"seed", seed}};
  for (const char* key : {"faulty_accuracy", "faulty_accuracy_ci95", "reliability_target", "clean_accuracy", "clean_target",
                          "injections", "images", "feasible", "decision"})
    j[key] = all.at(key);
  return j;
}

/// The environment of the independent validation: held-out images, a fixed sample, fresh faults.
dse::Environment validation_env(const DseArgs& a, const Loaded& l, const dse::Environment& env) {
  if (l.validation_images < 1) throw ConfigError("--validation-images: must be >= 1 to validate");
  if (a.validation_trials < 1) throw ConfigError("--validation-trials: must be >= 1 (got " + std::to_string(a.validation_trials) + ")");
  dse::Environment v = env;
  v.seed = Rng::derive(env.seed, 0x56414c49ULL)() >> 11;  // unrelated to the search's faults; < 2^53 (exact in JSON)
  v.trials = v.max_trials = a.validation_trials;
  v.fault_images = v.eval_images = l.validation_images;
  return v;
}

std::unique_ptr<dse::Evaluator> validation_evaluator(const DseArgs& a, const Loaded& l, const dse::Environment& venv) {
  auto ev = std::make_unique<dse::Evaluator>(l.g, l.validation, l.calib, a.model.quant_options(), venv, l.ev->constraints(),
                                             a.table(), dse::file_fingerprint(a.model.model), l.cache);
  if (const auto m = a.cost_model()) ev->use_synthesized_costs(m);
  return ev;
}

}  // namespace

void add_evaluate(CLI::App& root) {
  auto* app = root.add_subcommand("evaluate", "accuracy under faults, SDC and cost of one protected design point");
  auto a = std::make_shared<DseArgs>();
  auto design_path = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  a->add_to(*app, false);
  app->add_option("--design", *design_path, "design point JSON (k, protected, lanes, harden_bits, accel, or preset)")->required();
  app->add_option("--json", *json_out, "write the result JSON here (- for stdout, all text then on stderr)");
  app->footer("Example: ftdla evaluate models/lenet5.onnx --design examples/configs/design_full_tmr.json --ber 2e-3 --json eval.json\n");
  auto held_out = std::make_shared<bool>(false);
  app->add_flag("--held-out", *held_out,
                "also evaluate it as optimize validates its results: on the held-out images, --validation-trials "
                "faulty inferences, a fresh seed (the protected channels stay those ranked on the search images)");
  app->callback([a, design_path, json_out, held_out] {
    const protect::DesignPoint d = protect::parse_design(read_json(*design_path, "--design"));
    const dse::Environment env = a->env();
    check_output_file(*json_out, "--json");
    if (*json_out == "-") json_to_stdout();
    if (a->validation_trials_opt->count() > 0 && !*held_out) throw ConfigError("--validation-trials: only used with --held-out");
    auto l = load(*a, env);
    const dse::Evaluation e = l->ev->evaluate(d);
    print_eval("design", e);
    std::optional<dse::Evaluation> v;
    dse::Environment venv;
    if (*held_out) {
      venv = validation_env(*a, *l, env);
      const auto vev = validation_evaluator(*a, *l, venv);
      if (d.preset == protect::Preset::None && d.fraction > 0) vev->use_channel_scores(d.accel, l->ev->channel_scores(d.accel));
      v = vev->evaluate(d);
      print_eval("held-out", *v);
    }
    if (!json_out->empty()) {
      nlohmann::json j = dse::to_json(e);
      j["model"] = a->model.model;
      j["environment"] = dse::to_json(env);
      j["constraints"] = dse::to_json(l->ev->constraints());
      j["baseline_clean_accuracy"] = l->ev->baseline_accuracy(d.accel);
      if (v) j["validation"] = validation_json(*v, venv.seed);
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
    std::string space_path, method = "bo", objective = "area", json, report;
    size_t budget = 30;
    bool no_baselines = false;
    bool resume = false;
  };
  auto o = std::make_shared<Opt>();
  a->add_to(*app, true);
  app->add_option("--budget", o->budget, "fault-injection evaluations of the search")->check(kNonNegative);
  app->add_option("--space", o->space_path, "design space JSON (k, fraction, lanes, harden_min/max, per_layer_k, accel)");
  app->add_option("--method", o->method, "bo | random | grid");
  app->add_option("--objective", o->objective, "area | energy | area_energy");
  app->add_option("--json", o->json,
                  "write best, history and baselines as JSON (written atomically, also after every evaluation during the "
                  "run); - for stdout (final result only, all text then on stderr)");
  app->add_option("--report", o->report, "also write an HTML report of the result here (as `ftdla report`)");
  app->add_flag("--resume", o->resume,
                "continue the run saved in --json (replays its evaluations, then goes on: the same result as an "
                "uninterrupted run)");
  app->footer("Example: ftdla optimize models/lenet5.onnx --ber 2e-3 --budget 30 --objective area --json optimize.json --report optimize.html\n");
  app->callback([a, o] {
    const dse::Method method = dse::parse_method(o->method);
    const dse::Objective obj = dse::parse_objective(o->objective);
    const dse::SpaceSpec spec = o->space_path.empty() ? dse::SpaceSpec{} : dse::parse_space(read_json(o->space_path, "--space"));
    if (o->budget < 1) throw ConfigError("--budget: must be >= 1");
    const dse::Environment env = a->env();
    if (o->resume && (o->json.empty() || o->json == "-")) throw ConfigError("--resume: needs --json FILE holding the run (not -)");
    check_output_file(o->json, "--json");
    if (a->validation_trials_opt->count() > 0 && a->validation_images == 0)
      throw ConfigError("--validation-trials: not used with --validation-images 0 (no validation)");
    // Everything that determines the result: a resumed run must match it exactly.
    nlohmann::json config = to_json(a->model);
    config["model_fnv1a64"] = model_fingerprint(a->model);
    config["method"] = o->method;
    config["objective"] = dse::objective_name(obj);
    config["budget"] = o->budget;
    config["environment"] = dse::to_json(env);
    config["constraints"] = dse::to_json(a->cons());
    config["space"] = dse::to_json(spec);
    config["validation_images"] = a->validation_images;
    config["validation_trials"] = a->validation_trials;
    config["cost_table_fnv1a64"] = a->cost_path.empty() ? std::string() : hex64(fnv1a64(read_file(a->cost_path)));
    config["cache"] = a->cache;
    nlohmann::json saved;
    if (o->resume) {
      saved = fault::read_checksummed(o->json);
      if (!saved.contains("config") || saved["config"] != config) {
        std::string diff;
        if (saved.contains("config") && saved["config"].is_object())
          for (auto& [k, v] : config.items())
            if (!saved["config"].contains(k) || saved["config"][k] != v) { diff = k; break; }
        throw ConfigError(o->json + ": resume file was made with a different configuration" +
                          (diff.empty() ? std::string() : " (" + diff + " differs)") + "; not overwriting it");
      }
      if (!saved.contains("measurements")) throw ImportError(o->json + ": cannot resume, no saved measurements");
    }
    if (o->json == "-") json_to_stdout();
    const std::atomic<bool>& stop = install_stop_handler();
    auto l = load(*a, env);
    if (o->resume) l->ev->replay(saved["measurements"], o->json);
    std::printf("ftdla optimize: %s, BER %.3g (%s site), objective %s overhead; %lld search images, %lld held out\n"
                "each evaluation: %lld faulty inferences, doubled until every constraint is decided at risk %.3g (at most %lld)\n",
                a->model.model.c_str(), env.ber, fault::site_name(env.site), dse::objective_name(obj),
                static_cast<long long>(l->test.count()), static_cast<long long>(l->validation_images),
                static_cast<long long>(env.trials), env.risk, static_cast<long long>(env.max_trials));
    const double base_acc = l->ev->baseline_accuracy(spec.accel);
    std::printf("baseline clean int%d accuracy %.4f (%.4f on the fault images); constraints: clean >= %.4f, faulty >= %.4f, "
                "latency <= +%.1f%%\n",
                spec.accel.abits, base_acc, l->ev->baseline_fault_accuracy(spec.accel),
                base_acc - l->ev->constraints().max_accuracy_drop,
                l->ev->reliability_target(spec.accel),
                100 * l->ev->constraints().max_latency_overhead);
    // The fields known before the search; the partial result written after every evaluation has them.
    nlohmann::json head = {{"model", a->model.model},
                           {"method", o->method},
                           {"objective", dse::objective_name(obj)},
                           {"budget", o->budget},
                           {"seed", env.seed},
                           {"risk", env.risk},
                           {"cost_source", l->ev->cost_source()},
                           {"environment", dse::to_json(env)},
                           {"constraints", dse::to_json(l->ev->constraints())},
                           {"space", dse::to_json(spec)},
                           {"search_images", l->test.count()},
                           {"validation_images", l->validation_images},
                           {"baseline_clean_accuracy", base_acc},
                           {"reliability_target", l->ev->reliability_target(spec.accel)}};
    // Crash safety: after every evaluation the result file holds the evaluations measured so far (by
    // cache key) and the history; --resume replays them (the search is deterministic given the seed and
    // the evaluation results) and continues. A signal stops the run after the evaluation in progress.
    nlohmann::json partial_hist = nlohmann::json::array();
    int64_t done_evals = 0;
    struct Stopped {};
    auto save_partial = [&] {
      if (o->json.empty() || o->json == "-") return;
      nlohmann::json j = head;
      j["completed"] = false;
      j["history"] = partial_hist;
      j["evaluations_done"] = done_evals;
      j["config"] = config;
      j["measurements"] = l->ev->measured();
      write_json(o->json, fault::with_checksum(std::move(j)));
    };
    auto after_evaluation = [&] {
      ++done_evals;
      save_partial();
      if (dist::any(stop.load())) throw Stopped{};
    };
    auto interrupted = [&](const char* during) {
      if (dist::is_root())
        std::fprintf(stderr, "ftdla: interrupted %s after %lld evaluations%s\n", during, static_cast<long long>(done_evals),
                     o->json.empty() || o->json == "-" ? "" : ("; saved to " + o->json + ", continue with --resume").c_str());
      return Interrupted();
    };
    std::printf("-- reference designs and single-layer bests --\n");
    std::optional<dse::Baselines> bopt;
    try {
      bopt = dse::evaluate_baselines(*l->ev, spec, obj, [&](const std::string& label, const dse::Evaluation& e) {
        if (!quiet()) print_eval(label.c_str(), e);
        after_evaluation();
      });
    } catch (const Stopped&) {
      throw interrupted("in the reference designs");
    }
    const dse::Baselines& b = *bopt;
    std::printf("-- %s search, budget %zu --\n", o->method.c_str(), o->budget);
    opt::SearchOptions so;
    so.budget = o->budget;
    so.seed = env.seed;
    so.initial = std::min<size_t>(o->budget, 8);
    int n = 0;
    // Progress on stderr: k/N search evaluations and an ETA from the evaluations measured by this process
    // (replayed ones take no time).
    double live_seconds = 0.0;
    int64_t live = 0, replayed_before = l->ev->replayed();
    std::optional<dse::OptimizeResult> ropt;
    try {
      ropt = dse::optimize(
          *l->ev, spec, obj, method, so, l->layers, &b,
          [&](const dse::Evaluation& e, const opt::Trial& t, const opt::SearchResult& so_far) {
            char tag[48];
            const opt::Trial* best = so_far.best_trial();
            std::snprintf(tag, sizeof tag, "#%d best %s", ++n, best ? (std::to_string(static_cast<int>(100 * best->outcome.objective * 100) / 100.0).substr(0, 6) + "%").c_str() : "-");
            if (!quiet()) print_eval(tag, e);
            nlohmann::json h = dse::to_json(e);
            h["source"] = opt::to_string(t.source);
            h["objective"] = t.outcome.objective;
            partial_hist.push_back(h);
            if (l->ev->replayed() == replayed_before) {
              live_seconds += e.seconds;
              ++live;
            }
            replayed_before = l->ev->replayed();
            if (!quiet() && dist::is_root()) {
              const size_t left = o->budget > static_cast<size_t>(n) ? o->budget - static_cast<size_t>(n) : 0;
              if (live > 0)
                std::fprintf(stderr, "optimize: %d/%zu evaluations, ETA %.0fs\n", n, o->budget,
                             live_seconds / static_cast<double>(live) * static_cast<double>(left));
              else
                std::fprintf(stderr, "optimize: %d/%zu evaluations (replayed)\n", n, o->budget);
            }
            after_evaluation();
          });
    } catch (const Stopped&) {
      throw interrupted("in the search");
    }
    const dse::OptimizeResult& r = *ropt;
    // Independent validation: the chosen design and every baseline again, on held-out images with a
    // fresh seed and a fixed, larger sample; the table reports these figures.
    std::vector<std::pair<std::string, const dse::Evaluation*>> rows = {
        {"unprotected", &b.unprotected},         {"full_tmr", &b.full_tmr},
        {"algorithm_only", &b.algorithm_only},   {"architecture_only", &b.architecture_only},
        {"circuit_only", &b.circuit_only}};
    if (r.best) rows.push_back({"cross_layer", &*r.best});
    std::map<std::string, dse::Evaluation> validated;
    dse::Environment venv;
    if (l->validation_images > 0) {
      venv = validation_env(*a, *l, env);
      std::printf("-- validation: %lld held-out images, %lld faulty inferences per design, seed %llu --\n",
                  static_cast<long long>(l->validation_images), static_cast<long long>(a->validation_trials),
                  static_cast<unsigned long long>(venv.seed));
      const auto vev = validation_evaluator(*a, *l, venv);
      for (const auto& [name, e] : rows) {
        if (dist::any(stop.load())) throw interrupted("in the validation");
        if (e->design.preset == protect::Preset::None && e->design.fraction > 0)
          vev->use_channel_scores(e->design.accel, l->ev->channel_scores(e->design.accel));
        validated[name] = vev->evaluate(e->design);
        print_eval(name.c_str(), validated[name]);
      }
    }
    // Headline comparison (validated figures when there is a validation).
    const bool have_v = !validated.empty();
    std::printf("\n%-18s %-26s %9s %9s %9s %27s %s\n", "design", "knobs", "area", "energy", "latency",
                have_v ? "faulty (validated) [95%]" : "faulty [95%]", have_v ? "validated" : "decision");
    for (const auto& [name, e] : rows) {
      const dse::Evaluation& f = have_v ? validated.at(name) : *e;
      std::printf("%-18s %-26s %+8.2f%% %+8.2f%% %+8.2f%% %9.4f [%.4f,%.4f] %s\n", name.c_str(), design_text(e->design).c_str(),
                  100 * e->overheads.area, 100 * e->overheads.energy, 100 * e->overheads.latency, f.faulty_accuracy,
                  f.faulty.lo, f.faulty.hi, f.decision.c_str());
    }
    if (!r.best) std::printf("cross_layer         no feasible design found within the budget\n");
    if (have_v)
      std::printf("validation target: faulty >= %.4f, clean >= %.4f (on the held-out images)\n",
                  validated.begin()->second.reliability_target, validated.begin()->second.clean_target);
    const long long search_injections = static_cast<long long>(l->ev->injections());
    std::printf("search: %zu evaluations (%lld run, %lld from cache), %lld faulty inferences in all, stopped: %s\n",
                r.search.history.size(), static_cast<long long>(l->ev->evaluations()),
                static_cast<long long>(l->ev->cache_hits()), search_injections, opt::to_string(r.search.stop_reason));
    if (!o->json.empty() || !o->report.empty()) {
      auto summary = [&](const std::string& name, const dse::Evaluation& e) {
        nlohmann::json j = dse::to_json(e);
        if (have_v && validated.count(name)) j["validation"] = validation_json(validated.at(name), venv.seed);
        return j;
      };
      nlohmann::json hist = nlohmann::json::array();
      for (size_t i = 0; i < r.history.size(); ++i) {
        nlohmann::json h = dse::to_json(r.history[i]);
        h["source"] = opt::to_string(r.search.history[i].source);
        h["objective"] = r.search.history[i].outcome.objective;
        hist.push_back(h);
      }
      nlohmann::json baselines;
      for (const auto& [name, e] : rows)
        if (name != "cross_layer") baselines[name] = summary(name, *e);
      nlohmann::json j = head;
      j["best"] = r.best ? summary("cross_layer", *r.best) : nlohmann::json(nullptr);
      j["history"] = hist;
      j["injections"] = search_injections;
      j["stop_reason"] = opt::to_string(r.search.stop_reason);
      j["baselines"] = baselines;
      add_run_info(j, job_peak_rss_mb());
      add_memory_info(j, env.max_memory, l->ev->golden_stored(), l->ev->golden_bytes());
      // What --resume needs (a completed run resumes to the same result).
      j["completed"] = true;
      j["evaluations_done"] = done_evals;
      j["config"] = config;
      j["measurements"] = l->ev->measured();
      j = fault::with_checksum(std::move(j));
      if (!o->json.empty()) write_json(o->json, j);
      if (!o->report.empty() && dist::is_root())
        report::write_report(o->report, {{o->json.empty() ? std::string("optimize run") : o->json, j}});
    }
  });
}

}  // namespace ftdla::cli
