#include "ftdla/dse/evaluator.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/dse/cross_layer.hpp"
#include "support/models.hpp"

namespace ftdla::dse {
namespace {

Environment small_env() {
  Environment e;
  e.ber = 2e-3;
  e.trials = 300;
  e.fault_images = 100;
  e.eval_images = 500;
  e.vuln_samples = 50;
  e.seed = 3;
  return e;
}

struct Fixture {
  model::Graph g = model::load_onnx(test::model_path("lenet5"));
  quant::QuantOptions qo = [] {
    quant::QuantOptions o;
    o.calib_images = 256;
    return o;
  }();
};

Fixture& fx() {
  static Fixture f;
  return f;
}

TEST(Evaluator, CachesAcrossRunsWithIdenticalResults) {
  const std::string cache = "/tmp/ftdla_eval_cache_test_" + std::to_string(::getpid()) + ".jsonl";
  ::unlink(cache.c_str());
  protect::DesignPoint d;
  d.harden_bits = 2;
  Evaluation first;
  {
    Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test", cache);
    first = ev.evaluate(d);
    EXPECT_FALSE(first.cached);
    EXPECT_EQ(ev.evaluations(), 1);
    EXPECT_TRUE(ev.evaluate(d).cached);  // same run
  }
  Evaluator again(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test", cache);
  const Evaluation second = again.evaluate(d);  // a new run reads the file
  EXPECT_TRUE(second.cached);
  EXPECT_EQ(again.evaluations(), 0);
  EXPECT_EQ(second.faulty.successes, first.faulty.successes);
  EXPECT_EQ(second.sdc.successes, first.sdc.successes);
  EXPECT_DOUBLE_EQ(second.clean_accuracy, first.clean_accuracy);
  // A different seed is a different fault configuration: not reused.
  Environment other = small_env();
  other.seed = 4;
  Evaluator third(fx().g, test::test_set(), test::calib_set(), fx().qo, other, {}, {}, "lenet5-test", cache);
  EXPECT_FALSE(third.evaluate(d).cached);
  ::unlink(cache.c_str());
}

protect::DesignPoint hardened_2() {
  protect::DesignPoint d;
  d.harden_bits = 2;
  return d;
}

// Measures `d` into the empty cache file `cache` and returns the line written there.
nlohmann::json measured_cache_line(const std::string& cache, const protect::DesignPoint& d) {
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test", cache);
  EXPECT_FALSE(ev.evaluate(d).cached);
  return nlohmann::json::parse(read_file(cache));
}

TEST(Evaluator, CacheEntriesWithImpossibleCountsAreMeasuredAgain) {
  const TempDir dir("ftdla-cache");
  const std::string cache = dir.file("evaluations.jsonl");
  const protect::DesignPoint d = hardened_2();
  nlohmann::json line = measured_cache_line(cache, d);
  const int64_t trials = line["metrics"]["trials"].get<int64_t>();
  for (const auto& [key, value] : std::vector<std::pair<std::string, int64_t>>{{"sdc", trials + 1}, {"golden_correct", -5}}) {
    nlohmann::json bad = line;
    bad["metrics"][key] = value;
    write_file_atomic(cache, bad.dump() + "\n");
    Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test", cache);
    EXPECT_FALSE(ev.evaluate(d).cached) << key << " = " << value;
  }
  write_file_atomic(cache, line.dump() + "\n");  // the unedited line is still a hit
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test", cache);
  EXPECT_TRUE(ev.evaluate(d).cached);
}

// Found while writing fuzz/evalcache_fuzz.cpp: a line whose counts were plausible but that lacked another figure
// (or held one of the wrong type) was loaded, and the cache hit then threw nlohmann::json's out_of_range /
// type_error out of evaluate() instead of measuring the design again.
TEST(Evaluator, CacheEntriesWithMissingOrMistypedFiguresAreMeasuredAgain) {
  const TempDir dir("ftdla-cache");
  const std::string cache = dir.file("evaluations.jsonl");
  const protect::DesignPoint d = hardened_2();
  const nlohmann::json line = measured_cache_line(cache, d);
  ASSERT_TRUE(parse_cache_line(line.dump(), cache).has_value());
  std::vector<nlohmann::json> bad(6, line);
  bad[0]["metrics"].erase("clean_diff");
  bad[1]["metrics"]["clean_target"] = "high";
  bad[2]["metrics"]["faulty"]["n"] = -1;
  bad[3]["metrics"]["reliability"] = nullptr;
  bad[4]["metrics"]["trials"] = 1e300;  // get<uint64_t> of it was undefined behaviour
  bad[5]["key"] = 7;
  for (const nlohmann::json& b : bad) {
    EXPECT_FALSE(parse_cache_line(b.dump(), cache).has_value()) << b.dump();
    write_file_atomic(cache, b.dump() + "\n");
    Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test", cache);
    Evaluation e;
    ASSERT_NO_THROW(e = ev.evaluate(d)) << b.dump();
    EXPECT_FALSE(e.cached) << b.dump();
  }
  Evaluation e;
  EXPECT_THROW(apply_metrics(bad[0]["metrics"], e, "m"), ImportError);
  EXPECT_THROW(apply_metrics(nlohmann::json::array(), e, "m"), ImportError);
}

TEST(Evaluator, ProtectionOrdersReliabilityAndCost) {
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test");
  protect::DesignPoint none;
  none.preset = protect::Preset::Unprotected;
  protect::DesignPoint tmr;
  tmr.preset = protect::Preset::FullTmr;
  const Evaluation u = ev.evaluate(none), t = ev.evaluate(tmr);
  EXPECT_EQ(t.sdc.successes, 0u);  // full TMR masks every fault
  EXPECT_GT(u.sdc.successes, 0u);
  EXPECT_GE(t.overheads.area, 2.0);  // three copies plus voters: at least +200%
  EXPECT_DOUBLE_EQ(u.overheads.area, 0.0);
  EXPECT_TRUE(t.feasible);
  EXPECT_FALSE(u.feasible);  // this environment costs the unprotected LeNet-5 several points
  const auto c = ev.constraint_values(u);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_GT(c[1], 0.0);  // reliability violated
  EXPECT_LE(c[0], 0.0);  // clean accuracy is the baseline itself
}

TEST(Evaluator, AdaptiveInjectionStopsOnceDecided) {
  Environment env = small_env();
  env.trials = 100;
  env.max_trials = 1600;
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, env, {}, {}, "lenet5-test");
  protect::DesignPoint none, tmr;
  none.preset = protect::Preset::Unprotected;
  tmr.preset = protect::Preset::FullTmr;
  const Evaluation u = ev.evaluate(none), t = ev.evaluate(tmr);
  // Both are clear-cut and decided well below the cap (full TMR never disagrees with the golden run, but
  // 0 disagreements in n trials only bounds the rate by about 3/n: it takes a few looks).
  EXPECT_LT(t.injections, env.max_trials);
  EXPECT_EQ(t.decision, "feasible");
  EXPECT_LT(u.injections, env.max_trials);
  EXPECT_EQ(u.decision, "infeasible");
  EXPECT_EQ(u.reliability_verdict, Verdict::Violated);
  EXPECT_EQ(ev.injections(), u.injections + t.injections);
  // Each look is a doubling of the previous one, so the count is always a look size.
  protect::DesignPoint h;
  h.harden_bits = 1;
  const Evaluation e = ev.evaluate(h);
  const SequentialTest s = env.test();
  bool on_schedule = false;
  for (int j = 0; j < s.looks(); ++j) on_schedule |= e.injections == s.look_size(j);
  EXPECT_TRUE(on_schedule) << e.injections;
  if (e.injections < env.max_trials) {
    EXPECT_NE(e.reliability_verdict, Verdict::Undecided);
  }
}

TEST(Evaluator, TargetUsesExactlyTheImagesTheCampaignUsed) {
  // 150 trials over 100 images: images 0..49 twice, 50..99 once. The unprotected design's own golden
  // accuracy over those trials is the reference the target is built from.
  Environment env = small_env();
  env.trials = env.max_trials = 150;
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, env, {}, {}, "lenet5-test");
  protect::DesignPoint none;
  none.preset = protect::Preset::Unprotected;
  const Evaluation u = ev.evaluate(none);
  EXPECT_EQ(u.injections, 150);
  EXPECT_EQ(u.images, 100);
  EXPECT_NEAR(u.reliability_target, u.golden_fault_accuracy - Constraints{}.max_faulty_drop, 1e-12);
}

TEST(Evaluator, UndecidedAtTheCapCountsAsInfeasible) {
  // An absolute target placed on the design's own estimate cannot be decided either way.
  Environment env = small_env();
  env.trials = env.max_trials = 400;
  protect::DesignPoint none;
  none.preset = protect::Preset::Unprotected;
  double estimate = 0;
  {
    Evaluator probe(fx().g, test::test_set(), test::calib_set(), fx().qo, env, {}, {}, "lenet5-test");
    estimate = probe.evaluate(none).faulty_accuracy;
  }
  Constraints c;
  c.min_faulty_accuracy = estimate;
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, env, c, {}, "lenet5-test");
  const Evaluation u = ev.evaluate(none);
  EXPECT_DOUBLE_EQ(u.faulty_accuracy, estimate);
  EXPECT_EQ(u.reliability_verdict, Verdict::Undecided);
  EXPECT_EQ(u.decision, "undecided");
  EXPECT_FALSE(u.feasible);
  EXPECT_LE(ev.constraint_values(u)[1], 1e-12);  // the point estimate alone would have called it feasible
  EXPECT_GT(ev.constraint_noise(u)[1], 0.0);
}

