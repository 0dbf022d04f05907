// SPDX-License-Identifier: MIT
// Co-simulation per design point. For a design on the shipped LeNet-5, the PE the cost model prices
// (cost::pe_variant of its protection plan: hardened live bits, range corrector) runs in iverilog on the
// model's real output values, with a forced flip in every bit of the output register, in each TMR copy.
// One fault list drives both sides: the RTL's out_q must equal, bit for bit, what the injector's Shield
// rule (fault::output_shield) and the C++ PE model give for the same fault. The TMR lane of the hybrid
// unit is checked the same way on real operand streams: every single-copy accumulator flip is voted away
// (the Shield masks every fault of a protected channel), while the hit copy really changed.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "cost/tool_support.hpp"
#include "ftdla/accel/mapping.hpp"
#include "ftdla/accel/pe.hpp"
#include "ftdla/core/bits.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/cost/rtl.hpp"
#include "ftdla/cost/synth_cost.hpp"
#include "ftdla/fault/fault.hpp"
#include "ftdla/protect/design.hpp"
#include "ftdla/protect/plan.hpp"
#include "support/models.hpp"

namespace ftdla::cost {
namespace {

using testing::HexWord;

struct DesignCase {
  const char* name;
  int k;
  int h;
  const char* k_layer;  ///< non-null: k applies to this layer only (k_per_layer), the others stay at A
};

void PrintTo(const DesignCase& c, std::ostream* os) { *os << c.name; }

struct Built {
  quant::QGraph q;
  std::unique_ptr<engine::IntegerEngine> engine;
  accel::Mapping mp;
  protect::ProtectionPlan plan;
};

Built build(const DesignCase& c) {
  protect::DesignPoint d;
  if (c.k_layer != nullptr)
    d.k_per_layer[c.k_layer] = c.k;
  else
    d.k = c.k;
  d.harden_bits = c.h;
  quant::QuantOptions base;
  base.calib_images = 256;
  Built b;
  const model::Graph& g = test::quantized("lenet5").graph;
  b.q = quant::quantize(g, test::calib_set(), protect::to_quant_options(d, base));
  b.engine = std::make_unique<engine::IntegerEngine>(b.q);
  b.mp = accel::map_network(b.q, protect::to_array_spec(d));
  b.plan = protect::make_plan(d, b.q, b.mp);
  return b;
}

std::string out_testbench(const accel::PeConfig& c, int n) {
  const std::string A = std::to_string(c.abits), W = std::to_string(c.wbits), P = std::to_string(c.accbits);
  const int vw = 1 + 3 * c.abits + 2 + 1;
  return "module tb;\n"
         "  reg clk = 1'b0;\n"
         "  reg load_out; reg [" + A + "-1:0] out_d; reg [" + A + "-1:0] inject_out; reg [1:0] inject_copy;\n"
         "  reg [" + A + "-1:0] keep; reg sext;\n"
         "  wire [" + A + "-1:0] x_out; wire [" + P + "-1:0] psum_out; wire [" + A + "-1:0] out_q;\n"
         "  ftdla_pe dut (.clk(clk), .load_w(1'b0), .w_in({" + W + "{1'b0}}), .x_in({" + A + "{1'b0}}),\n"
         "    .psum_in({" + P + "{1'b0}}), .zp({(" + A + "+1){1'b0}}), .load_out(load_out), .out_d(out_d), .keep(keep),\n"
         "    .sext(sext), .inject_out(inject_out), .inject_copy(inject_copy), .inject_acc({" + P + "{1'b0}}),\n"
         "    .inject_acc_copy(2'd3), .x_out(x_out), .psum_out(psum_out), .out_q(out_q));\n"
         "  reg [" + std::to_string(vw) + "-1:0] vecs [0:" + std::to_string(n - 1) + "];\n"
         "  reg [" + A + "-1:0] exps [0:" + std::to_string(n - 1) + "];\n"
         "  integer i, checked, mismatches;\n"
         "  initial begin\n"
         "    $readmemh(\"vectors.hex\", vecs); $readmemh(\"expected.hex\", exps);\n"
         "    checked = 0; mismatches = 0;\n"
         "    for (i = 0; i < " + std::to_string(n) + "; i = i + 1) begin\n"
         "      {load_out, out_d, inject_out, inject_copy, keep, sext} = vecs[i];\n"
         "      #5 clk = 1'b1;\n"
         "      #1 if (out_q !== exps[i]) begin\n"
         "        mismatches = mismatches + 1;\n"
         "        if (mismatches <= 5) $display(\"MISMATCH %0d: got %h expected %h\", i, out_q, exps[i]);\n"
         "      end\n"
         "      checked = checked + 1;\n"
         "      #4 clk = 1'b0;\n"
         "    end\n"
         "    $display(\"CHECKED %0d MISMATCHES %0d\", checked, mismatches);\n"
         "    $finish;\n"
         "  end\n"
         "endmodule\n";
}

class DesignCosim : public ::testing::TestWithParam<DesignCase> {};

TEST_P(DesignCosim, RtlMasksExactlyWhatTheShieldMasks) {
  FTDLA_REQUIRE_TOOL("iverilog");
  FTDLA_REQUIRE_TOOL("vvp");
  const Built b = build(GetParam());
  const fault::Shield shield = protect::to_shield(b.plan);
  const accel::PeConfig cfg = pe_variant(b.plan, b.q);
  if (GetParam().h > 0) {
    ASSERT_NE(cfg.out_hard_mask(), 0u);
  }
  ASSERT_EQ(cfg.corrector, b.plan.range_corrector);

  // Real output values of every compute layer on two test images (plus each layer's range ends).
  std::vector<engine::Trace> traces(2);
  for (int i = 0; i < 2; ++i) b.engine->run(test::test_set().image(i), traces[static_cast<std::size_t>(i)]);

  accel::Pe model(cfg);
  std::string vec_hex, exp_hex;
  int n = 0;
  long masked = 0, corrected = 0, faults = 0;
  const int a = cfg.abits;
  for (const auto& lp : b.plan.layers) {
    const quant::Encoding& enc = b.q.enc.at(static_cast<std::size_t>(b.q.layers.at(lp.layer).output));
    const fault::OutputShield os = fault::output_shield(shield, enc.bits, enc.eff_bits, enc.is_signed);
    std::set<int64_t> values = {enc.qmin, enc.qmax};
    for (const auto& t : traces) {
      const auto& out = t.values.at(static_cast<std::size_t>(b.q.layers.at(lp.layer).output));
      for (std::size_t i = 0; i < out.size() && values.size() < 10; i += 7) values.insert(out[i]);
    }
    const uint64_t keep = lp.range_constrained ? low_mask(lp.live_bits) : low_mask(a);
    for (const int64_t v : values) {
      const uint64_t raw = static_cast<uint64_t>(v) & low_mask(a);
      for (int bit = 0; bit < a; ++bit)
        for (int copy = 0; copy < 3; ++copy) {
          const int64_t shielded = os.flip(v, bit);  // the injector's rule
          const uint64_t expect = static_cast<uint64_t>(shielded) & low_mask(a);
          accel::PeInputs in;
          in.load_out = true;
          in.out_d = raw;
          in.inject_out = uint64_t{1} << bit;
          in.inject_copy = copy;
          in.inject_acc_copy = 3;
          model.clock(in);
          ASSERT_EQ(model.out_corrected_raw(keep, enc.is_signed), expect)
              << "C++ PE model vs Shield: layer " << lp.name << " value " << v << " bit " << bit << " copy " << copy;
          vec_hex += HexWord().add(1, 1).add(raw, a).add(in.inject_out, a).add(static_cast<uint64_t>(copy), 2)
                         .add(keep, a).add(enc.is_signed ? 1 : 0, 1).hex() + "\n";
          exp_hex += HexWord().add(expect, a).hex() + "\n";
          ++n;
          ++faults;
          masked += shielded == v;
          corrected += !os.hardened(bit) && shielded == v;
        }
    }
  }
  // The fault list exercises what the design claims: hardened bits mask, and with k < A the corrector too.
  if (GetParam().h > 0) {
    EXPECT_GT(masked, 0);
  }
  if (b.plan.range_corrector) {
    EXPECT_GT(corrected, 0);
  }
  EXPECT_LT(masked, faults);  // and plain live bits do show

  const testing::TbRun r = testing::run_testbench(generate_pe_verilog(cfg), out_testbench(cfg, n), vec_hex, exp_hex);
  ASSERT_TRUE(r.ok()) << r.log;
  EXPECT_EQ(r.checked, n);
  EXPECT_EQ(r.mismatches, 0) << r.log;
}

INSTANTIATE_TEST_SUITE_P(LeNet5, DesignCosim,
                         ::testing::Values(DesignCase{"k8_h2", 0, 2, nullptr}, DesignCase{"k6_h1", 6, 1, nullptr},
                                           DesignCase{"k5_h2", 5, 2, nullptr}, DesignCase{"k7_h0", 7, 0, nullptr},
                                           DesignCase{"k5_second_conv_h1", 5, 1, "/features/features.3/Conv"}),
                         [](const ::testing::TestParamInfo<DesignCase>& info) { return std::string(info.param.name); });

TEST(TmrLaneCosim, EverySingleCopyFlipIsVotedAway) {
  FTDLA_REQUIRE_TOOL("iverilog");
  FTDLA_REQUIRE_TOOL("vvp");
  const Built b = build({"lane", 0, 0, nullptr});
  accel::PeConfig cfg = pe_variant(b.plan, b.q);
  const int a = cfg.abits, w = cfg.wbits, p = cfg.accbits;
  // Real operands: the first conv layer's input activations and weights, K = its reduction length.
  const auto& lm = b.mp.layers.front();
  const quant::QLayer& L = b.q.layers.at(lm.layer);
  engine::Trace t;
  b.engine->run(test::test_set().image(0), t);
  const auto& xs = t.values.at(static_cast<std::size_t>(L.inputs.at(0)));
  const int64_t zp = b.q.enc.at(static_cast<std::size_t>(L.inputs.at(0))).zero_point;
  const int64_t K = lm.dims.k;
  Rng rng(0x1A4E);
  std::string vec_hex, exp_hex;
  int n = 0;
  // Sequences of K MACs; in each, one flip (random bit, copy c, random step) or none (copy 3).
  for (int seq = 0; seq < 96; ++seq) {
    const int copy = seq % 4;
    const int64_t flip_step = static_cast<int64_t>(rng.below(static_cast<uint64_t>(K)));
    const uint64_t flip = uint64_t{1} << rng.below(static_cast<uint64_t>(p));
    int64_t acc = 0;
    int64_t x_prev = 0, w_prev = 0;
    for (int64_t k = 0; k <= K; ++k) {
      // Cycle k: registers take x_k, w_k; the MAC of cycle k adds the registered (x, w) of cycle k-1.
      const int64_t x = xs.at(static_cast<std::size_t>((seq * 13 + k) % static_cast<int64_t>(xs.size())));
      const int64_t wt = L.weight.at(static_cast<std::size_t>((seq * K + k) % static_cast<int64_t>(L.weight.size())));
      const bool clear = k == 0;
      if (!clear) acc = wrap_signed(acc + (x_prev - zp) * w_prev, p);
      const bool inject = copy < 3 && k == flip_step + 1;
      vec_hex += HexWord().add(1, 1).add(static_cast<uint64_t>(wt) & low_mask(w), w).add(static_cast<uint64_t>(x) & low_mask(a), a)
                     .add(static_cast<uint64_t>(zp) & low_mask(a + 1), a + 1).add(clear, 1)
                     .add(inject ? flip : 0, p).add(static_cast<uint64_t>(inject ? copy : 3), 2).hex() + "\n";
      exp_hex += HexWord().add(static_cast<uint64_t>(acc) & low_mask(p), p).add(inject ? 1 : 0, 1).hex() + "\n";
      ++n;
      x_prev = x;
      w_prev = wt;
    }
  }
  const std::string A = std::to_string(a), W = std::to_string(w), P = std::to_string(p);
  const int vw = 1 + w + a + a + 1 + 1 + p + 2;
  const std::string tb =
      "module tb;\n"
      "  reg clk = 1'b0;\n"
      "  reg load_w; reg [" + W + "-1:0] w_in; reg [" + A + "-1:0] x_in; reg [" + A + ":0] zp; reg clear;\n"
      "  reg [" + P + "-1:0] inject_acc; reg [1:0] inject_lane; wire [" + P + "-1:0] acc_q;\n"
      "  ftdla_tmr_lane dut (.clk(clk), .load_w(load_w), .w_in(w_in), .x_in(x_in), .zp(zp), .clear(clear),\n"
      "    .inject_acc(inject_acc), .inject_lane(inject_lane), .acc_q(acc_q));\n"
      "  reg [" + std::to_string(vw) + "-1:0] vecs [0:" + std::to_string(n - 1) + "];\n"
      "  reg [" + P + ":0] exps [0:" + std::to_string(n - 1) + "];\n"
      "  reg [" + P + "-1:0] hit;\n"
      "  integer i, checked, mismatches, unhit;\n"
      "  initial begin\n"
      "    $readmemh(\"vectors.hex\", vecs); $readmemh(\"expected.hex\", exps);\n"
      "    checked = 0; mismatches = 0; unhit = 0;\n"
      "    for (i = 0; i < " + std::to_string(n) + "; i = i + 1) begin\n"
      "      {load_w, w_in, x_in, zp, clear, inject_acc, inject_lane} = vecs[i];\n"
      "      #5 clk = 1'b1;\n"
      "      #1 hit = inject_lane == 0 ? dut.acc0 : inject_lane == 1 ? dut.acc1 : dut.acc2;\n"
      "      if (acc_q !== exps[i][" + P + ":1]) begin\n"
      "        mismatches = mismatches + 1;\n"
      "        if (mismatches <= 5) $display(\"MISMATCH %0d: got %h expected %h\", i, acc_q, exps[i][" + P + ":1]);\n"
      "      end\n"
      "      if (exps[i][0] && hit === acc_q) unhit = unhit + 1;\n"
      "      checked = checked + 1;\n"
      "      #4 clk = 1'b0;\n"
      "    end\n"
      "    $display(\"UNHIT %0d\", unhit);\n"
      "    $display(\"CHECKED %0d MISMATCHES %0d\", checked, mismatches);\n"
      "    $finish;\n"
      "  end\n"
      "endmodule\n";
  const testing::TbRun r = testing::run_testbench(generate_tmr_lane_verilog(cfg), tb, vec_hex, exp_hex);
  ASSERT_TRUE(r.ok()) << r.log;
  EXPECT_EQ(r.checked, n);
  EXPECT_EQ(r.mismatches, 0) << r.log;
  EXPECT_NE(r.log.find("UNHIT 0"), std::string::npos) << "an injected flip did not reach its copy:\n" << r.log;
}

}  // namespace
}  // namespace ftdla::cost
