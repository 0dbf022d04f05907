// Protection plans on the shipped LeNet-5: greedy channel choice by vulnerability per MAC, explicit
// lists, Shield construction, and the hybrid array's latency.
#include "ftdla/protect/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "ftdla/core/error.hpp"
#include "ftdla/core/rng.hpp"
#include "support/models.hpp"

namespace ftdla::protect {
namespace {

using nlohmann::json;

const test::Quantized& lenet() { return test::quantized("lenet5"); }
const accel::Mapping& lenet_map() {
  static const accel::Mapping mp = accel::map_network(lenet().q, {});
  return mp;
}

DesignPoint fraction_design(double f, int lanes = 8) {
  DesignPoint d;
  d.fraction = f;
  d.lanes = lanes;
  return d;
}

// Random but deterministic scores for every channel of every compute layer.
std::vector<ChannelScore> random_scores(uint64_t seed) {
  Rng rng(seed);
  std::vector<ChannelScore> s;
  for (const auto& lm : lenet_map().layers)
    for (int64_t c = 0; c < lm.dims.groups * lm.dims.n; ++c) s.push_back({lm.layer, c, rng.uniform()});
  return s;
}

double score_of(const std::vector<ChannelScore>& s, std::size_t layer, int64_t c) {
  for (const auto& x : s)
    if (x.layer == layer && x.channel == c) return x.vf;
  return 0.0;
}

TEST(MakePlan, LeNetShape) {
  const ProtectionPlan p = make_plan(DesignPoint{}, lenet().q, lenet_map());
  ASSERT_EQ(p.layers.size(), 5u);
  EXPECT_EQ(p.total_macs, 416520);
  EXPECT_EQ(p.protected_macs, 0);
  EXPECT_EQ(p.qgraph_layers, lenet().q.layers.size());
  EXPECT_EQ(p.layers[0].protected_channels.size(), 6u);
  EXPECT_EQ(p.layers[0].macs_per_channel, 28 * 28 * 25);
  EXPECT_EQ(p.layers[4].macs_per_channel, 84);
  EXPECT_FALSE(p.range_corrector);
  for (const auto& lp : p.layers) EXPECT_EQ(lp.live_bits, 8);
}

TEST(MakePlan, GreedyRanksByVulnerabilityPerMac) {
  // fc3 channel 7 has a lower VF than conv1 channel 0 but costs 84 MACs instead of 19600: per MAC it is
  // the most vulnerable, so the smallest fraction protects it alone.
  const auto& mp = lenet_map();
  const std::size_t conv1 = mp.layers[0].layer, fc3 = mp.layers[4].layer;
  const std::vector<ChannelScore> scores{{conv1, 0, 0.5}, {fc3, 7, 0.01}, {fc3, 2, 0.005}};
  const ProtectionPlan p = make_plan(fraction_design(1e-6), lenet().q, mp, scores);
  EXPECT_EQ(p.protected_macs, 84);
  EXPECT_EQ(p.layers[4].protected_channels[7], 1);
  // Slightly more than one fc3 channel: the next best per MAC is fc3 channel 2 (0.005 / 84 > 0.5 / 19600).
  const ProtectionPlan p2 = make_plan(fraction_design(100.0 / 416520), lenet().q, mp, scores);
  EXPECT_EQ(p2.protected_macs, 168);
  EXPECT_EQ(p2.layers[4].protected_channels[2], 1);
  // Next: conv1 channel 0 (0.5 / 19600 > 0 of every unscored channel).
  const ProtectionPlan p3 = make_plan(fraction_design(200.0 / 416520), lenet().q, mp, scores);
  EXPECT_EQ(p3.protected_macs, 168 + 19600);
  EXPECT_EQ(p3.layers[0].protected_channels[0], 1);
}

TEST(MakePlan, GreedyReachesTheFractionWithTheBestChannels) {
  const auto& mp = lenet_map();
  const auto scores = random_scores(7);
  std::set<std::pair<std::size_t, int64_t>> previous;
  for (double f : {0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.99, 1.0}) {
    const ProtectionPlan p = make_plan(fraction_design(f), lenet().q, mp, scores);
    const double target = f * static_cast<double>(p.total_macs);
    EXPECT_GE(static_cast<double>(p.protected_macs), target) << f;
    // Every chosen channel ranks at least as high (vf per MAC) as every channel left out, and dropping
    // the worst chosen channel would fall below the target (no channel is taken beyond the fraction).
    double worst_in = std::numeric_limits<double>::infinity(), best_out = -1.0;
    int64_t worst_in_macs = 0;
    std::set<std::pair<std::size_t, int64_t>> chosen;
    for (const auto& lp : p.layers)
      for (int64_t c = 0; c < static_cast<int64_t>(lp.protected_channels.size()); ++c) {
        const double r = score_of(scores, lp.layer, c) / static_cast<double>(lp.macs_per_channel);
        if (lp.protected_channels[c]) {
          chosen.insert({lp.layer, c});
          if (r < worst_in) {
            worst_in = r;
            worst_in_macs = lp.macs_per_channel;
          }
        } else {
          best_out = std::max(best_out, r);
        }
      }
    if (!chosen.empty()) {
      EXPECT_GE(worst_in, best_out) << f;
      EXPECT_LT(static_cast<double>(p.protected_macs - worst_in_macs), target) << f;
    }
    // A larger fraction protects a superset.
    for (const auto& c : previous) EXPECT_TRUE(chosen.count(c)) << f;
    previous = chosen;
    if (f == 0.0) {
      EXPECT_EQ(p.protected_macs, 0);
    }
    if (f == 1.0) {
      EXPECT_EQ(p.protected_macs, p.total_macs);
    }
    EXPECT_NEAR(p.protected_fraction(), static_cast<double>(p.protected_macs) / 416520.0, 1e-15);
  }
}

TEST(MakePlan, GreedyIsDeterministicAndCheapestFirstWithoutScores) {
  const auto& mp = lenet_map();
  const ProtectionPlan a = make_plan(fraction_design(0.001), lenet().q, mp);
  const ProtectionPlan b = make_plan(fraction_design(0.001), lenet().q, mp);
  for (std::size_t i = 0; i < a.layers.size(); ++i) EXPECT_EQ(a.layers[i].protected_channels, b.layers[i].protected_channels);
  // 0.1% of 416520 = 416.5 MACs: the five cheapest channels are fc3 (84 MACs each), lowest index first.
  EXPECT_EQ(a.protected_macs, 5 * 84);
  EXPECT_EQ(a.layers[4].protected_channels, (std::vector<char>{1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  // Equal scores tie-break the same way.
  std::vector<ChannelScore> equal;
  for (int64_t c = 0; c < 10; ++c) equal.push_back({mp.layers[4].layer, c, 0.3});
  const ProtectionPlan e = make_plan(fraction_design(0.0005), lenet().q, mp, equal);
  EXPECT_EQ(e.layers[4].protected_channels, (std::vector<char>{1, 1, 1, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(MakePlan, ExplicitChannelList) {
  const auto& mp = lenet_map();
  DesignPoint d;
  d.mode = ProtectMode::Channels;
  d.channels = {{mp.layers[3].name, {0, 5, 83}}, {mp.layers[0].name, {2}}};
  d.lanes = 4;
  const ProtectionPlan p = make_plan(d, lenet().q, mp);
  EXPECT_EQ(p.layers[3].protected_count, 3);
  EXPECT_EQ(p.layers[3].protected_channels[0], 1);
  EXPECT_EQ(p.layers[3].protected_channels[5], 1);
  EXPECT_EQ(p.layers[3].protected_channels[83], 1);
  EXPECT_EQ(p.layers[0].protected_count, 1);
  EXPECT_EQ(p.protected_macs, 3 * 120 + 19600);
  EXPECT_EQ(p.layers[1].protected_count + p.layers[2].protected_count + p.layers[4].protected_count, 0);
}

template <typename E>
void expect_error(const DesignPoint& d, const std::vector<ChannelScore>& scores, const std::string& needle,
                  const accel::Mapping& mp = lenet_map(), const quant::QGraph& q = lenet().q) {
  try {
    (void)make_plan(d, q, mp, scores);
    ADD_FAILURE() << "no exception (expected '" << needle << "')";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what() << "\n  expected: " << needle;
  }
}

TEST(MakePlan, ExplicitListErrorsNameTheKey) {
  const auto& mp = lenet_map();
  DesignPoint d;
  d.mode = ProtectMode::Channels;
  d.lanes = 1;
  d.channels = {{mp.layers[4].name, {1}}, {"conv9", {0}}};
  expect_error<ConfigError>(d, {}, "design.protected[1].layer: no compute layer named 'conv9' (compute layers: " + mp.layers[0].name);
  d.channels = {{mp.layers[4].name, {1, 10}}};
  expect_error<ConfigError>(d, {}, "design.protected[0].channels[1]: channel 10 out of range for layer '" + mp.layers[4].name +
                                       "' (got 10, expected [0, 9])");
  DesignPoint k;
  k.k_per_layer = {{"nope", 5}};
  expect_error<ConfigError>(k, {}, "design.k_per_layer.nope: no compute layer named 'nope'");
  DesignPoint bad;
  bad.harden_bits = 9;
  expect_error<ConfigError>(bad, {}, "design.harden_bits: must be in [0, 8] (got 9)");
}

TEST(MakePlan, RejectsANetworkOrMappingThatDoesNotMatchTheDesign) {
  DesignPoint k5;
  k5.k = 5;
  expect_error<ValidationError>(k5, {}, "was quantized with k = 8 effective bits but the design asks for 5");
  DesignPoint small;
  small.accel.rows = 16;
  expect_error<ValidationError>(small, {}, "the mapping is for a 32x32 ws array but design.accel is 16x32 ws");
  DesignPoint w4;
  w4.accel.wbits = 4;
  expect_error<ValidationError>(w4, {}, "quantized with W8/A8/P32 but design.accel has W4/A8/P32");
  // Presets carry no k: the unprotected reference applies to a range-constrained network too.
  const auto& q5 = test::quantized("lenet5", 5).q;
  const accel::Mapping mp5 = accel::map_network(q5, {});
  DesignPoint ref;
  ref.preset = Preset::Unprotected;
  EXPECT_NO_THROW((void)make_plan(ref, q5, mp5));
  EXPECT_FALSE(make_plan(ref, q5, mp5).range_corrector);
}

TEST(MakePlan, RejectsBadScores) {
  const auto& mp = lenet_map();
  const std::size_t fc3 = mp.layers[4].layer;
  std::size_t pool = 0;
  while (lenet().q.layers[pool].op == quant::QOp::Compute) ++pool;
  const DesignPoint d = fraction_design(0.1);
  expect_error<ValidationError>(d, {{pool, 0, 0.1}}, "scores[0].layer: QGraph layer " + std::to_string(pool) + " is not a compute layer");
  expect_error<ValidationError>(d, {{fc3, 0, 0.1}, {fc3, 10, 0.1}}, "scores[1].channel: 10 out of range");
  expect_error<ValidationError>(d, {{fc3, -1, 0.1}}, "scores[0].channel: -1 out of range");
  expect_error<ValidationError>(d, {{fc3, 0, -0.1}}, "scores[0].vf: must be finite and >= 0");
  expect_error<ValidationError>(d, {{fc3, 0, std::nan("")}}, "scores[0].vf: must be finite and >= 0");
  expect_error<ValidationError>(d, {{fc3, 3, 0.1}, {fc3, 3, 0.2}}, "scores[1]: duplicate score");
}

TEST(ToShield, CarriesEveryMechanism) {
  const auto& mp = lenet_map();
  DesignPoint d;
  d.mode = ProtectMode::Channels;
  d.channels = {{mp.layers[2].name, {7}}};
  d.lanes = 2;
  d.harden_bits = 3;
  const fault::Shield s = to_shield(make_plan(d, lenet().q, mp));
  EXPECT_FALSE(s.full_tmr);
  EXPECT_EQ(s.harden_bits, 3);
  EXPECT_FALSE(s.range_corrector);
  ASSERT_EQ(s.protected_channels.size(), lenet().q.layers.size());
  EXPECT_TRUE(s.channel_protected(mp.layers[2].layer, 7));
  EXPECT_FALSE(s.channel_protected(mp.layers[2].layer, 6));
  EXPECT_FALSE(s.channel_protected(mp.layers[0].layer, 0));

  DesignPoint tmr;
  tmr.preset = Preset::FullTmr;
  const fault::Shield t = to_shield(make_plan(tmr, lenet().q, mp));
  EXPECT_TRUE(t.full_tmr);

  const fault::Shield none = to_shield(make_plan(DesignPoint{}, lenet().q, mp));
  EXPECT_FALSE(none.full_tmr);
  EXPECT_TRUE(none.protected_channels.empty());
  EXPECT_EQ(none.harden_bits, 0);

  const auto& q5 = test::quantized("lenet5", 5).q;
  const accel::Mapping mp5 = accel::map_network(q5, {});
  DesignPoint k5;
  k5.k = 5;
  const ProtectionPlan p5 = make_plan(k5, q5, mp5);
  EXPECT_TRUE(p5.range_corrector);
  EXPECT_TRUE(to_shield(p5).range_corrector);
  for (const auto& lp : p5.layers) {
    EXPECT_TRUE(lp.range_constrained);
    EXPECT_EQ(lp.live_bits, 5);
  }
}

TEST(ProtectionPlan, HardenedPositionsAreTheUnionOverLayers) {
  ProtectionPlan p;
  p.design.harden_bits = 2;
  LayerPlan a, b;
  a.register_bits = b.register_bits = 8;
  a.live_bits = 8;  // hardens bits 6, 7
  b.live_bits = 5;  // hardens bits 3, 4
  p.layers = {a, b};
  EXPECT_EQ(p.hardened_register_bits(), 4);
  p.design.harden_bits = 4;  // {4..7} and {1..4}
  EXPECT_EQ(p.hardened_register_bits(), 7);
  p.layers = {a, a};
  EXPECT_EQ(p.hardened_register_bits(), 4);
  p.design.harden_bits = 0;
  EXPECT_EQ(p.hardened_register_bits(), 0);
}

TEST(HybridLatency, UnprotectedPlanKeepsTheMappingCycles) {
  const auto& mp = lenet_map();
  const LatencyReport r = hybrid_latency(make_plan(DesignPoint{}, lenet().q, mp), mp);
  EXPECT_EQ(r.total_cycles, mp.total_cycles);
  EXPECT_EQ(r.unit_bound_layers, 0);
  DesignPoint tmr;
  tmr.preset = Preset::FullTmr;
  EXPECT_EQ(hybrid_latency(make_plan(tmr, lenet().q, mp), mp).total_cycles, mp.total_cycles);
}

TEST(HybridLatency, TooFewLanesMakeTheProtectedUnitTheBottleneck) {
  // fc3 of LeNet-5 on the 32x32 WS array: M = 1, N = 10, K = 84. WS tile cost (accel/mapping.cpp):
  // rows + M + rows + cols - 2 per (k-tile, n-tile); k-tiles of 32, 32, 20 rows.
  const auto& mp = lenet_map();
  const accel::LayerMapping& fc3 = mp.layers[4];
  ASSERT_EQ(fc3.dims.m, 1);
  ASSERT_EQ(fc3.dims.n, 10);
  ASSERT_EQ(fc3.dims.k, 84);
  const int64_t all10 = (32 + 1 + 32 + 10 - 2) * 2 + (20 + 1 + 20 + 10 - 2);  // 195
  ASSERT_EQ(fc3.cycles, all10);
  const int64_t rest5 = (32 + 1 + 32 + 5 - 2) * 2 + (20 + 1 + 20 + 5 - 2);  // 180: five channels left
  DesignPoint d;
  d.mode = ProtectMode::Channels;
  d.channels = {{fc3.name, {0, 2, 4, 6, 8}}};  // 5 x 84 = 420 protected MACs

  d.lanes = 1;  // 420 cycles on one lane > 180 on the array
  LatencyReport r = hybrid_latency(make_plan(d, lenet().q, mp), mp);
  EXPECT_EQ(r.layers[4].array_cycles, rest5);
  EXPECT_EQ(r.layers[4].unit_cycles, 420);
  EXPECT_EQ(r.layers[4].cycles, 420);
  EXPECT_TRUE(r.layers[4].unit_bound());
  EXPECT_EQ(r.unit_bound_layers, 1);
  EXPECT_EQ(r.total_cycles, mp.total_cycles - all10 + 420);

  d.lanes = 3;  // ceil(420 / 3) = 140 < 180: hidden, and the layer is faster than unprotected
  r = hybrid_latency(make_plan(d, lenet().q, mp), mp);
  EXPECT_EQ(r.layers[4].unit_cycles, 140);
  EXPECT_EQ(r.layers[4].cycles, rest5);
  EXPECT_EQ(r.unit_bound_layers, 0);
  EXPECT_EQ(r.total_cycles, mp.total_cycles - all10 + rest5);

  d.lanes = 2;  // ceil(420 / 2) = 210 > 180
  EXPECT_EQ(hybrid_latency(make_plan(d, lenet().q, mp), mp).layers[4].cycles, 210);

  // Every channel on the unit: the array does nothing in that layer.
  d.channels = {{fc3.name, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}};
  d.lanes = 16;
  r = hybrid_latency(make_plan(d, lenet().q, mp), mp);
  EXPECT_EQ(r.layers[4].array_cycles, 0);
  EXPECT_EQ(r.layers[4].unit_cycles, (840 + 15) / 16);
}

TEST(HybridLatency, GroupedLayerCountsUnprotectedChannelsPerGroup) {
  // A grouped conv as GEMMs: 4 groups, M = 10, N = 2 per group, K = 9, on the 32x32 WS array. One WS tile
  // per group costs rows + M + rows + cols - 2 = 9 + 10 + 9 + cols - 2 = 26 + cols (cols = channels left).
  accel::Mapping mp;
  accel::LayerMapping lm;
  lm.layer = 3;
  lm.dims = {4, 10, 2, 9};
  lm.macs = 4 * 10 * 2 * 9;
  lm.cycles = accel::gemm_cycles(mp.spec, lm.dims);
  ASSERT_EQ(lm.cycles, 4 * (26 + 2));
  mp.layers = {lm};
  mp.total_cycles = lm.cycles;
  mp.total_macs = lm.macs;
  ProtectionPlan p;
  p.design.lanes = 2;
  LayerPlan lp;
  lp.layer = 3;
  lp.protected_channels = {1, 0, 1, 1, 0, 0, 0, 1};  // groups keep 1, 0, 2, 1 channels on the array
  lp.protected_count = 4;
  lp.macs_per_channel = 90;
  lp.protected_macs = 360;
  p.layers = {lp};
  const LatencyReport r = hybrid_latency(p, mp);
  EXPECT_EQ(r.layers[0].array_cycles, 27 + 0 + 28 + 27);
  EXPECT_EQ(r.layers[0].unit_cycles, 180);
  EXPECT_EQ(r.total_cycles, 180);
  p.design.lanes = 8;  // ceil(360 / 8) = 45 < 82
  EXPECT_EQ(hybrid_latency(p, mp).total_cycles, 82);
}

TEST(HybridLatency, MoreLanesNeverSlower) {
  const auto& mp = lenet_map();
  int64_t prev = std::numeric_limits<int64_t>::max();
  for (int u : {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024}) {
    const LatencyReport r = hybrid_latency(make_plan(fraction_design(0.2, u), lenet().q, mp), mp);
    EXPECT_LE(r.total_cycles, prev) << u;
    prev = r.total_cycles;
  }
  // With enough lanes, offloading 20% of the work leaves the array less to do than unprotected.
  EXPECT_LE(prev, mp.total_cycles);
}

}  // namespace
}  // namespace ftdla::protect
