// SPDX-License-Identifier: MIT
// Equivalence of the generated PE Verilog (iverilog -g2005 + vvp) and the C++ golden model accel::Pe on
// random vectors, bit-exact, for several configurations; plus an exhaustive check of the range corrector.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "cost/tool_support.hpp"
#include "ftdla/accel/pe.hpp"
#include "ftdla/core/bits.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/cost/rtl.hpp"

namespace ftdla::cost {
namespace {

using accel::Pe;
using accel::PeConfig;
using accel::PeInputs;
using testing::HexWord;

constexpr int kVectors = 2000;      // vectors compared, after one warm-up vector
constexpr long kMinOverflows = 50;  // vectors whose accumulate must wrap, so wrapping is really exercised

struct PeCase {
  const char* name;
  PeConfig config;
};

std::string describe(const PeConfig& c) {
  return "W" + std::to_string(c.wbits) + "/A" + std::to_string(c.abits) + "/P" + std::to_string(c.accbits) +
         (c.x_signed ? " signed" : " unsigned") + " H=" + std::to_string(c.harden_out_bits) +
         " HA=" + std::to_string(c.harden_acc_bits);
}

// Readable case names in test output and CTest.
void PrintTo(const PeCase& c, std::ostream* os) { *os << describe(c.config); }

// Raw values are drawn to hit the interesting corners: zero points at their extremes, partial sums next to
// the accumulator's overflow points, injected flips (single bits and masks) into any copy.
PeInputs random_inputs(const PeConfig& c, Rng& rng) {
  const int a = c.abits, p = c.accbits;
  PeInputs in;
  in.load_w = rng.below(5) == 0;
  in.w_in = rng() & low_mask(c.wbits);
  in.x_in = rng() & low_mask(a);
  switch (rng.below(8)) {
    case 0: in.zp = 0; break;
    case 1: in.zp = -(int64_t{1} << a); break;       // most negative (A+1)-bit zero point
    case 2: in.zp = (int64_t{1} << a) - 1; break;    // most positive
    default: in.zp = sign_extend(rng(), a + 1);
  }
  // Distance from the overflow point: below the product's typical magnitude, so that wrapping is common.
  const uint64_t small = rng.below(uint64_t{1} << std::min(p - 2, a + c.wbits - 2));
  switch (rng.below(4)) {
    case 0: in.psum_in = static_cast<uint64_t>((int64_t{1} << (p - 1)) - 1 - static_cast<int64_t>(small)); break;
    case 1: in.psum_in = static_cast<uint64_t>(-(int64_t{1} << (p - 1)) + static_cast<int64_t>(small)); break;
    default: in.psum_in = rng();
  }
  in.psum_in &= low_mask(p);
  in.load_out = rng.below(2) == 0;
  in.out_d = rng() & low_mask(a);
  switch (rng.below(3)) {
    case 0: in.inject_out = 0; break;
    case 1: in.inject_out = uint64_t{1} << rng.below(static_cast<uint64_t>(a)); break;
    default: in.inject_out = rng() & low_mask(a);
  }
  in.inject_copy = static_cast<int>(rng.below(4));
  switch (rng.below(8)) {
    case 0: case 1: in.inject_acc = uint64_t{1} << rng.below(static_cast<uint64_t>(p)); break;
    case 2: in.inject_acc = rng() & low_mask(p); break;
    default: in.inject_acc = 0;
  }
  in.inject_acc_copy = static_cast<int>(rng.below(4));
  return in;
}

HexWord pack_inputs(const PeConfig& c, const PeInputs& in) {
  HexWord w;
  w.add(in.load_w, 1).add(in.w_in, c.wbits).add(in.x_in, c.abits).add(in.psum_in, c.accbits);
  w.add(static_cast<uint64_t>(in.zp), c.abits + 1).add(in.load_out, 1).add(in.out_d, c.abits);
  w.add(in.inject_out, c.abits).add(static_cast<uint64_t>(in.inject_copy), 2);
  w.add(in.inject_acc, c.accbits).add(static_cast<uint64_t>(in.inject_acc_copy), 2);
  return w;
}

HexWord pack_outputs(const PeConfig& c, const Pe& pe) {
  HexWord w;
  w.add(pe.x_out(), c.abits).add(pe.psum_out_raw(), c.accbits).add(pe.out_raw(), c.abits);
  return w;
}

std::string testbench(const PeConfig& c, int n, int vec_width, int exp_width) {
  const std::string W = std::to_string(c.wbits), A = std::to_string(c.abits), P = std::to_string(c.accbits);
  std::string tb =
      "module tb;\n"
      "  reg clk = 1'b0;\n"
      "  reg load_w; reg [" + W + "-1:0] w_in; reg [" + A + "-1:0] x_in; reg [" + P + "-1:0] psum_in;\n"
      "  reg [" + A + ":0] zp; reg load_out; reg [" + A + "-1:0] out_d; reg [" + A + "-1:0] inject_out;\n"
      "  reg [1:0] inject_copy; reg [" + P + "-1:0] inject_acc; reg [1:0] inject_acc_copy;\n"
      "  wire [" + A + "-1:0] x_out; wire [" + P + "-1:0] psum_out; wire [" + A + "-1:0] out_q;\n"
      "  ftdla_pe dut (.clk(clk), .load_w(load_w), .w_in(w_in), .x_in(x_in), .psum_in(psum_in), .zp(zp),\n"
      "    .load_out(load_out), .out_d(out_d), .keep({" + A + "{1'b1}}), .sext(1'b0), .inject_out(inject_out),\n"
      "    .inject_copy(inject_copy),\n"
      "    .inject_acc(inject_acc), .inject_acc_copy(inject_acc_copy), .x_out(x_out), .psum_out(psum_out),\n"
      "    .out_q(out_q));\n"
      "  reg [" + std::to_string(vec_width) + "-1:0] vecs [0:" + std::to_string(n - 1) + "];\n"
      "  reg [" + std::to_string(exp_width) + "-1:0] exps [0:" + std::to_string(n - 1) + "];\n"
      "  integer i, checked, mismatches;\n"
      "  initial begin\n"
      "    $readmemh(\"vectors.hex\", vecs);\n"
      "    $readmemh(\"expected.hex\", exps);\n"
      "    checked = 0; mismatches = 0;\n"
      "    for (i = 0; i < " + std::to_string(n) + "; i = i + 1) begin\n"
      "      {load_w, w_in, x_in, psum_in, zp, load_out, out_d, inject_out, inject_copy, inject_acc,\n"
      "       inject_acc_copy} = vecs[i];\n"
      "      #5 clk = 1'b1;\n"
      "      #1 if (i > 0 && {x_out, psum_out, out_q} !== exps[i]) begin\n"
      "        mismatches = mismatches + 1;\n"
      "        if (mismatches <= 5) $display(\"MISMATCH vector %0d: got %h expected %h\", i,\n"
      "          {x_out, psum_out, out_q}, exps[i]);\n"
      "      end\n"
      "      if (i > 0) checked = checked + 1;\n"
      "      #4 clk = 1'b0;\n"
      "    end\n"
      "    $display(\"CHECKED %0d MISMATCHES %0d\", checked, mismatches);\n"
      "    $finish;\n"
      "  end\n"
      "endmodule\n";
  return tb;
}

class PeRtlEquivalence : public ::testing::TestWithParam<PeCase> {};

TEST_P(PeRtlEquivalence, MatchesCppModelBitExact) {
  FTDLA_REQUIRE_TOOL("iverilog");
  FTDLA_REQUIRE_TOOL("vvp");
  const PeConfig c = GetParam().config;
  SCOPED_TRACE(describe(c));
  const int a = c.abits, p = c.accbits, h = c.harden_out_bits, ha = c.harden_acc_bits;

  Rng rng(0xF7D1A + static_cast<uint64_t>(a * 131 + p));
  std::vector<PeInputs> inputs;
  // Vector 0 loads every register; its outputs are not compared (the accumulator's MAC still read the RTL's
  // X state), from vector 1 on every register holds a defined value.
  PeInputs first = random_inputs(c, rng);
  first.load_w = first.load_out = true;
  first.inject_out = first.inject_acc = 0;
  inputs.push_back(first);
  // Explicit fault cases, checked on the model below and against the RTL with everything else:
  // 1: a flip in the top (hardened) output bit, in copy 1; 2: a flip in bit 0 (plain unless H == A);
  // 3: a flip in the top bit with inject_copy = 3 (hits no hardened copy); 4: a flip in the top accumulator bit.
  const uint64_t d1 = 0x5A5A & low_mask(a), d2 = 0x3C3C & low_mask(a), d3 = 0x0F0F & low_mask(a);
  PeInputs e{};
  e.load_out = true;
  e.out_d = d1, e.inject_out = uint64_t{1} << (a - 1), e.inject_copy = 1;
  inputs.push_back(e);
  e.out_d = d2, e.inject_out = 1, e.inject_copy = 0;
  inputs.push_back(e);
  e.out_d = d3, e.inject_out = uint64_t{1} << (a - 1), e.inject_copy = 3;
  inputs.push_back(e);
  e = PeInputs{};
  e.psum_in = 0x1234 & low_mask(p), e.inject_acc = uint64_t{1} << (p - 1), e.inject_acc_copy = 2;
  inputs.push_back(e);
  while (static_cast<int>(inputs.size()) < kVectors + 1) inputs.push_back(random_inputs(c, rng));

  Pe pe(c);
  std::string vec_hex, exp_hex;
  int vec_width = 0, exp_width = 0;
  long overflows = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const PeInputs& in = inputs[i];
    const int64_t x = c.x_signed ? sign_extend(pe.x_out(), a) : static_cast<int64_t>(pe.x_out());
    const int64_t zp = sign_extend(static_cast<uint64_t>(in.zp), a + 1);
    const int64_t exact = sign_extend(in.psum_in, p) + (x - zp) * sign_extend(pe.w_reg(), c.wbits);
    overflows += exact != wrap_signed(exact, p);
    pe.clock(in);
    const HexWord v = pack_inputs(c, in), o = pack_outputs(c, pe);
    vec_width = v.width(), exp_width = o.width();
    vec_hex += v.hex() + "\n";
    exp_hex += o.hex() + "\n";
    if (i == 1) {
      EXPECT_EQ(pe.out_raw(), h > 0 ? d1 : d1 ^ (uint64_t{1} << (a - 1))) << "hardened flip voted away";
    } else if (i == 2) {
      EXPECT_EQ(pe.out_raw(), h < a ? d2 ^ 1 : d2) << "plain flip shows";
    } else if (i == 3) {
      EXPECT_EQ(pe.out_raw(), h > 0 ? d3 : d3 ^ (uint64_t{1} << (a - 1))) << "copy 3 hits no TMR copy";
    } else if (i == 4) {
      const uint64_t clean = static_cast<uint64_t>(wrap_signed(exact, p)) & low_mask(p);
      EXPECT_EQ(pe.psum_out_raw(), ha > 0 ? clean : clean ^ (uint64_t{1} << (p - 1))) << "accumulator flip";
    }
  }
  EXPECT_GE(overflows, kMinOverflows);

