// "Masking is real, not assumed" (issue 5): on the shipped LeNet-5, a fault that is known to change the
// logits without protection leaves them equal to golden once the protection built by protect/ (plan ->
// Shield -> fault::Injector) covers it. Each fault is found by a deterministic search, and both injector
// paths (incremental run() and the full re-run run_reference()) are checked.
#include <gtest/gtest.h>

#include <optional>

#include "ftdla/fault/campaign.hpp"
#include "ftdla/fault/injector.hpp"
#include "ftdla/protect/plan.hpp"
#include "support/models.hpp"

namespace ftdla::protect {
namespace {

using fault::FaultSet;
using fault::Injector;
using fault::Site;
using fault::TransientFault;

// Images searched for a propagating fault.
constexpr int64_t kImages = 10;

struct Bench {
  const test::Quantized& model;
  accel::Mapping mp;
  fault::GoldenSet golden;
  explicit Bench(const test::Quantized& m) : model(m), mp(accel::map_network(m.q, {})), golden(*m.engine, test::test_set(), kImages) {}
  const engine::IntegerEngine& engine() const { return *model.engine; }
  std::vector<int32_t> golden_logits(int64_t image) const { return golden.trace(image).values[model.q.output]; }
  // The last hidden compute layer (fc2 of LeNet-5): its neurons feed the logits layer directly.
  const accel::LayerMapping& last_hidden() const { return mp.layers[mp.layers.size() - 2]; }
};

const Bench& base() {
  static const Bench s(test::quantized("lenet5"));
  return s;
}
const Bench& constrained() {
  static const Bench s(test::quantized("lenet5", 5));  // k = 5 effective bits in every compute layer
  return s;
}

struct Found {
  int64_t image;
  TransientFault fault;
};

FaultSet one(const TransientFault& t) {
  FaultSet f;
  f.transients.push_back(t);
  return f;
}

// Logits of `fault` on `image` through both injector paths; they must agree (the equivalence the fault
// module guarantees), so return one of them.
std::vector<int32_t> faulty_logits(const Injector& inj, const Bench& s, int64_t image, const TransientFault& t) {
  std::vector<int32_t> fast;
  inj.run(s.golden.trace(image), one(t), &fast);
  const std::vector<int32_t> ref = inj.run_reference(s.golden.trace(image), one(t));
  EXPECT_EQ(fast, ref) << "run() and run_reference() disagree";
  return fast;
}

// First (image, channel) in scan order whose neuron-output flip of `bit` in the last hidden layer changes
// the logits under `shield`.
std::optional<Found> find_propagating(const Bench& s, const fault::Shield& shield, int bit) {
  const Injector inj(s.engine(), s.mp, shield);
  const accel::LayerMapping& lm = s.last_hidden();
  for (int64_t image = 0; image < kImages; ++image)
    for (int64_t n = 0; n < lm.dims.n; ++n) {
      TransientFault t;
      t.site = Site::Neuron;
      t.layer = lm.layer;
      t.n = n;
      t.bit = bit;
      std::vector<int32_t> logits;
      inj.run(s.golden.trace(image), one(t), &logits);
      if (logits != s.golden_logits(image)) return Found{image, t};
    }
  return std::nullopt;
}

fault::Shield shield_of(const DesignPoint& d, const Bench& s) { return to_shield(make_plan(d, s.model.q, s.mp)); }

TEST(Masking, ProtectedChannelMasksAFaultThatPropagatesOtherwise) {
  const Bench& s = base();
  const auto found = find_propagating(s, {}, 7);  // top bit of the A = 8 bit output register
  ASSERT_TRUE(found) << "no propagating neuron fault found in the last hidden layer";
  const TransientFault& t = found->fault;
  const Injector plain(s.engine(), s.mp);
  EXPECT_NE(faulty_logits(plain, s, found->image, t), s.golden_logits(found->image));

  DesignPoint d;
  d.mode = ProtectMode::Channels;
  d.lanes = 1;
  d.channels = {{s.last_hidden().name, {t.n}}};
  const Injector hybrid(s.engine(), s.mp, shield_of(d, s));
  EXPECT_EQ(faulty_logits(hybrid, s, found->image, t), s.golden_logits(found->image));

  // Protection is per channel: the neighbouring channel on the TMR unit does not mask this fault.
  d.channels = {{s.last_hidden().name, {(t.n + 1) % s.last_hidden().dims.n}}};
  const Injector other(s.engine(), s.mp, shield_of(d, s));
  EXPECT_NE(faulty_logits(other, s, found->image, t), s.golden_logits(found->image));
}

TEST(Masking, ProtectedChannelMasksAccumulatorFaults) {
  // The TMR unit computes the whole channel: a flip in the partial sum of the array does not reach it.
  const Bench& s = base();
  const accel::LayerMapping& lm = s.last_hidden();
  std::vector<int64_t> all(static_cast<std::size_t>(lm.dims.n));
  for (int64_t n = 0; n < lm.dims.n; ++n) all[static_cast<std::size_t>(n)] = n;
  DesignPoint d;
  d.mode = ProtectMode::Channels;
  d.lanes = 4;
  d.channels = {{lm.name, all}};
  const Injector plain(s.engine(), s.mp), hybrid(s.engine(), s.mp, shield_of(d, s));
  bool seen_acc = false;
  for (int64_t image = 0; image < kImages && !seen_acc; ++image)
    for (int64_t n = 0; n < lm.dims.n && !seen_acc; ++n) {
      TransientFault t;
      t.site = Site::Acc;
      t.layer = lm.layer;
      t.n = n;
      t.k = lm.dims.k - 1;  // after the last term: the flip reaches the requantizer
      t.bit = 20;
      if (faulty_logits(plain, s, image, t) == s.golden_logits(image)) continue;
      seen_acc = true;
      EXPECT_EQ(faulty_logits(hybrid, s, image, t), s.golden_logits(image));
    }
  EXPECT_TRUE(seen_acc) << "no propagating accumulator fault found";
}

TEST(Masking, NetworkOnTheTmrUnitIgnoresPermanentArrayFaults) {
  // Stuck-at-1 top bits in the output registers of the whole bottom PE row (where WS keeps the output
  // neurons): every compute layer of the plain array is hit. With every channel of every layer on the TMR
  // unit, no value of the network changes.
  const Bench& s = base();
  DesignPoint d;
  d.mode = ProtectMode::Channels;
  d.lanes = 16;
  for (const auto& lm : s.mp.layers) {
    std::vector<int64_t> all(static_cast<std::size_t>(lm.dims.groups * lm.dims.n));
    for (std::size_t c = 0; c < all.size(); ++c) all[c] = static_cast<int64_t>(c);
    d.channels.push_back({lm.name, all});
  }
  const Injector plain(s.engine(), s.mp), hybrid(s.engine(), s.mp, shield_of(d, s));
  FaultSet perm;
  for (int c = 0; c < s.mp.spec.cols; ++c) perm.permanents.push_back({Site::Neuron, s.mp.spec.rows - 1, c, 7, true});
  engine::Trace plain_t, hybrid_t;
  plain.run_reference(s.golden.trace(0), perm, &plain_t);
  hybrid.run_reference(s.golden.trace(0), perm, &hybrid_t);
  for (const auto& lm : s.mp.layers) {
    const int out = s.model.q.layers[lm.layer].output;
    EXPECT_NE(plain_t.values[out], s.golden.trace(0).values[out]) << lm.name;
    EXPECT_EQ(hybrid_t.values[out], s.golden.trace(0).values[out]) << lm.name;
  }
  std::vector<int32_t> fast;
  hybrid.run(s.golden.trace(0), perm, &fast);
  EXPECT_EQ(fast, s.golden_logits(0));
}

TEST(Masking, HardenedTopBitMasksAFaultThatPropagatesOtherwise) {
  const Bench& s = base();
  const auto found = find_propagating(s, {}, 7);
  ASSERT_TRUE(found);
  DesignPoint d;
  d.harden_bits = 1;  // bit 7 of the live A = 8 bit value
  const Injector hardened(s.engine(), s.mp, shield_of(d, s));
  EXPECT_EQ(faulty_logits(hardened, s, found->image, found->fault), s.golden_logits(found->image));

  // Bit 6 is not hardened at h = 1 (a propagating flip there still propagates), but is at h = 2.
  fault::Shield h1 = shield_of(d, s);
  const auto found6 = find_propagating(s, h1, 6);
  ASSERT_TRUE(found6) << "no propagating bit-6 fault found";
  EXPECT_NE(faulty_logits(hardened, s, found6->image, found6->fault), s.golden_logits(found6->image));
  d.harden_bits = 2;
  const Injector hardened2(s.engine(), s.mp, shield_of(d, s));
  EXPECT_EQ(faulty_logits(hardened2, s, found6->image, found6->fault), s.golden_logits(found6->image));
}

TEST(Masking, RangeCorrectorRestoresEveryBitAtOrAboveK) {
  // Network quantized with k = 5: activations fit in 5 bits, bits 5..7 of the 8-bit register only repeat
  // the sign (here: are zero). The corrector (on because k < A) restores them exactly.
  const Bench& s = constrained();
  DesignPoint d;
  d.k = 5;
  const fault::Shield corrected = shield_of(d, s);
  ASSERT_TRUE(corrected.range_corrector);
  const Injector with(s.engine(), s.mp, corrected);
  for (int bit = 5; bit < 8; ++bit) {
    const auto found = find_propagating(s, {}, bit);  // without the corrector
    ASSERT_TRUE(found) << "bit " << bit << ": no propagating fault without the corrector";
    const Injector without(s.engine(), s.mp);
    EXPECT_NE(faulty_logits(without, s, found->image, found->fault), s.golden_logits(found->image)) << bit;
    EXPECT_EQ(faulty_logits(with, s, found->image, found->fault), s.golden_logits(found->image)) << bit;
  }
  // Bits below k stay live: the corrector alone does not mask a propagating flip of bit 4 ...
  const auto low = find_propagating(s, corrected, 4);
  ASSERT_TRUE(low) << "no propagating bit-4 fault found with the corrector on";
  // ... but hardening one bit now covers it, since h counts from the top of the k live bits (k-1 = 4).
  d.harden_bits = 1;
  const Injector both(s.engine(), s.mp, shield_of(d, s));
  EXPECT_EQ(faulty_logits(both, s, low->image, low->fault), s.golden_logits(low->image));
}

TEST(Masking, FullTmrGivesZeroSdcAtHighBerForEverySite) {
  const Bench& s = base();
  DesignPoint d;
  d.preset = Preset::FullTmr;
  const Injector tmr(s.engine(), s.mp, shield_of(d, s));
  const Injector plain(s.engine(), s.mp);
  for (Site site : {Site::Neuron, Site::Acc, Site::Weight, Site::Input}) {
    fault::CampaignSpec spec;
    spec.site = site;
    spec.mode = fault::FaultMode::Ber;
    spec.ber = site == Site::Neuron ? 1e-2 : 1e-4;  // ~520 neuron flips, ~1300 MAC-register flips per inference
    spec.trials = 40;
    spec.images = kImages;
    spec.seed = 5;
    const fault::CampaignCounts c = fault::Campaign(tmr, s.golden, spec).run(0, spec.trials);
    EXPECT_GT(c.faults, 0) << fault::site_name(site);
    EXPECT_EQ(c.sdc, 0) << fault::site_name(site);
    EXPECT_EQ(c.masked, spec.trials) << fault::site_name(site);
    EXPECT_EQ(c.faulty_correct, c.golden_correct) << fault::site_name(site);
    if (site == Site::Neuron) {
      // The same campaign without protection does produce SDCs: the BER is high enough to matter.
      const fault::CampaignCounts u = fault::Campaign(plain, s.golden, spec).run(0, spec.trials);
      EXPECT_GT(u.sdc, 0);
    }
  }
}

}  // namespace
}  // namespace ftdla::protect
