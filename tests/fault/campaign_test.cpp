#include "ftdla/fault/campaign.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/fault/sampler.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "support/models.hpp"

namespace ftdla::fault {
namespace {

const test::Quantized& lenet() { return test::quantized("lenet5"); }

TEST(Campaign, BerZeroGivesExactlyZeroSdc) {
  const accel::Mapping mp = accel::map_network(lenet().q, {});
  const Injector inj(*lenet().engine, mp);
  const GoldenSet golden(*lenet().engine, test::test_set(), 20);
  for (Site site : {Site::Neuron, Site::Acc, Site::Weight, Site::Input}) {
    CampaignSpec s;
    s.site = site;
    s.mode = FaultMode::Ber;
    s.ber = 0.0;
    s.trials = 200;
    s.images = 20;
    const CampaignCounts c = Campaign(inj, golden, s).run(0, s.trials);
    EXPECT_EQ(c.sdc, 0);
    EXPECT_EQ(c.faults, 0);
    EXPECT_EQ(c.masked, 200);
    EXPECT_EQ(c.faulty_correct, c.golden_correct);
  }
}

TEST(Campaign, PermanentFaultInUnusedPeChangesNothingInThatLayer) {
  // WS 32x32: LeNet conv1 has K = 25 (rows 0..24) and N = 6 (columns 0..5). PE(30, 3) and PE(10, 20)
  // never hold a conv1 weight, input or partial sum.
  const accel::Mapping mp = accel::map_network(lenet().q, {});
  const Injector inj(*lenet().engine, mp);
  const GoldenSet golden(*lenet().engine, test::test_set(), 3);
  const size_t conv1 = mp.layers.at(0).layer;
  ASSERT_EQ(mp.layers[0].dims.k, 25);
  ASSERT_EQ(mp.layers[0].dims.n, 6);
  for (Site site : {Site::Acc, Site::Weight, Site::Neuron}) {
    for (auto [r, c] : {std::pair{30, 3}, std::pair{10, 20}}) {
      FaultSet f;
      f.permanents.push_back({site, r, c, 5, true});
      engine::Trace t;
      inj.run_reference(golden.trace(0), f, &t);
      EXPECT_EQ(t.values[lenet().q.layers[conv1].output], golden.trace(0).values[lenet().q.layers[conv1].output])
          << site_name(site) << " PE(" << r << "," << c << ")";
    }
  }
  // ...whereas a used PE's weight bit stuck at the opposite of its stored value does change conv1.
  const auto& L = lenet().q.layers[conv1];
  const int32_t w = L.weight[2 * mp.layers[0].dims.k + 3];  // PE(3, 2) holds W[n=2][k=3]
  FaultSet f;
  f.permanents.push_back({Site::Weight, 3, 2, 6, !get_bit(w, 6)});
  engine::Trace t;
  inj.run_reference(golden.trace(0), f, &t);
  EXPECT_NE(t.values[lenet().q.layers[conv1].output], golden.trace(0).values[lenet().q.layers[conv1].output]);
}

TEST(Campaign, FlipClampedByReluIsMasked) {
  // An accumulator far below zero stays negative after a low-bit flip: the fused ReLU clamps it to the
  // same output, so the fault is masked and the output registers are untouched.
  const accel::Mapping mp = accel::map_network(lenet().q, {});
  const Injector inj(*lenet().engine, mp);
  const GoldenSet golden(*lenet().engine, test::test_set(), 1);
  const size_t conv1 = mp.layers.at(0).layer;
  const auto acc = golden.trace(0).acc[conv1];
  int64_t pick = -1;
  for (size_t i = 0; i < acc.size(); ++i)
    if (acc[i] < -(1 << 12)) {
      pick = static_cast<int64_t>(i);
      break;
    }
  ASSERT_GE(pick, 0);
  const auto& d = mp.layers[0].dims;
  TransientFault t;
  t.site = Site::Acc;
  t.layer = conv1;
  t.n = pick / d.m;
  t.m = pick % d.m;
  t.k = d.k - 1;  // after the last term: the register requantization reads
  t.bit = 4;
  FaultSet f;
  f.transients.push_back(t);
  const InjectionResult r = inj.run(golden.trace(0), f);
  EXPECT_FALSE(r.output_changed);
  EXPECT_EQ(r.top1, golden.top1[0]);
  // The same bit flipped in the output register itself is not masked.
  t.site = Site::Neuron;
  FaultSet g;
  g.transients.push_back(t);
  engine::Trace tr;
  inj.run_reference(golden.trace(0), g, &tr);
  EXPECT_NE(tr.values[lenet().q.layers[conv1].output], golden.trace(0).values[lenet().q.layers[conv1].output]);
}

TEST(Campaign, FaultCountMatchesBinomialExpectation) {
  // Binomial(n, p): mean np, variance np(1-p). The sample mean of T draws is within 4 sigma / sqrt(T).
  for (auto [bits, ber] : {std::pair{1.0e6, 1.0e-5}, std::pair{5.0e7, 2.0e-5}, std::pair{2.0e5, 2.0e-3}}) {
    const int trials = 4000;
    double sum = 0.0;
    for (int t = 0; t < trials; ++t) {
      Rng rng = Rng::derive(7, static_cast<uint64_t>(t));
      sum += static_cast<double>(draw_fault_count(rng, bits, ber));
    }
    const double mean = bits * ber, sd = std::sqrt(bits * ber * (1 - ber));
    EXPECT_NEAR(sum / trials, mean, 4 * sd / std::sqrt(trials)) << "bits=" << bits << " ber=" << ber;
  }
}

TEST(Campaign, DeterministicWhateverTheThreadCount) {
  const accel::Mapping mp = accel::map_network(lenet().q, {});
  const Injector inj(*lenet().engine, mp);
  const GoldenSet golden(*lenet().engine, test::test_set(), 16);
  CampaignSpec s;
  s.site = Site::Neuron;
  s.mode = FaultMode::Count;
  s.faults = 8;
  s.trials = 600;
  s.images = 16;
  s.seed = 99;
  const Campaign camp(inj, golden, s);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const CampaignCounts one = camp.run(0, s.trials);
  omp_set_num_threads(2);
  const CampaignCounts two = camp.run(0, s.trials);
  // Resuming from a prefix gives the same totals as one uninterrupted run.
  CampaignCounts split = camp.run(0, 250);
  split.add(camp.run(250, s.trials));
  omp_set_num_threads(saved);
  for (const CampaignCounts* c : {&two, static_cast<const CampaignCounts*>(&split)}) {
    EXPECT_EQ(one.sdc, c->sdc);
    EXPECT_EQ(one.masked, c->masked);
    EXPECT_EQ(one.faulty_correct, c->faulty_correct);
    EXPECT_EQ(one.faults, c->faults);
  }
  EXPECT_EQ(one.faults, 4800);
  EXPECT_GT(one.sdc, 0);
}

TEST(Campaign, InvalidSpecsAreConfigErrors) {
  CampaignSpec s;
  s.mode = FaultMode::Ber;
  s.ber = -0.1;
  EXPECT_THROW(s.validate(), ConfigError);
  s.ber = 1.5;
  EXPECT_THROW(s.validate(), ConfigError);
  s = {};
  s.trials = 0;
  try {
    s.validate();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--trials"), std::string::npos);
  }
  EXPECT_THROW(parse_site("register"), ConfigError);
  EXPECT_THROW(accel::parse_dataflow("rs"), ConfigError);
}

}  // namespace
}  // namespace ftdla::fault

