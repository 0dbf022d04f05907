// SPDX-License-Identifier: MIT
// Yosys synthesis of the generated RTL and the calibration of the component table's measured ratios.
#include "ftdla/cost/rtl.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

#include "cost/tool_support.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/cost/component_table.hpp"

namespace ftdla::cost {
namespace {

using accel::PeConfig;

// The defaults in component_table.hpp must stay within this relative distance of a fresh measurement.
constexpr double kCalibrationTolerance = 0.15;

TEST(GeneratePeVerilog, BakesConfigIntoLocalparams) {
  const std::string v = generate_pe_verilog({4, 6, 16, true, 2, 3}, "my_pe");
  EXPECT_NE(v.find("module my_pe ("), std::string::npos);
  EXPECT_NE(v.find("localparam W = 4;"), std::string::npos);
  EXPECT_NE(v.find("localparam A = 6;"), std::string::npos);
  EXPECT_NE(v.find("localparam P = 16;"), std::string::npos);
  EXPECT_NE(v.find("localparam H = 2;"), std::string::npos);
  EXPECT_NE(v.find("localparam HA = 3;"), std::string::npos);
  EXPECT_NE(v.find("(* keep *)"), std::string::npos);
  EXPECT_EQ(generate_pe_verilog({}).find("(* keep *)"), std::string::npos);  // nothing hardened: no copies
}

TEST(GeneratePeVerilog, RejectsInvalidConfigAndName) {
  PeConfig bad;
  bad.harden_out_bits = 9;
  EXPECT_THROW(generate_pe_verilog(bad), ConfigError);
  try {
    generate_pe_verilog({}, "bad name");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("module_name"), std::string::npos) << e.what();
  }
}

TEST(SynthesizeWithYosys, SynthesizesSeveralPeConfigs) {
  FTDLA_REQUIRE_TOOL("yosys");
  for (const PeConfig& c : {PeConfig{4, 6, 16, true, 2, 3}, PeConfig{8, 8, 32, false, 0, 0},
                            PeConfig{16, 16, 32, true, 4, 8}}) {
    const SynthStats s = synthesize_pe(c);
    SCOPED_TRACE("W" + std::to_string(c.wbits) + "/A" + std::to_string(c.abits));
    EXPECT_EQ(s.top, "ftdla_pe_synth");
    EXPECT_GT(s.cells, 0);
    EXPECT_GT(s.transistors, 0);
    EXPECT_TRUE(s.transistors_complete);
    // Every register bit survives synthesis, each hardened bit three times (no flop merged by opt_merge).
    const int expected_flops =
        c.wbits + c.abits + (c.accbits + 2 * c.harden_acc_bits) + (c.abits + 2 * c.harden_out_bits);
    EXPECT_EQ(s.flops(), expected_flops);
    int64_t sum = 0;
    for (const auto& [type, count] : s.cells_by_type) sum += count;
    EXPECT_EQ(sum, s.cells);
  }
}

TEST(SynthesizeWithYosys, MissingYosysIsAClearError) {
  try {
    synthesize_with_yosys(generate_voter_verilog(2), "ftdla_voter", "ftdla-no-such-yosys");
    FAIL() << "expected Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cannot run 'ftdla-no-such-yosys'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("install-deps.sh"), std::string::npos) << msg;
  }
}

TEST(SynthesizeWithYosys, SyntaxErrorReportsYosysMessage) {
  FTDLA_REQUIRE_TOOL("yosys");
  try {
    synthesize_with_yosys("module broken(input a, output b); assign b = a +; endmodule\n", "broken");
    FAIL() << "expected Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Yosys failed on top 'broken'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ERROR"), std::string::npos) << msg;
  }
}

TEST(SynthesizeWithYosys, RejectsNonIdentifierTop) {
  EXPECT_THROW(synthesize_with_yosys("", "top; shell"), ConfigError);
}

// One test on purpose: the calibration synthesizes the PE A + 1 times and CTest runs each test in its own
// process, so splitting it would repeat the ~10 s of synthesis.
TEST(CalibrateRtlCosts, CostsRiseWithHardeningAndDefaultsMatchMeasurement) {
  FTDLA_REQUIRE_TOOL("yosys");
  const RtlCalibration cal = calibrate_rtl_costs(PeConfig{});
  ASSERT_EQ(cal.pe_by_h.size(), 9u);
  for (std::size_t h = 0; h < cal.pe_by_h.size(); ++h) {
    const SynthStats& s = cal.pe_by_h[h];
    std::cout << "W8/A8/P32 H=" << h << ": cells " << s.cells << ", transistors " << s.transistors << ", flops "
              << s.flops() << "\n";
    EXPECT_EQ(s.flops(), 8 + 8 + 32 + 8 + 2 * static_cast<int64_t>(h));
  }
  for (const auto& [lo, hi] : {std::pair{0, 2}, std::pair{2, 4}, std::pair{4, 8}}) {
    EXPECT_LT(cal.pe_by_h[lo].cells, cal.pe_by_h[hi].cells) << "H " << lo << " -> " << hi;
    EXPECT_LT(cal.pe_by_h[lo].transistors, cal.pe_by_h[hi].transistors) << "H " << lo << " -> " << hi;
  }
  std::cout << "plain bit " << cal.plain_bit_transistors << " T, hardened increment "
            << cal.hardened_increment_transistors << " T/bit, voter " << cal.voter_bit_transistors
            << " T/bit, corrector " << cal.corrector_unsigned_bit_transistors << " / "
            << cal.corrector_signed_bit_transistors << " T/bit\n";

  const ComponentTable defaults;
  const auto near = [](double table, double measured) {
    return std::abs(table - measured) <= kCalibrationTolerance * measured;
  };
  EXPECT_PRED2(near, defaults.hardened_bit_area_ratio, cal.hardened_bit_area_ratio());
  EXPECT_PRED2(near, defaults.voter_bit_area_ratio, cal.voter_bit_area_ratio());
  EXPECT_PRED2(near, defaults.range_corrector_unsigned_bit_area_ratio, cal.corrector_unsigned_bit_area_ratio());
  EXPECT_PRED2(near, defaults.range_corrector_signed_bit_area_ratio, cal.corrector_signed_bit_area_ratio());
  // TMR: two more flops with their load muxes plus a voter, so between 2 and 3 extra plain bits.
  EXPECT_GT(cal.hardened_bit_area_ratio(), 3.0);
  EXPECT_LT(cal.hardened_bit_area_ratio(), 4.0);
}

}  // namespace
}  // namespace ftdla::cost

namespace ftdla::cost {
namespace {

TEST(SynthesizeWithYosys, DesignTimeRangeCorrectorIsWiringOnly) {
  // With one k fixed at design time the corrector drives bits >= k from bit k-1 (signed) or 0
  // (unsigned): no gates. design_cost prices it at zero on the strength of this measurement.
  FTDLA_REQUIRE_TOOL("yosys");
  const std::string v =
      "module fixed_corrector(input [7:0] x, output [7:0] ys, output [7:0] yu);\n"
      "  assign ys = {{2{x[5]}}, x[5:0]};\n"
      "  assign yu = {2'b00, x[5:0]};\n"
      "endmodule\n";
  const SynthStats s = synthesize_with_yosys(v, "fixed_corrector");
  EXPECT_EQ(s.cells, 0);
  EXPECT_EQ(s.transistors, 0);
}

}  // namespace
}  // namespace ftdla::cost
