// The PE-array reference (pe_reference.hpp) on its own: without faults it is the golden engine, and single
// faults do what docs/design.md's fault model says, worked out here by hand from the operands (not from the
// injector): how far a corrupted weight or activation travels, where the output register is, what
// protection masks.
#include "fault/pe_reference.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/fault/sampler.hpp"
#include "ftdla/fault/injector.hpp"
#include "ftdla/model/lowering.hpp"
#include "support/models.hpp"

namespace ftdla::fault {
namespace {

const test::Quantized& lenet() { return test::quantized("lenet5"); }

engine::Trace golden_trace(int image) {
  engine::Trace t;
  lenet().engine->run(test::test_set().image(image), t);
  return t;
}

/// Layer l's input matrix [K][M] (group 0) as the array streams it.
std::vector<int32_t> input_matrix(const engine::Trace& t, size_t l, const model::GemmDims& d) {
  const quant::QGraph& q = lenet().q;
  const quant::QLayer& L = q.layers[l];
  const model::Node& node = q.graph.nodes[L.node];
  std::vector<int32_t> col(static_cast<size_t>(d.k * d.m));
  if (node.op == model::OpKind::Gemm) return t.values[L.inputs[0]];
  model::im2col(t.values[L.inputs[0]].data(), q.graph.values[L.inputs[0]].shape, q.graph.values[L.output].shape,
                node, 0, q.enc[L.inputs[0]].zero_point, col.data());
  return col;
}

TEST(PeReference, WithoutFaultsEveryRegisterIsGolden) {
  const accel::ArraySpec specs[] = {{32, 32, accel::Dataflow::WeightStationary},
                                    {8, 4, accel::Dataflow::WeightStationary},
                                    {5, 3, accel::Dataflow::OutputStationary},
                                    {16, 16, accel::Dataflow::OutputStationary}};
  for (const auto& spec : specs) {
    const accel::Mapping mp = accel::map_network(lenet().q, spec);
    Shield shield;
    shield.harden_bits = 2;
    shield.range_corrector = true;
    shield.protected_channels.assign(lenet().q.layers.size(), {});
    shield.protected_channels[mp.layers[1].layer].assign(static_cast<size_t>(mp.layers[1].dims.n), 1);
    for (const Shield& s : {Shield{}, shield}) {
      const PeArrayReference pe(*lenet().engine, mp, s);
      const engine::Trace g = golden_trace(0);
      engine::Trace t;
      pe.run(g.values[lenet().q.input], {}, &t);
      for (const auto& lm : mp.layers) {
        EXPECT_EQ(t.acc[lm.layer], g.acc[lm.layer]) << lm.name << " " << spec.rows << "x" << spec.cols;
        const int v = lenet().q.layers[lm.layer].output;
        EXPECT_EQ(t.values[v], g.values[v]) << lm.name;
      }
      EXPECT_EQ(t.values[lenet().q.output], g.values[lenet().q.output]);
      EXPECT_GT(PeArrayReference::last_clocks(), 0);
    }
  }
}

TEST(PeReference, AccumulatorFlipAfterTheLastTermIsRequantized) {
  const accel::Mapping mp = accel::map_network(lenet().q, {8, 4, accel::Dataflow::WeightStationary});
  const auto& lm = mp.layers.back();
  const PeArrayReference pe(*lenet().engine, mp);
  const engine::Trace g = golden_trace(1);
  FaultSet f;
  f.transients.push_back({Site::Acc, lm.layer, 0, 0, 3, lm.dims.k - 1, 0, 20});
  const std::vector<int32_t> out = pe.run(g.values[lenet().q.input], f);
  std::vector<int32_t> expect = g.values[lenet().q.output];
  const int64_t flipped = flip_bit(g.acc[lm.layer][3], 20, lenet().q.options.accbits, true);
  expect[3] = lenet().engine->requantize(lm.layer, 3, static_cast<int32_t>(flipped));
  ASSERT_NE(expect, g.values[lenet().q.output]);
  EXPECT_EQ(out, expect);
}

TEST(PeReference, WsInputFlipTravelsRightToTheEndOfTheTile) {
  // WS 8x4 on the classifier (N = 10): columns 4..7 are tile 1; x[0][k] flipped in column 1 (n = 5)
  // corrupts n = 5, 6, 7 and nothing else.
  const accel::Mapping mp = accel::map_network(lenet().q, {8, 4, accel::Dataflow::WeightStationary});
  const auto& lm = mp.layers.back();
  const quant::QLayer& L = lenet().q.layers[lm.layer];
  const PeArrayReference pe(*lenet().engine, mp);
  const engine::Trace g = golden_trace(2);
  const std::vector<int32_t> x = input_matrix(g, lm.layer, lm.dims);
  const int64_t k = 17;
  const int bit = 6;
  FaultSet f;
  f.transients.push_back({Site::Input, lm.layer, 0, 0, 5, k, 0, bit});
  engine::Trace t;
  pe.run(g.values[lenet().q.input], f, &t);
  const quant::Encoding& enc = lenet().q.enc[L.inputs[0]];
  const int64_t dx = flip_bit(x[k], bit, enc.bits, enc.is_signed) - x[k];
  int changed = 0;
  for (int64_t n = 0; n < lm.dims.n; ++n) {
    const int64_t delta = (n >= 5 && n < 8) ? dx * L.weight[n * lm.dims.k + k] : 0;
    EXPECT_EQ(t.acc[lm.layer][n], g.acc[lm.layer][n] + delta) << "n = " << n;
    changed += delta != 0;
  }
  EXPECT_GT(changed, 0);
}

/// W[n][k] of the first layer flipped (bit `bit`), test image `image`, as it passes pixels [m0, span_end) on `spec`: exactly
/// those accumulators of channel n change, each by (x - zp) * dw; every other accumulator keeps its value.
void expect_weight_flip(int image, accel::ArraySpec spec, int64_t n, int64_t k, int64_t m0, int64_t span_end, int bit) {
  const accel::Mapping mp = accel::map_network(lenet().q, spec);
  const auto& lm = mp.layers.front();
  const quant::QLayer& L = lenet().q.layers[lm.layer];
  const PeArrayReference pe(*lenet().engine, mp);
  const engine::Trace g = golden_trace(image);
  const std::vector<int32_t> x = input_matrix(g, lm.layer, lm.dims);
  if (span_end < 0) span_end = lm.dims.m;
  FaultSet f;
  f.transients.push_back({Site::Weight, lm.layer, 0, m0, n, k, span_end, bit});
  engine::Trace t;
  pe.run(g.values[lenet().q.input], f, &t);
  const int32_t w = L.weight[n * lm.dims.k + k];
  const int64_t dw = flip_bit(w, bit, lenet().q.options.wbits, true) - w;
  const int64_t zp = lenet().q.enc[L.inputs[0]].zero_point;
  int changed = 0;
  for (int64_t oc = 0; oc < lm.dims.n; ++oc)
    for (int64_t m = 0; m < lm.dims.m; ++m) {
      const int64_t delta = (oc == n && m >= m0 && m < span_end) ? (x[k * lm.dims.m + m] - zp) * dw : 0;
      ASSERT_EQ(t.acc[lm.layer][oc * lm.dims.m + m], g.acc[lm.layer][oc * lm.dims.m + m] + delta) << oc << " " << m;
      changed += delta != 0;
    }
  EXPECT_GT(changed, 0);
}

TEST(PeReference, WsWeightFlipCorruptsEveryLaterPixel) {
  // WS 8x4: the weight stays in its PE, so every pixel from m0 on (span_end -1: to the end) is corrupted.
  expect_weight_flip(3, {8, 4, accel::Dataflow::WeightStationary}, 2, 12, 576 / 2, -1, 6);
}

TEST(PeReference, OsWeightFlipTravelsDownToTheEndOfTheTile) {
  // OS 4x8: pixels 300..303 are m-tile 75 (mid-image: image 1, a pullover, has no zero-point input there); W[n][k]
  // flipped in row 1 (m = 301) corrupts m = 301, 302, 303 of channel n.
  expect_weight_flip(1, {4, 8, accel::Dataflow::OutputStationary}, 4, 12, 301, 304, 7);
}

TEST(PeReference, WsOutputRegisterIsInTheBottomRow) {
  const accel::Mapping mp = accel::map_network(lenet().q, {8, 4, accel::Dataflow::WeightStationary});
  const PeArrayReference pe(*lenet().engine, mp);
  const engine::Trace g = golden_trace(4);
  const auto& gold = g.values[lenet().q.output];
  const int top = lenet().q.options.abits - 1;
  FaultSet f;
  f.permanents.push_back({Site::Neuron, 6, 1, top, true});  // not the bottom row: no output register in use
  EXPECT_EQ(pe.run(g.values[lenet().q.input], f), gold);
  f.permanents[0].r = 7;
  EXPECT_NE(pe.run(g.values[lenet().q.input], f), gold);
}

TEST(PeReference, ProtectionMasks) {
  const accel::Mapping mp = accel::map_network(lenet().q, {8, 4, accel::Dataflow::WeightStationary});
  const auto& lm = mp.layers.back();
  const engine::Trace g = golden_trace(1);
  const auto& gold = g.values[lenet().q.output];
  FaultSet acc;
  acc.transients.push_back({Site::Acc, lm.layer, 0, 0, 3, lm.dims.k - 1, 0, 20});
  FaultSet stuck;
  stuck.permanents.push_back({Site::Acc, 2, 1, 25, true});
  const PeArrayReference plain(*lenet().engine, mp);
  ASSERT_NE(plain.run(g.values[lenet().q.input], acc), gold);
  ASSERT_NE(plain.run(g.values[lenet().q.input], stuck), gold);
  Shield lane;  // channel 3 of the classifier on the TMR lane
  lane.protected_channels.assign(lenet().q.layers.size(), {});
  lane.protected_channels[lm.layer].assign(static_cast<size_t>(lm.dims.n), 0);
  lane.protected_channels[lm.layer][3] = 1;
  EXPECT_EQ(PeArrayReference(*lenet().engine, mp, lane).run(g.values[lenet().q.input], acc), gold);
  Shield tmr;
  tmr.full_tmr = true;
  EXPECT_EQ(PeArrayReference(*lenet().engine, mp, tmr).run(g.values[lenet().q.input], stuck), gold);
  // A flip in the top output bit: shows unprotected, voted away when the top two bits are hardened.
  FaultSet neuron;
  neuron.transients.push_back({Site::Neuron, lm.layer, 0, 0, 4, 0, 0, lenet().q.options.abits - 1});
  ASSERT_NE(plain.run(g.values[lenet().q.input], neuron), gold);
  Shield hard;
  hard.harden_bits = 2;
  EXPECT_EQ(PeArrayReference(*lenet().engine, mp, hard).run(g.values[lenet().q.input], neuron), gold);
}

TEST(PeReference, RejectsFaultsOutsideTheNetwork) {
  const accel::Mapping mp = accel::map_network(lenet().q, {8, 4, accel::Dataflow::WeightStationary});
  const PeArrayReference pe(*lenet().engine, mp);
  const auto& in = golden_trace(0).values[lenet().q.input];
  FaultSet f;
  f.permanents.push_back({Site::Weight, 8, 0, 0, true});
  EXPECT_THROW(pe.run(in, f), std::invalid_argument);
  f.permanents[0] = {Site::Weight, 0, 0, lenet().q.options.wbits, true};
  EXPECT_THROW(pe.run(in, f), std::invalid_argument);
  FaultSet t;
  t.transients.push_back({Site::Acc, mp.layers[0].layer, 0, 0, 0, mp.layers[0].dims.k, 0, 0});
  EXPECT_THROW(pe.run(in, t), std::invalid_argument);
}

TEST(PeReference, DegenerateArraysAgreeWithTheInjector) {
  // Shapes the slow equivalence test does not use: one row (every k-tile is one PE deep), one column,
  // a single PE, and odd sizes that leave partial tiles everywhere.
  const accel::ArraySpec specs[] = {{1, 1, accel::Dataflow::WeightStationary},
                                    {1, 7, accel::Dataflow::WeightStationary},
                                    {7, 1, accel::Dataflow::OutputStationary},
                                    {3, 5, accel::Dataflow::OutputStationary},
                                    {5, 3, accel::Dataflow::WeightStationary}};
  const Site sites[] = {Site::Neuron, Site::Acc, Site::Weight, Site::Input};
  Rng rng(4242);
  int changed = 0;
  for (const auto& spec : specs) {
    const accel::Mapping mp = accel::map_network(lenet().q, spec);
    const Injector inj(*lenet().engine, mp);
    const PeArrayReference pe(*lenet().engine, mp);
    const engine::Trace g = golden_trace(5);
    for (int i = 0; i < 24; ++i) {
      const FaultSampler sampler(lenet().q, mp, sites[i % 4]);
      FaultSet f;
      if (i % 3 == 0) f.permanents.push_back(sampler.sample_permanent(rng, i % 2 == 0));
      else f.transients.push_back(sampler.sample(rng));
      std::vector<int32_t> fast;
      changed += inj.run(g, f, &fast).output_changed;
      ASSERT_EQ(pe.run(g.values[lenet().q.input], f), fast)
          << site_name(sites[i % 4]) << " fault " << i << " on " << spec.rows << "x" << spec.cols;
    }
  }
  EXPECT_GT(changed, 0);
}

}  // namespace
}  // namespace ftdla::fault