#include "support/onnx_builder.hpp"

namespace ftdla::fault {
namespace {

TEST(Campaign, ModelWithNothingToPlaceOnTheArrayIsRejected) {
  // A network without Conv/Gemm has no PE-array layer: nothing can be mapped or injected.
  test::OnnxBuilder b({1, 1, 28, 28});
  b.node("Relu", {"input"}, "r");
  auto* mp = b.node("MaxPool", {"r"}, "y");
  test::OnnxBuilder::ints(mp, "kernel_shape", {2, 2});
  const model::Graph g = model::parse_onnx(b.finish("y"), "pool_only");
  quant::QuantOptions o;
  o.calib_images = 8;
  const quant::QGraph q = quant::quantize(g, test::calib_set(), o);
  const accel::Mapping m = accel::map_network(q, {});
  EXPECT_TRUE(m.layers.empty());
  try {
    FaultSampler s(q, m, Site::Neuron);
    FAIL() << "expected ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("no compute layer"), std::string::npos);
  }
}

}  // namespace
}  // namespace ftdla::fault

namespace ftdla::fault {
namespace {

TEST(GoldenSet, StoredAndRecomputedTracesEqualAFullRun) {
  // Registers are stored in one byte each (A = 8) and accumulators recomputed: expand() must give the
  // engine's full trace exactly, whether the set stores the registers or re-runs the image.
  for (const char* name : test::kShippedModels) {
    const test::Quantized& m = test::quantized(name);
    const GoldenSet stored(*m.engine, test::test_set(), 5);
    const GoldenSet recomputed(*m.engine, test::test_set(), 5, /*max_memory_bytes=*/1);
    ASSERT_TRUE(stored.stored()) << name;
    ASSERT_FALSE(recomputed.stored()) << name;
    ASSERT_EQ(stored.bytes(), 5 * stored.bytes_per_image());
    for (int64_t i = 0; i < 5; ++i) {
      engine::Trace want;
      m.engine->run(test::test_set().image(i), want);
      for (const GoldenSet* g : {&stored, &recomputed}) {
        const engine::Trace got = g->trace(i);
        for (const auto& L : m.q.layers) {
          EXPECT_EQ(got.values[L.output], want.values[L.output]) << name << " " << L.name;
          const size_t l = static_cast<size_t>(&L - m.q.layers.data());
          if (L.op == quant::QOp::Compute) {
            EXPECT_EQ(got.acc[l], want.acc[l]) << name << " " << L.name;
          }
        }
        std::vector<int32_t> in;
        g->input(i, in);
        EXPECT_EQ(in, want.values[m.q.input]);
      }
      EXPECT_EQ(stored.top1[i], m.engine->predict(want));
    }
  }
}

/// Many faults of every site and kind at once (what a BER campaign draws).
FaultSet dense_faults(const quant::QGraph& q, const accel::Mapping& mp, Rng& rng, int64_t n) {
  FaultSet f;
  const Site sites[] = {Site::Neuron, Site::Acc, Site::Weight, Site::Input};
  for (int64_t j = 0; j < n; ++j) {
    const FaultSampler sampler(q, mp, sites[rng.below(4)]);
    if (rng.below(16) == 0)
      f.permanents.push_back(sampler.sample_permanent(rng, rng.below(2) == 1));
    else
      f.transients.push_back(sampler.sample(rng));
  }
  return f;
}

TEST(DensePath, EqualsFullRerunAndIncrementalPath) {
  // The dense path (fast engine re-run) against the reference re-run and the incremental path, with
  // protection on some channels and hardened bits, on every shipped model.
  for (const char* name : test::kShippedModels) {
    const test::Quantized& m = test::quantized(name);
    const accel::Mapping mp = accel::map_network(m.q, {});
    Shield shield;
    shield.harden_bits = 2;
    shield.protected_channels.resize(m.q.layers.size());
    Rng rng(99);
    for (const auto& lm : mp.layers) {
      auto& bits = shield.protected_channels[lm.layer];
      bits.assign(static_cast<size_t>(lm.dims.groups * lm.dims.n), 0);
      for (auto& b : bits) b = rng.below(5) == 0;
    }
    Injector inj(*m.engine, mp, shield);
    const GoldenSet golden(*m.engine, test::test_set(), 4);
    int64_t changed = 0;
    for (int i = 0; i < 50; ++i) {
      const engine::Trace trace = golden.trace(i % 4);
      const FaultSet f = dense_faults(m.q, mp, rng, 1 + static_cast<int64_t>(rng.below(60)));
      const std::vector<int32_t> ref = inj.run_reference(trace, f);
      std::vector<int32_t> dense, incremental;
      const InjectionResult rd = inj.run_dense(trace.values[m.q.input], trace.values[m.q.output], f, &dense);
      inj.set_dense_threshold(int64_t{1} << 40);  // force the incremental path
      const InjectionResult ri = inj.run(trace, f, &incremental);
      inj.set_dense_threshold(kDenseFaults);
      ASSERT_EQ(dense, ref) << name << " set " << i;
      ASSERT_EQ(incremental, ref) << name << " set " << i;
      EXPECT_EQ(rd.output_changed, ref != trace.values[m.q.output]);
      EXPECT_EQ(rd.top1, ri.top1);
      changed += rd.output_changed;
    }
    EXPECT_GT(changed, 5) << name << ": too few fault sets reached the output to test propagation";
  }
}

TEST(FastPath, NarrowRegistersMatchTheReference) {
  // Narrow weights, activations and accumulators (P < 32 wraps on overflow) on every shipped model: the
  // incremental path's deltas are summed mod 2^32 and wrapped to P bits, which must equal the reference's
  // MAC-by-MAC wrapping, for single faults and small multi-fault sets at every site.
  struct Case {
    const char* model;
    int wbits, abits, accbits;
  };
  for (const Case& c : {Case{"lenet5", 4, 5, 12}, Case{"dwcnn", 6, 7, 11}, Case{"rescnn", 8, 8, 14}}) {
    if (!test::have_model(c.model)) continue;
    const model::Graph g = model::load_onnx(test::model_path(c.model));
    quant::QuantOptions o;
    o.calib_images = 64;
    o.wbits = c.wbits;
    o.abits = c.abits;
    o.accbits = c.accbits;
    const quant::QGraph q = quant::quantize(g, test::calib_set(), o);
    const engine::IntegerEngine e(q);
    const accel::Mapping mp = accel::map_network(q, {});
    Injector inj(e, mp);
    inj.set_dense_threshold(int64_t{1} << 40);  // the incremental path whatever the count
    const GoldenSet golden(e, test::test_set(), 3);
    Rng rng(4242);
    int64_t changed = 0, wrapped = 0;
    for (int i = 0; i < 120; ++i) {
      const engine::Trace trace = golden.trace(i % 3);
      const FaultSampler sampler(q, mp, static_cast<Site>(i % 4));
      FaultSet f;
      const int64_t n = i % 3 == 2 ? 2 + static_cast<int64_t>(rng.below(4)) : 1;
      for (int64_t j = 0; j < n; ++j) f.transients.push_back(sampler.sample(rng));
      std::vector<int32_t> fast;
      const InjectionResult r = inj.run(trace, f, &fast);
      ASSERT_EQ(fast, inj.run_reference(trace, f)) << c.model << " set " << i;
      changed += r.output_changed;
    }
    // The accumulators do overflow P bits at these widths (else the wrapping would go untested).
    const engine::Trace t = golden.trace(0);
    for (size_t l = 0; l < q.layers.size(); ++l) {
      if (q.layers[l].op != quant::QOp::Compute) continue;
      std::vector<int32_t> exact;
      quant::QGraph wide = q;
      wide.options.accbits = 32;
      engine::IntegerEngine(wide).accumulate(l, t.values[q.layers[l].inputs[0]], exact);
      wrapped += exact != t.acc[l];
    }
    EXPECT_GT(changed, 10) << c.model << ": too few faults reached the output";
    EXPECT_GT(wrapped, 0) << c.model << ": no accumulator overflowed " << c.accbits << " bits";
  }
}

TEST(DensePath, CampaignCountsDoNotDependOnTheCrossover) {
  const accel::Mapping mp = accel::map_network(lenet().q, {});
  Injector inj(*lenet().engine, mp);
  const GoldenSet golden(*lenet().engine, test::test_set(), 16);
  CampaignSpec s;
  s.mode = FaultMode::Ber;
  s.ber = 2e-3;
  s.trials = 400;
  s.images = 16;
  std::vector<CampaignCounts> runs;
  for (int64_t threshold : {int64_t{1}, kDenseFaults, int64_t{1} << 40}) {
    inj.set_dense_threshold(threshold);
    runs.push_back(Campaign(inj, golden, s).run(0, s.trials));
  }
  for (const CampaignCounts& c : runs) {
    EXPECT_EQ(c.sdc, runs[0].sdc);
    EXPECT_EQ(c.masked, runs[0].masked);
    EXPECT_EQ(c.faulty_correct, runs[0].faulty_correct);
    EXPECT_EQ(c.faults, runs[0].faults);
  }
  EXPECT_GT(runs[0].sdc, 0);
  EXPECT_LT(runs[0].masked, s.trials);
}

}  // namespace
}  // namespace ftdla::fault

