// Cost of protected designs on the shipped LeNet-5: reference designs, monotonicity in every knob, the
// hybrid latency bottleneck, and the property "adding protection never lowers area" over random designs.
// (Does not include component_table.hpp: accel/pe.hpp and accel/mapping.hpp both define accel::Pe.)
#include "ftdla/cost/design_cost.hpp"
#include "ftdla/cost/component_table.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "ftdla/core/rng.hpp"
#include "support/models.hpp"

namespace ftdla::cost {
namespace {

using protect::DesignPoint;
using protect::Preset;

// Area, energy and latency are sums of positive doubles: compare with a relative slack for rounding.
constexpr double kRelTol = 1e-12;

struct Net {
  const test::Quantized& model;
  accel::Mapping mp;
  explicit Net(const test::Quantized& m) : model(m), mp(accel::map_network(m.q, {})) {}
  CostReport cost(const DesignPoint& d) const { return evaluate_cost(protect::make_plan(d, model.q, mp), model.q, mp); }
};

const Net& lenet() {
  static const Net n(test::quantized("lenet5"));
  return n;
}
const Net& lenet_k5() {
  static const Net n(test::quantized("lenet5", 5));
  return n;
}

DesignPoint preset(Preset p) {
  DesignPoint d;
  d.preset = p;
  return d;
}

DesignPoint design(int h, double f, int lanes, int k = 0) {
  DesignPoint d;
  d.harden_bits = h;
  d.fraction = f;
  d.lanes = lanes;
  d.k = k;
  return d;
}

TEST(EvaluateCost, UnprotectedReference) {
  const CostReport r = lenet().cost(preset(Preset::Unprotected));
  const AreaBreakdown& a = r.area_breakdown;
  EXPECT_GT(a.array_pes_um2, 0.0);
  EXPECT_GT(a.requantizers_um2, 0.0);
  EXPECT_EQ(a.hardened_bits_um2 + a.range_correctors_um2 + a.hybrid_lanes_um2 + a.hybrid_voters_um2 +
                a.hybrid_dispatch_um2 + a.tmr_copies_um2 + a.tmr_voters_um2,
            0.0);
  EXPECT_DOUBLE_EQ(r.area_um2, a.total());
  EXPECT_DOUBLE_EQ(r.energy_pj, r.energy_breakdown.total());
  EXPECT_EQ(r.latency_cycles, lenet().mp.total_cycles);
  EXPECT_GT(r.energy_pj, 0.0);
  // A custom design with every knob at zero costs exactly the same as the preset.
  const CostReport c = lenet().cost(DesignPoint{});
  EXPECT_EQ(c.area_um2, r.area_um2);
  EXPECT_EQ(c.energy_pj, r.energy_pj);
  const Overheads o = overheads(c, r);
  EXPECT_EQ(o.area, 0.0);
  EXPECT_EQ(o.energy, 0.0);
  EXPECT_EQ(o.latency, 0.0);
}

TEST(EvaluateCost, FullTmrCostsAtLeastTwoHundredPercentArea) {
  const CostReport u = lenet().cost(preset(Preset::Unprotected));
  const CostReport t = lenet().cost(preset(Preset::FullTmr));
  const Overheads o = overheads(t, u);
  EXPECT_GE(o.area, 2.0);
  EXPECT_LT(o.area, 2.1);  // three copies plus small voters, nothing else
  EXPECT_GE(o.energy, 2.0);
  EXPECT_EQ(o.latency, 0.0);
  EXPECT_GT(t.area_breakdown.tmr_voters_um2, 0.0);
}

TEST(EvaluateCost, AreaRisesWithHardenedBits) {
  double prev = -1.0, prev_e = -1.0;
  for (int h = 0; h <= 8; ++h) {
    const CostReport r = lenet().cost(design(h, 0.0, 0));
    EXPECT_GT(r.area_um2, prev) << h;
    EXPECT_GT(r.energy_pj, prev_e) << h;
    EXPECT_EQ(r.latency_cycles, lenet().mp.total_cycles);
    prev = r.area_um2;
    prev_e = r.energy_pj;
  }
}

TEST(EvaluateCost, MonotoneInProtectedFraction) {
  double prev_a = -1.0, prev_e = -1.0;
  for (double f : {0.0, 0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1.0}) {
    const CostReport r = lenet().cost(design(0, f, 8));
    EXPECT_GE(r.area_um2, prev_a * (1 - kRelTol)) << f;
    EXPECT_GT(r.energy_pj, prev_e) << f;  // each protected MAC costs three lanes instead of one PE
    prev_a = r.area_um2;
    prev_e = r.energy_pj;
  }
}

TEST(EvaluateCost, MonotoneInLanes) {
  double prev_a = -1.0;
  int64_t prev_l = std::numeric_limits<int64_t>::max();
  for (int u : {1, 2, 4, 8, 16, 32, 64, 128}) {
    const CostReport r = lenet().cost(design(0, 0.1, u));
    EXPECT_GT(r.area_um2, prev_a) << u;
    EXPECT_LE(r.latency_cycles, prev_l) << u;
    prev_a = r.area_um2;
    prev_l = r.latency_cycles;
  }
}

TEST(EvaluateCost, RangeCorrectorIsNearlyFreeAndHardeningUnderKCostsTheSame) {
  const CostReport u = lenet().cost(preset(Preset::Unprotected));
  const CostReport k5 = lenet_k5().cost(design(0, 0.0, 0, 5));
  const Overheads o = overheads(k5, u);
  // One global k fixed at design time: the corrector is wiring (zero Yosys cells, tests/cost/rtl_test),
  // so the range constraint alone costs nothing in area or latency.
  EXPECT_DOUBLE_EQ(k5.area_breakdown.range_correctors_um2, 0.0);
  EXPECT_DOUBLE_EQ(o.area, 0.0);
  // A runtime-programmable signed corrector (per-layer k) is the measured 0.94 register bits per bit:
  // a few percent of the array, still below hardening the bits it covers.
  const ComponentTable t;
  EXPECT_GT(t.range_corrector_bits(8, true).area_um2, 0.0);
  EXPECT_LT(t.range_corrector_bits(8, true).area_um2, t.hardened_bits(3).area_um2);
  EXPECT_EQ(k5.latency_cycles, u.latency_cycles);
  // h hardened bits cost the same count of flops with or without the constraint (they move down to k-1).
  const CostReport h2 = lenet().cost(design(2, 0.0, 0));
  const CostReport h2k5 = lenet_k5().cost(design(2, 0.0, 0, 5));
  EXPECT_DOUBLE_EQ(h2.area_breakdown.hardened_bits_um2, h2k5.area_breakdown.hardened_bits_um2);
}

TEST(EvaluateCost, TooFewLanesMakeTheHybridUnitTheBottleneck) {
  const CostReport u = lenet().cost(preset(Preset::Unprotected));
  const CostReport slow = lenet().cost(design(0, 0.3, 1));
  EXPECT_GT(overheads(slow, u).latency, 0.0);
  EXPECT_GT(slow.latency.unit_bound_layers, 0);
  const CostReport fast = lenet().cost(design(0, 0.3, 512));
  EXPECT_LE(overheads(fast, u).latency, 0.0);
  EXPECT_LT(fast.latency_cycles, slow.latency_cycles);
}

TEST(EvaluateCost, AddingProtectionNeverLowersArea) {
  // Random designs; each is compared with the same design plus one more unit of one mechanism.
  Rng rng(2024);
  const double base = lenet().cost(preset(Preset::Unprotected)).area_um2;
  for (int i = 0; i < 60; ++i) {
    const bool k5 = rng.below(2) == 1;
    const int live = k5 ? 5 : 8;
    const Net& net = k5 ? lenet_k5() : lenet();
    DesignPoint d = design(static_cast<int>(rng.below(static_cast<uint64_t>(live) + 1)), rng.uniform(),
                           1 + static_cast<int>(rng.below(64)), k5 ? 5 : 0);
    if (rng.below(4) == 0) d.fraction = 0.0;
    const double a = net.cost(d).area_um2;
    EXPECT_GE(a, base * (1 - kRelTol)) << i;
    DesignPoint more = d;
    switch (rng.below(3)) {
      case 0: more.harden_bits = std::min(live, d.harden_bits + 1); break;
      case 1: more.fraction = std::min(1.0, d.fraction + 0.5 * rng.uniform()); break;
      default: more.lanes = d.lanes + 1 + static_cast<int>(rng.below(16)); break;
    }
    EXPECT_GE(net.cost(more).area_um2, a * (1 - kRelTol)) << i << ": " << protect::to_json(more).dump();
    if (k5) {
      // Adding the range constraint (and its corrector) to the same knobs never lowers area either.
      DesignPoint plain = d;
      plain.k = 0;
      EXPECT_GE(a, lenet().cost(plain).area_um2 * (1 - kRelTol)) << i;
    }
    EXPECT_LE(a, lenet().cost(preset(Preset::FullTmr)).area_um2) << i;
  }
}

TEST(Overheads, AreRelativeToTheReference) {
  CostReport d, u;
  d.area_um2 = 300;
  u.area_um2 = 100;
  d.energy_pj = 50;
  u.energy_pj = 40;
  d.latency_cycles = 90;
  u.latency_cycles = 100;
  const Overheads o = overheads(d, u);
  EXPECT_DOUBLE_EQ(o.area, 2.0);
  EXPECT_DOUBLE_EQ(o.energy, 0.25);
  EXPECT_DOUBLE_EQ(o.latency, -0.1);
  CostReport zero;
  EXPECT_EQ(overheads(zero, zero).area, 0.0);
  EXPECT_TRUE(std::isinf(overheads(d, zero).area));
  const nlohmann::json j = to_json(o);
  EXPECT_DOUBLE_EQ(j["area_overhead"].get<double>(), 2.0);
  EXPECT_TRUE(j.contains("energy_overhead"));
  EXPECT_TRUE(j.contains("latency_overhead"));
}

TEST(EvaluateCost, JsonHasTotalsAndBreakdowns) {
  const CostReport r = lenet().cost(design(2, 0.1, 8));
  const nlohmann::json j = to_json(r);
  EXPECT_DOUBLE_EQ(j["area_um2"].get<double>(), r.area_um2);
  EXPECT_DOUBLE_EQ(j["energy_pj"].get<double>(), r.energy_pj);
  EXPECT_EQ(j["latency_cycles"].get<int64_t>(), r.latency_cycles);
  EXPECT_GT(j["area_breakdown"]["hybrid_lanes_um2"].get<double>(), 0.0);
  EXPECT_GT(j["energy_breakdown"]["hybrid_pj"].get<double>(), 0.0);
  EXPECT_EQ(j["latency"]["layers"].size(), 5u);
}

TEST(EvaluateCost, LeNetReferenceNumbers) {
  // Reference numbers for LeNet-5 on the default array, printed so that a change shows up in test logs.
  const CostReport u = lenet().cost(preset(Preset::Unprotected));
  struct Row {
    const char* name;
    CostReport r;
  };
  const Row rows[] = {
      {"full TMR", lenet().cost(preset(Preset::FullTmr))},
      {"h = 2", lenet().cost(design(2, 0.0, 0))},
      {"f = 10%, U = 8", lenet().cost(design(0, 0.1, 8))},
      {"k = 5 (corrector)", lenet_k5().cost(design(0, 0.0, 0, 5))},
  };
  std::printf("LeNet-5, 32x32 WS, W8/A8/P32: unprotected %.0f um2, %.1f pJ/inference, %lld cycles\n", u.area_um2,
              u.energy_pj, static_cast<long long>(u.latency_cycles));
  for (const auto& row : rows) {
    const Overheads o = overheads(row.r, u);
    std::printf("  %-18s area %+7.2f%%  energy %+7.2f%%  latency %+6.2f%%\n", row.name, 100 * o.area, 100 * o.energy,
                100 * o.latency);
  }
  EXPECT_GT(overheads(rows[0].r, u).area, overheads(rows[1].r, u).area);
  EXPECT_GT(overheads(rows[0].r, u).area, overheads(rows[2].r, u).area);
}

}  // namespace
}  // namespace ftdla::cost
