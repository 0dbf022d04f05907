// SPDX-License-Identifier: MIT
#include "ftdla/cost/synthesis.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/hash.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/text.hpp"
#include "tool_run.hpp"

namespace ftdla::cost {
namespace {

namespace fs = std::filesystem;

// Bump when the flow or its parsing changes what a cached result says.
constexpr const char* kFlowVersion = "ftdla-synth-3";

using detail::first_error_line;

// Runs a tool in `dir`; throws Error naming the tool and its most telling line unless it exits 0.
std::string run_in(const TempDir& dir, const std::string& tool, const std::string& command, const std::string& what) {
  const detail::ToolRun r = detail::run_tool(dir.path(), command, tool + ".log");
  if (r.code != 0)
    throw Error("synthesis of '" + what + "': " + tool + " failed (exit " + std::to_string(r.code) +
                "): " + first_error_line(r.log));
  return r.log;
}

// The number after `label` on the first line that contains it.
double number_after(const std::string& text, const std::string& label, const std::string& what) {
  const auto pos = text.find(label);
  if (pos == std::string::npos) throw Error("synthesis of '" + what + "': no '" + label + "' in the tool output");
  std::size_t from = pos + label.size();
  // Skip a quoted module name ("Chip area for module '\top': 123").
  if (const auto q = text.find_first_not_of(' ', from); q != std::string::npos && text[q] == '\'') {
    const auto close = text.find('\'', q + 1);
    if (close != std::string::npos) from = close + 1;
  }
  const char* start = text.c_str() + from;
  while (*start == ' ' || *start == '\t' || *start == ':') ++start;
  char* end = nullptr;
  const double v = std::strtod(start, &end);
  if (end == start || !std::isfinite(v))
    throw Error("synthesis of '" + what + "': cannot read the number after '" + label + "'");
  return v;
}

SynthesisResult from_json(const nlohmann::json& j) {
  SynthesisResult r;
  r.top = j.at("top").get<std::string>();
  r.key = j.at("key").get<std::string>();
  r.cells = j.at("cells").get<int64_t>();
  r.flops = j.at("flops").get<int64_t>();
  r.area_um2 = j.at("area_um2").get<double>();
  r.critical_path_ns = j.at("critical_path_ns").get<double>();
  r.power_period_ns = j.at("power_period_ns").get<double>();
  r.power_mw = j.at("power_mw").get<double>();
  r.energy_per_cycle_pj = j.at("energy_per_cycle_pj").get<double>();
  for (const auto& [type, n] : j.at("cells_by_type").items()) r.cells_by_type[type] = n.get<int64_t>();
  return r;
}

// Whether `verilog` declares an input port `port` ("input wire [..] port;" on one line, as ftdla writes).
bool declares_input(const std::string& verilog, const std::string& port) {
  std::istringstream in(verilog);
  std::string line;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string::npos || line.compare(start, 5, "input") != 0) continue;
    const auto semi = line.find(';');
    if (semi == std::string::npos || semi < port.size() + 1) continue;
    if (line.compare(semi - port.size(), port.size(), port) == 0 && line[semi - port.size() - 1] == ' ') return true;
  }
  return false;
}

}  // namespace

std::string default_synthesis_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/ftdla/synth";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/ftdla/synth";
  return (fs::temp_directory_path() / "ftdla-synth").string();
}

SynthesisTools SynthesisTools::from_environment() {
  SynthesisTools t;
  if (const char* lib = std::getenv("FTDLA_LIBERTY"); lib && *lib) {
    t.liberty = lib;
    t.library_name = fs::path(lib).stem().string();
  }
  const char* cache = std::getenv("FTDLA_SYNTH_CACHE");
  if (cache && *cache)
    t.cache_dir = std::string(cache) == "none" ? "" : cache;
  else
    t.cache_dir = default_synthesis_cache_dir();
  return t;
}

void SynthesisTools::require_present() const {
  if (!fs::is_regular_file(liberty))
    throw Error("synthesized costs need the standard-cell library " + liberty +
                " (Debian package qflow-tech-osu018; scripts/install-deps.sh installs it)");
  if (!detail::on_path(yosys))
    throw Error("synthesized costs need Yosys ('" + yosys + "' not found; Debian package yosys)");
  if (!detail::on_path(sta))
    throw Error("synthesized costs need OpenSTA ('" + sta + "' not found; Debian package opensta)");
}