#include <fstream>
#include <nlohmann/json.hpp>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/fault/checkpoint.hpp"

namespace ftdla::fault {
namespace {

void expect_validation_error(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "expected ValidationError naming '" << part << "'";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(InjectorValidation, OutOfRangeFaultsAreErrorsOnEveryPath) {
  const accel::Mapping mp = accel::map_network(lenet().q, {});
  const Injector inj(*lenet().engine, mp);
  const GoldenSet golden(*lenet().engine, test::test_set(), 1);
  const engine::Trace& gt = golden.trace(0);
  const size_t conv1 = mp.layers.at(0).layer;
  const auto& d = mp.layers[0].dims;
  size_t non_compute = 0;
  while (lenet().q.layers[non_compute].op == quant::QOp::Compute) ++non_compute;
  TransientFault ok;
  ok.site = Site::Acc;
  ok.layer = conv1;
  ok.m = d.m - 1;
  ok.n = d.n - 1;
  ok.k = d.k - 1;
  ok.bit = 31;
  struct Case {
    FaultSet f;
    std::string names;
  };
  std::vector<Case> cases;
  auto transient = [&](auto edit, const std::string& names) {
    FaultSet f;
    f.transients.push_back(ok);
    edit(f.transients.back());
    cases.push_back({f, names});
  };
  transient([](TransientFault& t) { t.layer = 999; }, "layer 999");
  transient([&](TransientFault& t) { t.layer = non_compute; }, "not a compute layer");
  transient([&](TransientFault& t) { t.m = d.m; }, "m = " + std::to_string(d.m));
  transient([&](TransientFault& t) { t.n = -1; }, "n = -1");
  transient([&](TransientFault& t) { t.k = d.k; }, "k = " + std::to_string(d.k));
  transient([&](TransientFault& t) { t.g = 1; }, "g = 1");
  transient([](TransientFault& t) { t.bit = 32; }, "bit = 32");
  transient([](TransientFault& t) { t.site = Site::Neuron; t.bit = 8; }, "bit = 8");
  transient([&](TransientFault& t) { t.site = Site::Weight; t.span_end = d.m + 5; }, "span_end");
  {
    FaultSet f;
    f.permanents.push_back({Site::Neuron, 32, 0, 0, true});
    cases.push_back({f, "PE row = 32"});
    f.permanents = {{Site::Weight, 0, 0, 9, true}};
    cases.push_back({f, "bit = 9"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.names);
    expect_validation_error([&] { inj.run(gt, c.f); }, c.names);
    expect_validation_error([&] { inj.run_reference(gt, c.f); }, c.names);
    expect_validation_error([&] { inj.run_dense(gt.values[lenet().q.input], gt.values[lenet().q.output], c.f); }, c.names);
  }
  // The boundary values themselves are valid: the errors above come from the one bad field.
  FaultSet good;
  good.transients.push_back(ok);
  EXPECT_NO_THROW(inj.run(gt, good));
  EXPECT_EQ(inj.run(gt, good).top1 >= 0, true);
}

TEST(Campaign, NegativeTrialRangeIsAnError) {
  const accel::Mapping mp = accel::map_network(lenet().q, {});
  const Injector inj(*lenet().engine, mp);
  const GoldenSet golden(*lenet().engine, test::test_set(), 4);
  CampaignSpec s;
  s.mode = FaultMode::Count;
  s.faults = 1;
  s.trials = 10;
  s.images = 4;
  const Campaign camp(inj, golden, s);
  EXPECT_THROW(camp.run(-1000, 10), ValidationError);
  EXPECT_THROW(camp.run(5, 4), ValidationError);
}

// --- checkpoints -------------------------------------------------------------------------------------

struct Checkpointed {
  accel::Mapping mp = accel::map_network(lenet().q, {});
  Injector inj{*lenet().engine, mp};
  GoldenSet golden{*lenet().engine, test::test_set(), 4};
  CampaignSpec spec = [] {
    CampaignSpec s;
    s.mode = FaultMode::Count;
    s.faults = 1;
    s.trials = 60;
    s.images = 4;
    return s;
  }();
  Campaign camp{inj, golden, spec};
  TempDir dir{"ftdla-ckpt"};
  CheckpointOptions opt(bool resume) const {
    CheckpointOptions o;
    o.path = dir.file("c.json");
    o.resume = resume;
    o.config = {{"seed", 1}};
    return o;
  }
};

TEST(Checkpoint, ResumeOfAnIntactFileGivesTheSameCounts) {
  Checkpointed c;
  const CheckpointedResult first = run_checkpointed(c.camp, c.opt(false));
  ASSERT_TRUE(first.completed);
  const nlohmann::json saved = nlohmann::json::parse(read_file(c.opt(false).path));
  EXPECT_EQ(saved.at("checksum").get<std::string>().rfind("fnv1a64:", 0), 0u);
  const CheckpointedResult again = run_checkpointed(c.camp, c.opt(true));
  EXPECT_EQ(again.counts.trials, first.counts.trials);
  EXPECT_EQ(again.counts.sdc, first.counts.sdc);
  EXPECT_EQ(again.counts.masked, first.counts.masked);
}

/// Resume from `saved` written to the checkpoint path; expect ImportError containing `part`.
void expect_resume_error(const Checkpointed& c, const std::string& saved, const std::string& part) {
  write_file_atomic(c.opt(true).path, saved);
  try {
    run_checkpointed(c.camp, c.opt(true));
    ADD_FAILURE() << "expected ImportError naming '" << part << "'";
  } catch (const ImportError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.opt(true).path), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(Checkpoint, TruncatedOrEditedFilesAreRejected) {
  Checkpointed c;
  run_checkpointed(c.camp, c.opt(false));
  const std::string good = read_file(c.opt(false).path);
  expect_resume_error(c, good.substr(0, good.size() / 2), "not a ftdla result file");
  nlohmann::json j = nlohmann::json::parse(good);
  j["counts"]["sdc"] = j["counts"]["sdc"].get<int64_t>() + 1;  // edited, checksum left alone
  expect_resume_error(c, j.dump(2), "checksum mismatch");
  j.erase("checksum");
  expect_resume_error(c, j.dump(2), "no checksum");
}

TEST(Checkpoint, ImpossibleCountsAreRejectedEvenWithAValidChecksum) {
  Checkpointed c;
  CheckpointOptions half = c.opt(false);
  run_checkpointed(c.camp, half);
  const nlohmann::json good = nlohmann::json::parse(read_file(half.path));
  const int64_t trials = good["counts"]["trials"].get<int64_t>();
  auto with = [&](const char* key, int64_t v) {
    nlohmann::json j = good;
    j["counts"][key] = v;
    return with_checksum(j).dump(2);
  };
  expect_resume_error(c, with("trials", -1000), "trials = -1000 is negative");
  expect_resume_error(c, with("sdc", -5), "sdc = -5 is negative");
  expect_resume_error(c, with("sdc", trials + 1), "exceeds trials");
  expect_resume_error(c, with("golden_correct", trials + 1), "golden_correct");
  expect_resume_error(c, with("trials", 1000), "exceeds the 60 requested");
  // Found while writing fuzz/checkpoint_fuzz.cpp (its UBSan build reports the 1e300 case): a non-integral
  // count was converted by nlohmann's get<int64_t>, truncating 3.7 and with undefined behaviour for 1e300.
  auto with_real = [&](const char* key, double v) {
    nlohmann::json j = good;
    j["counts"][key] = v;
    return with_checksum(j).dump(2);
  };
  expect_resume_error(c, with_real("trials", 1e300), "trials is not an integer");
  expect_resume_error(c, with_real("sdc", 3.7), "sdc is not an integer");
  nlohmann::json huge = good;
  huge["counts"]["faults"] = std::numeric_limits<uint64_t>::max();
  expect_resume_error(c, with_checksum(huge).dump(2), "faults is not an integer");
  const ResumeState r = resume_state(nlohmann::json::parse(with("sdc", 0)), c.opt(true).config, 60, "f.json");
  EXPECT_EQ(r.counts.trials, trials);
  EXPECT_THROW(resume_state(nlohmann::json::array(), c.opt(true).config, 60, "f.json"), ImportError);
  // The same edit path with sane values resumes (the rejections above are about the values).
  write_file_atomic(half.path, with("sdc", 0));
  EXPECT_NO_THROW(run_checkpointed(c.camp, c.opt(true)));
}

}  // namespace
}  // namespace ftdla::fault
