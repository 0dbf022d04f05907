// The fast incremental injector must produce bit-identical output registers to the full re-run for any
// fault: every site, transient and permanent, both dataflows, tiled arrays, with and without protection.
#include <gtest/gtest.h>

#include "ftdla/core/rng.hpp"
#include "ftdla/fault/campaign.hpp"
#include "ftdla/fault/injector.hpp"
#include "ftdla/fault/sampler.hpp"
#include "support/models.hpp"

namespace ftdla::fault {
namespace {

struct Config {
  accel::ArraySpec spec;
  bool shielded;
  int k;
};

void check_model(const std::string& name, int64_t faults_wanted) {
  if (!test::have_model(name)) GTEST_SKIP() << "model " << name << " not shipped";
  const Config configs[] = {{{32, 32, accel::Dataflow::WeightStationary}, false, 0},
                            {{8, 4, accel::Dataflow::WeightStationary}, false, 0},
                            {{4, 8, accel::Dataflow::OutputStationary}, false, 0},
                            {{16, 16, accel::Dataflow::OutputStationary}, true, 5},
                            {{8, 8, accel::Dataflow::WeightStationary}, true, 6}};
  const int64_t per_config = faults_wanted / static_cast<int64_t>(std::size(configs));
  int64_t checked = 0, changed = 0;
  for (const Config& cfg : configs) {
    const test::Quantized& qm = test::quantized(name, cfg.k);
    const accel::Mapping mp = accel::map_network(qm.q, cfg.spec);
    Shield shield;
    Rng rng(977 + cfg.k);
    if (cfg.shielded) {
      shield.harden_bits = 2;
      shield.range_corrector = true;
      shield.protected_channels.assign(qm.q.layers.size(), {});
      for (const auto& lm : mp.layers) {
        auto& bits = shield.protected_channels[lm.layer];
        bits.assign(static_cast<size_t>(lm.dims.groups * lm.dims.n), 0);
        for (auto& b : bits) b = rng.below(4) == 0;
      }
    }
    const Injector inj(*qm.engine, mp, shield);
    const GoldenSet golden(*qm.engine, test::test_set(), 6);
    const Site sites[] = {Site::Neuron, Site::Acc, Site::Weight, Site::Input};
    // Draw every fault first (deterministic), then compare fast and reference paths in parallel.
    std::vector<FaultSet> sets(static_cast<size_t>(per_config));
    std::vector<int> kinds(sets.size());
    for (int64_t i = 0; i < per_config; ++i) {
      const FaultSampler sampler(qm.q, mp, sites[i % 4]);
      FaultSet& f = sets[i];
      const int kind = kinds[i] = static_cast<int>(rng.below(4));
      if (kind == 0) {
        f.permanents.push_back(sampler.sample_permanent(rng, rng.below(2) == 1));
      } else {
        const int64_t n = kind == 3 ? 1 + static_cast<int64_t>(rng.below(6)) : 1;
        for (int64_t j = 0; j < n; ++j) f.transients.push_back(sampler.sample(rng));
      }
    }
    std::vector<char> same(sets.size(), 0), agree(sets.size(), 0), hit(sets.size(), 0);
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < per_config; ++i) {
      const auto trace = golden.trace(static_cast<size_t>(i % golden.size()));
      std::vector<int32_t> fast;
      const InjectionResult r = inj.run(trace, sets[i], &fast);
      const std::vector<int32_t> ref = inj.run_reference(trace, sets[i]);
      same[i] = fast == ref;
      agree[i] = r.output_changed == (ref != trace.values[qm.q.output]);
      hit[i] = r.output_changed;
    }
    for (int64_t i = 0; i < per_config; ++i) {
      ASSERT_TRUE(same[i] && agree[i]) << name << " site=" << site_name(sites[i % 4]) << " kind=" << kinds[i]
                                       << " dataflow=" << accel::dataflow_name(cfg.spec.dataflow) << " array="
                                       << cfg.spec.rows << "x" << cfg.spec.cols << " fault#" << i;
      changed += hit[i];
      ++checked;
    }
  }
  EXPECT_GE(checked, faults_wanted - 5);
  EXPECT_GT(changed, 0) << "no fault reached the output: the test would not see propagation bugs";
  std::printf("[ %s ] %lld faults checked bit-identical, %lld changed the output\n", name.c_str(),
              static_cast<long long>(checked), static_cast<long long>(changed));
}

TEST(Equivalence, LeNet5FastPathEqualsFullRerun) { check_model("lenet5", 10000); }
TEST(Equivalence, ResCnnFastPathEqualsFullRerun) { check_model("rescnn", 10000); }
TEST(Equivalence, DwCnnFastPathEqualsFullRerun) { check_model("dwcnn", 10000); }

}  // namespace
}  // namespace ftdla::fault
