// SPDX-License-Identifier: MIT
// Synthesis to the osu018 cells: counts and areas that can be checked by hand on tiny circuits, the cache
// (a hit returns the stored result; anything that changes the result changes the key), the PE variants'
// ordering (hardening adds area, the MAC datapath keeps the clock) and missing tools.
#include "ftdla/cost/synthesis.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cost/tool_support.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/cost/rtl.hpp"

namespace ftdla::cost {
namespace {

SynthesisTools tools_in(const TempDir& cache) {
  SynthesisTools t;
  t.cache_dir = cache.path();
  return t;
}

bool tools_present() {
  try {
    SynthesisTools{}.require_present();
    return true;
  } catch (const Error&) {
    return false;
  }
}

#define FTDLA_REQUIRE_SYNTHESIS() \
  if (!tools_present()) GTEST_SKIP() << "yosys, sta or osu018 missing (scripts/install-deps.sh installs them)"

TEST(Synthesis, RegisterIsOneFlopAndOneMuxPerBit) {
  FTDLA_REQUIRE_SYNTHESIS();
  const TempDir cache("ftdla-synth-test");
  const SynthesisResult r = synthesize(generate_register_verilog(4), "ftdla_reg", tools_in(cache));
  // A load-enable flop is a DFFPOSX1 and a mux (osu018 has no enable flop): exactly 4 flops.
  EXPECT_EQ(r.flops, 4);
  EXPECT_EQ(r.cells_by_type.at("DFFPOSX1"), 4);
  // The area is the sum of the cells' Liberty areas, read here straight from the library file.
  std::ifstream lib(SynthesisTools{}.liberty);
  std::stringstream text;
  text << lib.rdbuf();
  double expected = 0.0;
  for (const auto& [cell, n] : r.cells_by_type) {
    const std::string s = text.str();
    const auto at = s.find("cell (" + cell + ")");
    ASSERT_NE(at, std::string::npos) << cell;
    const auto area = s.find("area :", at);
    expected += static_cast<double>(n) * std::stod(s.substr(area + 6));
  }
  EXPECT_DOUBLE_EQ(r.area_um2, expected);
  EXPECT_GE(r.area_um2, 4 * 96.0 + 4 * 32.0);  // 4 DFFPOSX1 (96 µm² each) and at least a NAND2-sized mux each
  EXPECT_GT(r.critical_path_ns, 0.0);
  EXPECT_GT(r.energy_per_cycle_pj, 0.0);
}

TEST(Synthesis, CacheHitReturnsTheStoredResultAndKeysSeparateInputs) {
  FTDLA_REQUIRE_SYNTHESIS();
  const TempDir cache("ftdla-synth-test");
  const SynthesisTools t = tools_in(cache);
  const std::string v = generate_voter_verilog(8);
  const SynthesisResult a = synthesize(v, "ftdla_voter", t);
  EXPECT_FALSE(a.from_cache);
  const SynthesisResult b = synthesize(v, "ftdla_voter", t);
  EXPECT_TRUE(b.from_cache);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.cells, b.cells);
  EXPECT_DOUBLE_EQ(a.area_um2, b.area_um2);
  EXPECT_DOUBLE_EQ(a.energy_per_cycle_pj, b.energy_per_cycle_pj);
  // Another activity on a port the module has: another key, and more switching costs more energy.
  const SynthesisResult busy = synthesize(v, "ftdla_voter", t, {{"a", 1.0, 0.5}, {"b", 1.0, 0.5}, {"c", 1.0, 0.5}});
  EXPECT_NE(busy.key, a.key);
  EXPECT_GT(busy.energy_per_cycle_pj, a.energy_per_cycle_pj);
  // An activity on a port the module lacks is ignored, so it does not split the cache.
  EXPECT_EQ(synthesize(v, "ftdla_voter", t, {{"x_in", 0.7, 0.5}}).key, a.key);
  // Another RTL: another key. 8 maj3 voters cost more than 4.
  const SynthesisResult small = synthesize(generate_voter_verilog(4), "ftdla_voter", t);
  EXPECT_NE(small.key, a.key);
  EXPECT_LT(small.area_um2, a.area_um2);
}

TEST(Synthesis, HardenedBitsAddAreaAndTheDatapathKeepsTheClock) {
  FTDLA_REQUIRE_SYNTHESIS();
  const TempDir cache("ftdla-synth-test");
  const SynthesisTools t = tools_in(cache);
  accel::PeConfig c;
  const auto pe = [&](const accel::PeConfig& cfg) {
    return synthesize(generate_pe_verilog(cfg) + generate_pe_synth_top(cfg), "ftdla_pe_synth", t);
  };
  const SynthesisResult plain = pe(c);
  c.harden_out_bits = 2;
  const SynthesisResult h2 = pe(c);
  c.harden_out_bits = 4;
  const SynthesisResult h4 = pe(c);
  EXPECT_EQ(h2.flops, plain.flops + 2 * 2);  // two more copies of each hardened bit
  EXPECT_EQ(h4.flops, plain.flops + 2 * 4);
  EXPECT_LT(plain.area_um2, h2.area_um2);
  EXPECT_LT(h2.area_um2, h4.area_um2);
  // The MAC path sets the clock; the voters sit on the output path.
  EXPECT_DOUBLE_EQ(plain.critical_path_ns, h4.critical_path_ns);
}

TEST(Synthesis, MissingLibraryIsAnErrorNamingIt) {
  SynthesisTools t;
  t.liberty = "/nonexistent/lib.lib";
  try {
    t.require_present();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/lib.lib"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("qflow-tech-osu018"), std::string::npos);
  }
  EXPECT_THROW(synthesize(generate_voter_verilog(2), "ftdla_voter", t), Error);
  t = SynthesisTools{};
  t.sta = "/nonexistent/sta";
  EXPECT_THROW(t.require_present(), Error);
}

TEST(Synthesis, RejectsBadNamesAndActivities) {
  const SynthesisTools t;
  EXPECT_THROW(synthesize("module m; endmodule", "not a name", t), ConfigError);
  EXPECT_THROW(synthesize("module m; endmodule", "m", t, {{"a", 3.0, 0.5}}), ConfigError);
  EXPECT_THROW(synthesize("module m; endmodule", "m", t, {{"a", 0.5, 1.5}}), ConfigError);
}

}  // namespace
}  // namespace ftdla::cost