TEST(CrossLayer, OptimizedDesignIsNoCostlierThanSingleLayerBests) {
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test");
  SpaceSpec s;
  s.k = {6, 8};
  s.fraction = {0.0, 0.1};
  s.lanes = {8, 32};
  s.harden_max = 4;
  const Baselines b = evaluate_baselines(ev, s, Objective::Area);
  opt::SearchOptions so;
  so.budget = 12;
  so.seed = 2;
  const OptimizeResult r = optimize(ev, s, Objective::Area, Method::Bo, so, {}, &b);
  ASSERT_TRUE(r.best.has_value());
  for (const Evaluation* e : {&b.algorithm_only, &b.architecture_only, &b.circuit_only})
    if (e->feasible) {
      EXPECT_LE(r.best->overheads.area, e->overheads.area + 1e-12);
    }
  EXPECT_LT(r.best->overheads.area, b.full_tmr.overheads.area);
  EXPECT_TRUE(r.best->feasible);
}

TEST(CrossLayer, DecodeEncodeRoundTripAndValidation) {
  Evaluator ev(fx().g, test::test_set(), test::calib_set(), fx().qo, small_env(), {}, {}, "lenet5-test");
  CrossLayerProblem p(ev, SpaceSpec{}, Objective::Area, {});
  for (const auto& x : p.space().lattice(100000)) {
    const protect::DesignPoint d = p.decode(x);
    EXPECT_EQ(p.decode(p.encode(d)), d);
    if (d.fraction == 0.0) {
      EXPECT_EQ(d.lanes, 0);
    }
    EXPECT_LE(d.harden_bits, d.k ? d.k : 8);
  }
  EXPECT_THROW(parse_space(nlohmann::json{{"k", {1, 8}}}), ConfigError);
  EXPECT_THROW(parse_space(nlohmann::json{{"fractions", {0.1}}}), ConfigError);
  EXPECT_THROW(parse_constraints(nlohmann::json{{"max_accuracy_drop", 2.0}}), ConfigError);
  EXPECT_THROW(parse_environment(nlohmann::json{{"ber", -1.0}}), ConfigError);
  EXPECT_THROW(parse_method("annealing"), ConfigError);
}

}  // namespace
}  // namespace ftdla::dse