std::string SynthesisTools::cost_source() const { return "yosys+opensta:" + library_name; }

nlohmann::json to_json(const SynthesisResult& r) {
  nlohmann::json by_type = nlohmann::json::object();
  for (const auto& [type, n] : r.cells_by_type) by_type[type] = n;
  return {{"top", r.top},
          {"key", r.key},
          {"cells", r.cells},
          {"flops", r.flops},
          {"area_um2", r.area_um2},
          {"critical_path_ns", r.critical_path_ns},
          {"power_period_ns", r.power_period_ns},
          {"power_mw", r.power_mw},
          {"energy_per_cycle_pj", r.energy_per_cycle_pj},
          {"cells_by_type", by_type}};
}

SynthesisResult synthesize(const std::string& verilog, const std::string& top, const SynthesisTools& tools,
                           const std::vector<PortActivity>& activity) {
  if (!detail::is_verilog_identifier(top)) throw ConfigError("synthesize(): top '" + top + "' is not a Verilog identifier");
  for (const auto& a : activity) {
    if (!detail::is_verilog_identifier(a.port)) throw ConfigError("synthesize(): port '" + a.port + "' is not a Verilog identifier");
    if (!(a.activity >= 0.0 && a.activity <= 2.0) || !(a.duty >= 0.0 && a.duty <= 1.0))
      throw ConfigError("synthesize(): activity of port " + a.port + " must be in [0, 2] with duty in [0, 1]");
  }
  tools.require_present();
  std::vector<PortActivity> ports;  // only the ports this module has
  for (const auto& a : activity)
    if (declares_input(verilog, a.port)) ports.push_back(a);

  // Length-prefixed fields, so that field boundaries are part of the hash.
  uint64_t hash = kFnv1aBasis;
  const auto add = [&hash](const std::string& field) { hash = fnv1a64(std::to_string(field.size()) + ":" + field, hash); };
  for (const std::string& part : {std::string(kFlowVersion), verilog, top, tools.library_name,
                                  std::to_string(fs::file_size(tools.liberty))})
    add(part);
  for (const auto& a : ports) add(a.port + "=" + std::to_string(a.activity) + "/" + std::to_string(a.duty));
  const std::string key = hex64(hash);
  const std::string cache_file = tools.cache_dir.empty() ? "" : tools.cache_dir + "/" + key + ".json";
  const auto cached = [&]() -> std::optional<SynthesisResult> {
    if (cache_file.empty() || !fs::exists(cache_file)) return std::nullopt;
    try {
      SynthesisResult r = from_json(nlohmann::json::parse(read_file(cache_file)));
      if (r.key == key && r.top == top) {
        r.from_cache = true;
        return r;
      }
    } catch (const std::exception&) {
      // A damaged cache entry is recomputed and overwritten.
    }
    return std::nullopt;
  };
  if (auto r = cached()) return *r;
  // Concurrent runs (parallel tests, MPI ranks, two optimizations) wait for the first one's result instead of
  // synthesizing the same block again.
  struct Lock {
    int fd = -1;
    ~Lock() {
      if (fd >= 0) ::close(fd);  // releases the flock
    }
  } lock;
  if (!cache_file.empty()) {
    std::error_code ec;
    fs::create_directories(tools.cache_dir, ec);
    if (ec) throw Error("synthesis cache: cannot create " + tools.cache_dir + ": " + ec.message());
    lock.fd = ::open((tools.cache_dir + "/" + key + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock.fd >= 0 && ::flock(lock.fd, LOCK_EX) == 0)
      if (auto r = cached()) return *r;
  }

  const TempDir dir("ftdla-synth");
  write_file_atomic(dir.file("design.v"), verilog);
  const std::string lib = fs::absolute(tools.liberty).string();
  // Yosys runs in the temporary directory: `tee -o` takes no quoted paths.
  write_file_atomic(dir.file("synth.ys"),
                    "read_verilog design.v\n"
                    "synth -flatten -top " + top + "\n"
                    // The library has no enable flops: an enable flop becomes a plain flop and a mux.
                    "dfflegalize -cell $_DFF_P_ 01 -cell $_DFF_N_ 01\n"
                    "dfflibmap -liberty " + lib + "\n"
                    "abc -liberty " + lib + "\n"
                    // OpenSTA 0~2019 reads only plain structural Verilog: no undriven bits, no bus concatenations.
                    "setundef -zero\n"
                    "splitnets -ports\n"
                    "opt_clean -purge\n"
                    "tee -q -o stat.txt stat -liberty " + lib + "\n"
                    "write_verilog -noattr -noexpr -nohex -nodec netlist.v\n");
  run_in(dir, "yosys", shell_quote(tools.yosys) + " -q -s synth.ys", top);
  const std::string all_stat = read_file(dir.file("stat.txt"));
  // With a kept submodule (the MAC datapath) the totals are in the "design hierarchy" section.
  const auto hier = all_stat.find("=== design hierarchy ===");
  const std::string stat = hier == std::string::npos ? all_stat : all_stat.substr(hier);

  SynthesisResult r;
  r.top = top;
  r.key = key;
  r.cells = static_cast<int64_t>(number_after(stat, "Number of cells:", top));
  r.area_um2 = number_after(stat, hier == std::string::npos ? "Chip area for module" : "Chip area for top module", top);
  {
    // Cell lines follow "Number of cells:" as "     NAME   COUNT" until a line that is not one.
    std::istringstream in(stat.substr(stat.find("Number of cells:")));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string name;
      int64_t n = 0;
      if (!(fields >> name >> n)) break;
      r.cells_by_type[name] = n;
      if (name.find("DFF") != std::string::npos || name.find("LATCH") != std::string::npos) r.flops += n;
    }
  }

  const bool clocked = declares_input(verilog, "clk");
  std::ostringstream tcl;
  constexpr double kTimingPeriodNs = 1000.0;  // long enough that slack = period − critical path
  tcl << "read_liberty " << lib << "\n"
      << "read_verilog netlist.v\n"
      << "link_design " << top << "\n";
  const auto clock_and_io = [&](double period) {
    if (clocked) {
      tcl << "create_clock -name clk -period " << period << " [get_ports clk]\n"
          << "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]\n";
    } else {
      tcl << "create_clock -name clk -period " << period << "\n"
          << "set_input_delay 0 -clock clk [all_inputs]\n";
    }
    tcl << "set_output_delay 0 -clock clk [all_outputs]\n";
  };
  clock_and_io(kTimingPeriodNs);
  tcl << "report_worst_slack -digits 6\n"
      << "delete_clock [all_clocks]\n";
  clock_and_io(kPowerPeriodNs);
  tcl << "set_power_activity -input -activity " << kDefaultInputActivity << " -duty 0.5\n";
  for (const auto& a : ports)
    tcl << "set_power_activity -input_ports [get_ports " << a.port << "*] -activity " << a.activity << " -duty "
        << a.duty << "\n";
  tcl << "report_power -digits 9\n"
      << "exit\n";
  write_file_atomic(dir.file("sta.tcl"), tcl.str());
  const std::string sta = run_in(dir, "sta", shell_quote(tools.sta) + " -no_splash -exit sta.tcl", top);
  if (sta.find("Error") != std::string::npos)
    throw Error("synthesis of '" + top + "': OpenSTA: " + first_error_line(sta));
  r.critical_path_ns = kTimingPeriodNs - number_after(sta, "worst slack", top);
  {
    // "Total  <internal> <switching> <leakage> <total>  100.0%", in watts.
    std::istringstream in(sta);
    std::string line;
    bool found = false;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string first;
      double internal = 0, switching = 0, leakage = 0, total = 0;
      if ((fields >> first) && first == "Total" && (fields >> internal >> switching >> leakage >> total)) {
        r.power_mw = total * 1e3;
        found = true;
        break;
      }
    }
    if (!found) throw Error("synthesis of '" + top + "': OpenSTA reported no total power");
  }
  r.power_period_ns = kPowerPeriodNs;
  r.energy_per_cycle_pj = r.power_mw * kPowerPeriodNs;  // mW · ns = pJ

  if (!cache_file.empty()) write_file_atomic(cache_file, to_json(r).dump(1) + "\n");
  return r;
}

}  // namespace ftdla::cost
