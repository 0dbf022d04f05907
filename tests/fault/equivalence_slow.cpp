// The fast incremental injector must produce bit-identical output registers to two references for any
// fault: every site, transient and permanent, both dataflows, tiled arrays, with and without protection.
// - run_reference, the injector's own full re-run (shares the injector's fault code: catches propagation
//   bugs of the incremental path);
// - PeArrayReference (pe_reference.hpp), every MAC on a simulated array of accel::Pe with faults on its
//   registers, sharing no fault-semantics code with the injector (catches a wrong fault model).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "fault/pe_reference.hpp"
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

/// The same fault with another bit of the same register: the comparison must see the difference.
FaultSet mutate(const FaultSet& f, const Injector& inj) {
  FaultSet m = f;
  for (auto& t : m.transients) t.bit = (t.bit + 1) % inj.register_bits(t.site);
  for (auto& p : m.permanents) p.bit = (p.bit + 1) % inj.register_bits(p.site);
  return m;
}

/// `faults_wanted` faults compared fast vs run_reference, the first `pe_wanted` of them (spread over the
/// configs) also vs the PE-array reference. The PE array costs about one Pe::clock (~10 ns) per MAC of
/// the network per fault (LeNet-5 0.5M, dwcnn 1.1M, rescnn 8M MACs), so its 10,000 faults lean on the
/// small models.
void check_model(const std::string& name, int64_t faults_wanted, int64_t pe_wanted) {
  if (!test::have_model(name)) GTEST_SKIP() << "model " << name << " not shipped";
  const auto start = std::chrono::steady_clock::now();
  const Config configs[] = {{{32, 32, accel::Dataflow::WeightStationary}, false, 0},
                            {{8, 4, accel::Dataflow::WeightStationary}, false, 0},
                            {{4, 8, accel::Dataflow::OutputStationary}, false, 0},
                            {{16, 16, accel::Dataflow::OutputStationary}, true, 5},
                            {{8, 8, accel::Dataflow::WeightStationary}, true, 6}};
  const int64_t per_config = faults_wanted / static_cast<int64_t>(std::size(configs));
  const int64_t pe_per_config = pe_wanted / static_cast<int64_t>(std::size(configs));
  int64_t checked = 0, changed = 0, pe_checked = 0, pe_changed = 0, mutants = 0, mutants_seen = 0, clocks = 0;
  const Site sites[] = {Site::Neuron, Site::Acc, Site::Weight, Site::Input};
  int64_t site_changed[4] = {0, 0, 0, 0};
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
    const PeArrayReference pe(*qm.engine, mp, shield);
    const GoldenSet golden(*qm.engine, test::test_set(), 6);
    // Draw every fault first (deterministic), then compare the paths in parallel.
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
    std::vector<char> pe_same(sets.size(), 1), mutant(sets.size(), 0), mutant_seen(sets.size(), 0);
    std::vector<int64_t> pe_clocks(sets.size(), 0);
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < per_config; ++i) {
      const auto trace = golden.trace(static_cast<size_t>(i % golden.size()));
      std::vector<int32_t> fast;
      const InjectionResult r = inj.run(trace, sets[i], &fast);
      const std::vector<int32_t> ref = inj.run_reference(trace, sets[i]);
      same[i] = fast == ref;
      agree[i] = r.output_changed == (ref != trace.values[qm.q.output]);
      hit[i] = r.output_changed;
      if (i < pe_per_config) {
        pe_same[i] = pe.run(trace.values[qm.q.input], sets[i]) == fast;
        pe_clocks[i] = PeArrayReference::last_clocks();
        // Mutation check on every 16th: another bit must give another output somewhere, or the comparison
        // above could not fail.
        if (i % 16 == 0) {
          mutant[i] = 1;
          mutant_seen[i] = pe.run(trace.values[qm.q.input], mutate(sets[i], inj)) != fast;
        }
      }
    }
    for (int64_t i = 0; i < per_config; ++i) {
      const std::string where = name + " site=" + site_name(sites[i % 4]) + " kind=" + std::to_string(kinds[i]) +
                                " dataflow=" + accel::dataflow_name(cfg.spec.dataflow) + " array=" +
                                std::to_string(cfg.spec.rows) + "x" + std::to_string(cfg.spec.cols) +
                                (cfg.shielded ? " shielded" : "") + " fault#" + std::to_string(i);
      ASSERT_TRUE(same[i] && agree[i]) << "fast path vs run_reference: " << where;
      ASSERT_TRUE(pe_same[i]) << "fast path vs PE-array reference: " << where;
      changed += hit[i];
      ++checked;
      if (i < pe_per_config) {
        ++pe_checked;
        pe_changed += hit[i];
        site_changed[i % 4] += hit[i];
        clocks += pe_clocks[i];
      }
      mutants += mutant[i];
      mutants_seen += mutant_seen[i];
    }
  }
  EXPECT_GE(checked, faults_wanted - 5);
  EXPECT_GE(pe_checked, pe_wanted - 5);
  EXPECT_GT(changed, 0) << "no fault reached the output: the test would not see propagation bugs";
  for (int s = 0; s < 4; ++s)
    EXPECT_GT(site_changed[s], 0) << site_name(sites[s]) << ": no fault compared with the PE reference changed the output";
  EXPECT_GT(mutants_seen, 0) << "no mutated fault changed the PE reference's output";
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ %s ] %lld faults fast == run_reference, %lld of them also == PE array (%lld changed the output; "
              "%lld PE clocks); %lld of %lld mutated faults told apart; %.1f s\n",
              name.c_str(), static_cast<long long>(checked), static_cast<long long>(pe_checked),
              static_cast<long long>(pe_changed), static_cast<long long>(clocks), static_cast<long long>(mutants_seen),
              static_cast<long long>(mutants), secs);
}

TEST(Equivalence, LeNet5FastPathEqualsReferences) { check_model("lenet5", 10000, 8000); }
TEST(Equivalence, ResCnnFastPathEqualsReferences) { check_model("rescnn", 10000, 300); }
TEST(Equivalence, DwCnnFastPathEqualsReferences) { check_model("dwcnn", 10000, 1700); }

}  // namespace
}  // namespace ftdla::fault
