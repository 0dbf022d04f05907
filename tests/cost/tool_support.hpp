// SPDX-License-Identifier: MIT
// Test helpers for the RTL tests: temporary directories, external tools (yosys, iverilog, vvp) and
// hex vector files for Verilog testbenches ($readmemh).
#pragma once
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ftdla/core/temp_dir.hpp"

namespace ftdla::cost::testing {

/// True if `tool` is an executable on PATH.
inline bool tool_available(const std::string& tool) {
  return std::system(("command -v '" + tool + "' > /dev/null 2>&1").c_str()) == 0;
}

/// Skip the current test with a message when a tool is missing (scripts/install-deps.sh installs them).
#define FTDLA_REQUIRE_TOOL(tool)                                                                \
  do {                                                                                          \
    if (!::ftdla::cost::testing::tool_available(tool))                                          \
      GTEST_SKIP() << tool << " is not installed (scripts/install-deps.sh installs it)";         \
  } while (0)

/// A fresh temporary directory (core TempDir) with file helpers for tool runs.
class ScratchDir : public ::ftdla::TempDir {
 public:
  ScratchDir() : TempDir("ftdla-cost-test") {}
  std::filesystem::path path() const { return TempDir::path(); }
  void write(const std::string& name, const std::string& text) const { std::ofstream(file(name)) << text; }
  std::string read(const std::string& name) const {
    std::ifstream in(file(name));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

/// Run `command` in `dir` with stdout+stderr captured into `log`; returns the exit code.
inline int run_in(const ScratchDir& dir, const std::string& command, std::string& log) {
  const int status = std::system(("cd '" + dir.path().string() + "' && (" + command + ") > run.log 2>&1").c_str());
  log = dir.read("run.log");
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Packs fields MSB-first into one bit vector, written as one hex word per line for $readmemh.
class HexWord {
 public:
  /// Append the low `width` bits of `value` (the first field appended ends up in the top bits).
  HexWord& add(uint64_t value, int width) {
    for (int b = width - 1; b >= 0; --b) bits_.push_back((value >> b) & 1u);
    return *this;
  }
  int width() const { return static_cast<int>(bits_.size()); }
  std::string hex() const {
    std::string out;
    const std::size_t pad = (4 - bits_.size() % 4) % 4;
    std::vector<bool> b(pad, false);
    b.insert(b.end(), bits_.begin(), bits_.end());
    for (std::size_t i = 0; i < b.size(); i += 4)
      out += "0123456789abcdef"[(b[i] << 3) | (b[i + 1] << 2) | (b[i + 2] << 1) | b[i + 3]];
    return out;
  }

 private:
  std::vector<bool> bits_;
};

/// Parse "CHECKED <n> MISMATCHES <m>" from a testbench log; false if the line is missing.
inline bool parse_tb_summary(const std::string& log, long& checked, long& mismatches) {
  const auto pos = log.find("CHECKED ");
  if (pos == std::string::npos) return false;
  std::istringstream in(log.substr(pos));
  std::string w1, w2;
  return static_cast<bool>(in >> w1 >> checked >> w2 >> mismatches) && w2 == "MISMATCHES";
}

/// A testbench run: its log and the counts of its "CHECKED <n> MISMATCHES <m>" line (-1 when missing).
struct TbRun {
  std::string log;
  int status = -1;     ///< exit code of iverilog && vvp
  long checked = -1, mismatches = -1;
  bool ok() const { return status == 0 && checked >= 0; }
};

/// Compile `design` and testbench `tb` (top `tb`, reading vectors.hex and expected.hex with $readmemh) with
/// iverilog -g2005 (and -Wall unless `wall` is false) in a fresh directory and run it with vvp.
inline TbRun run_testbench(const std::string& design, const std::string& tb, const std::string& vectors,
                           const std::string& expected, bool wall = true) {
  ScratchDir dir;
  dir.write("design.v", design);
  dir.write("tb.v", tb);
  dir.write("vectors.hex", vectors);
  dir.write("expected.hex", expected);
  TbRun r;
  r.status = run_in(dir, std::string("iverilog -g2005 ") + (wall ? "-Wall " : "") + "-o sim design.v tb.v && vvp -n sim", r.log);
  parse_tb_summary(r.log, r.checked, r.mismatches);
  return r;
}

}  // namespace ftdla::cost::testing
