// Synthesized costs from the command line: the PE area `evaluate` prices agrees with an independent Yosys run
// on `ftdla rtl --design` output (plain Yosys commands written here, not ftdla's flow), and a machine without
// the cell library or OpenSTA gets a clear error, never a fallback to other numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/run_ftdla.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::cli::test {
namespace {

const std::string kLiberty = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
const std::string kLenet = std::string(FTDLA_SOURCE_DIR) + "/models/lenet5.onnx";

bool have(const std::string& tool) { return std::system(("command -v " + tool + " > /dev/null 2>&1").c_str()) == 0; }

bool have_synthesis_tools() { return have("yosys") && have("sta") && std::filesystem::exists(kLiberty); }

TEST(SynthesizedCost, PricedPeAreaAgreesWithIndependentYosys) {
  if (!have_synthesis_tools()) GTEST_SKIP() << "yosys, sta or osu018 missing (scripts/install-deps.sh installs them)";
  const TempDir dir("ftdla-synth-check");
  const std::string design = dir.file("d.json");
  {
    std::ofstream(design) << R"({"k": 6, "harden_bits": 2})";
  }
  const Result ev = run_ftdla("", {"evaluate", kLenet, "--design", design, "--trials", "50", "--max-trials", "50",
                                   "--calib-images", "64", "--cache", "none", "--json", dir.file("e.json")});
  ASSERT_EQ(ev.status, 0) << ev.err;
  const nlohmann::json e = nlohmann::json::parse(read_file(dir.file("e.json")));
  EXPECT_EQ(e.at("cost_source"), "yosys+opensta:osu018");
  const double priced = e.at("pe_area_um2").get<double>();
  EXPECT_GT(e.at("clock_ns").get<double>(), 0.0);
  EXPECT_NEAR(e.at("latency_ns").get<double>(), e.at("clock_ns").get<double>() * e.at("latency_cycles").get<double>(), 1e-6);

  const Result rtl = run_ftdla("", {"rtl", "--design", design, "--model", kLenet, "--synth-top", "-o", dir.file("pe.v")});
  ASSERT_EQ(rtl.status, 0) << rtl.err;
  // Independent synthesis: a textbook Yosys script, flattened, mapped to the library's cells.
  const std::string script = "read_verilog pe.v; synth -flatten -top ftdla_pe_synth; dfflibmap -liberty " + kLiberty +
                             "; abc -liberty " + kLiberty + "; opt_clean; tee -o stat.txt stat -liberty " + kLiberty;
  ASSERT_EQ(std::system(("cd " + shell_quote(dir.path()) + " && yosys -q -p " + shell_quote(script) + " > yosys.log 2>&1").c_str()), 0)
      << read_file(dir.file("yosys.log"));
  const std::string stat = read_file(dir.file("stat.txt"));
  // The MAC datapath is a kept submodule: the total is the hierarchy's "top module" line.
  auto pos = stat.find("Chip area for top module");
  if (pos == std::string::npos) pos = stat.find("Chip area for module");
  ASSERT_NE(pos, std::string::npos) << stat;
  const double independent = std::stod(stat.substr(stat.find("': ", pos) + 3));
  std::printf("pe_area_um2 priced %.0f, independent Yosys %.0f (ratio %.4f)\n", priced, independent, priced / independent);
  EXPECT_NEAR(priced / independent, 1.0, 0.10) << "priced " << priced << " um2, independent Yosys " << independent << " um2";
}

TEST(SynthesizedCost, MissingLibraryOrToolIsAClearError) {
  const TempDir dir("ftdla-synth-missing");
  const std::string design = dir.file("d.json");
  {
    std::ofstream(design) << R"({"harden_bits": 1})";
  }
  const Result no_lib = run_ftdla("FTDLA_LIBERTY=/nonexistent/cells.lib ",
                                  {"evaluate", kLenet, "--design", design, "--cache", "none", "--calib-images", "64"});
  EXPECT_NE(no_lib.status, 0);
  EXPECT_NE(no_lib.err.find("/nonexistent/cells.lib"), std::string::npos) << no_lib.err;
  EXPECT_NE(no_lib.err.find("qflow-tech-osu018"), std::string::npos) << no_lib.err;
  EXPECT_EQ(no_lib.err.find('\n'), no_lib.err.size() - 1) << "one line: " << no_lib.err;

  // A PATH with Yosys but without OpenSTA.
  if (!have("yosys") || !std::filesystem::exists(kLiberty)) GTEST_SKIP() << "yosys or osu018 missing";
  const std::string bin = dir.file("bin");
  std::filesystem::create_directory(bin);
  std::filesystem::create_symlink("/usr/bin/yosys", bin + "/yosys");
  const Result no_sta = run_ftdla("PATH=" + shell_quote(bin) + " ",
                                  {"rtl", "--harden", "2", "--synthesize", "-o", dir.file("pe.v")});
  EXPECT_NE(no_sta.status, 0);
  EXPECT_NE(no_sta.err.find("OpenSTA"), std::string::npos) << no_sta.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("pe.v"))) << "the error comes before any output";
}

}  // namespace
}  // namespace ftdla::cli::test