  const testing::TbRun r =
      testing::run_testbench(generate_pe_verilog(c), testbench(c, kVectors + 1, vec_width, exp_width), vec_hex, exp_hex);
  ASSERT_TRUE(r.ok()) << r.log;
  EXPECT_EQ(r.checked, kVectors) << r.log;
  EXPECT_EQ(r.mismatches, 0) << r.log;
  EXPECT_EQ(r.log.find("warning"), std::string::npos) << r.log;
}

INSTANTIATE_TEST_SUITE_P(
    Configs, PeRtlEquivalence,
    ::testing::Values(PeCase{"W8A8P32_H3_unsigned", {8, 8, 32, false, 3, 0}},
                      PeCase{"W4A6P16_H2_HA3_signed", {4, 6, 16, true, 2, 3}},
                      PeCase{"W3A5P8_full_hardening_unsigned", {3, 5, 8, false, 5, 8}},
                      PeCase{"W16A16P32_HA4_signed", {16, 16, 32, true, 0, 4}}),
    [](const ::testing::TestParamInfo<PeCase>& info) { return std::string(info.param.name); });

// Reference semantics of the range corrector: keep bits [0, k), replace the
// others by 0 (unsigned) or by bit k-1 (signed); k = 0 gives 0.
uint64_t corrected_ref(uint64_t x, int k, int bits, bool is_signed) {
  if (k == 0) return 0;
  const uint64_t low = x & low_mask(k);
  const bool sign = is_signed && ((x >> (k - 1)) & 1u);
  return sign ? (low | (low_mask(bits) & ~low_mask(k))) : low;
}

TEST(RangeCorrectorRtl, MatchesReferenceExhaustively) {
  FTDLA_REQUIRE_TOOL("iverilog");
  FTDLA_REQUIRE_TOOL("vvp");
  constexpr int kBits = 6;
  for (const bool is_signed : {false, true}) {
    SCOPED_TRACE(is_signed ? "signed" : "unsigned");
    std::string vec_hex, exp_hex;
    int n = 0;
    for (int k = 0; k <= kBits; ++k)
      for (uint64_t x = 0; x < (uint64_t{1} << kBits); ++x, ++n) {
        vec_hex += HexWord().add(x, kBits).add(low_mask(k), kBits).hex() + "\n";
        exp_hex += HexWord().add(corrected_ref(x, k, kBits, is_signed), kBits).hex() + "\n";
      }
    const std::string N = std::to_string(kBits);
    const std::string tb =
        "module tb;\n"
        "  reg [" + N + "-1:0] x; reg [" + N + "-1:0] keep; wire [" + N + "-1:0] y;\n"
        "  ftdla_range_corrector dut (.x(x), .keep(keep), .y(y));\n"
        "  reg [2*" + N + "-1:0] vecs [0:" + std::to_string(n - 1) + "];\n"
        "  reg [" + N + "-1:0] exps [0:" + std::to_string(n - 1) + "];\n"
        "  integer i, mismatches;\n"
        "  initial begin\n"
        "    $readmemh(\"vectors.hex\", vecs); $readmemh(\"expected.hex\", exps); mismatches = 0;\n"
        "    for (i = 0; i < " + std::to_string(n) + "; i = i + 1) begin\n"
        "      {x, keep} = vecs[i];\n"
        "      #1 if (y !== exps[i]) mismatches = mismatches + 1;\n"
        "    end\n"
        "    $display(\"CHECKED %0d MISMATCHES %0d\", i, mismatches);\n"
        "    $finish;\n"
        "  end\n"
        "endmodule\n";
    const testing::TbRun r =
        testing::run_testbench(generate_range_corrector_verilog(kBits, is_signed), tb, vec_hex, exp_hex, false);
    ASSERT_TRUE(r.ok()) << r.log;
    EXPECT_EQ(r.checked, n);
    EXPECT_EQ(r.mismatches, 0) << r.log;
  }
}

}  // namespace
}  // namespace ftdla::cost
