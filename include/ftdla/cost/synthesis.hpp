// SPDX-License-Identifier: MIT
// Synthesis of ftdla's generated RTL to a real standard-cell library: Yosys maps a module to the cells of a
// Liberty file (default: OSU 0.18 µm, Debian package qflow-tech-osu018), OpenSTA times it and estimates its
// power from the switching activity of its input ports. Results are cached on disk, keyed by a hash of
// everything that changes them (RTL text, top, library, activities, flow version), so a variant is
// synthesized once per machine.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace ftdla::cost {

/// Where the cell library and the tools are. Defaults: Debian's osu018 Liberty file, `yosys` and `sta` on
/// PATH, the cache directory of default_synthesis_cache_dir().
struct SynthesisTools {
  std::string liberty = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
  std::string library_name = "osu018";  ///< names the library in cost_source ("yosys+opensta:osu018")
  std::string yosys = "yosys";
  std::string sta = "sta";
  std::string cache_dir;  ///< empty: no cache

  /// Defaults, with FTDLA_LIBERTY (library file; its stem becomes library_name) and FTDLA_SYNTH_CACHE
  /// (cache directory; "none" disables the cache) taken from the environment when set.
  static SynthesisTools from_environment();
  /// Throws Error naming the first missing piece (the Liberty file, yosys, sta) and the Debian package that
  /// provides it. Never falls back to anything else.
  void require_present() const;
  /// "yosys+opensta:<library_name>".
  std::string cost_source() const;
};

/// $XDG_CACHE_HOME/ftdla/synth, else $HOME/.cache/ftdla/synth, else <temp dir>/ftdla-synth.
std::string default_synthesis_cache_dir();

/// Switching activity of one input port, the form OpenSTA 0~2019 accepts (`set_power_activity
/// -input_ports`; it reads no VCD or SAIF): `activity` = average transitions per bit per clock cycle,
/// `duty` = average fraction of cycles a bit is 1. OpenSTA propagates these through the netlist.
struct PortActivity {
  std::string port;
  double activity = 0.0;
  double duty = 0.5;
};

/// One module after synthesis to the library.
struct SynthesisResult {
  std::string top;
  std::string key;                    ///< cache key (hex hash of the inputs)
  int64_t cells = 0;                  ///< standard cells after mapping
  int64_t flops = 0;                  ///< flip-flop cells among them
  double area_um2 = 0.0;              ///< sum of the cells' Liberty areas (Yosys `stat -liberty`)
  double critical_path_ns = 0.0;      ///< longest register/port-to-register/port delay incl. setup (OpenSTA)
  double power_period_ns = 0.0;       ///< clock period at which the power was reported
  double power_mw = 0.0;              ///< total power at that period (internal + switching + leakage)
  double energy_per_cycle_pj = 0.0;   ///< power_mw · power_period_ns
  std::map<std::string, int64_t> cells_by_type;
  bool from_cache = false;            ///< not stored in the cache file
};

nlohmann::json to_json(const SynthesisResult& r);

/// Clock period at which power is reported (activities are per cycle, so dynamic energy per cycle does
/// not depend on it; leakage is counted over this period).
inline constexpr double kPowerPeriodNs = 10.0;
/// Activity of inputs without a PortActivity entry.
inline constexpr double kDefaultInputActivity = 0.1;

/// Synthesize `verilog` (top module `top`) with `tools`: Yosys `synth -flatten`, enable flops legalized to
/// plain flops + muxes, `dfflibmap` and `abc` to the Liberty cells, `stat -liberty`; OpenSTA on the mapped
/// netlist: an ideal clock on port `clk` (a virtual clock for combinational modules), inputs and outputs
/// at time 0 of that clock, `report_worst_slack -max` for the critical path, and `report_power` at
/// kPowerPeriodNs with `activity` on the named input ports and kDefaultInputActivity on the others.
/// Cached in tools.cache_dir by key. Throws Error when a tool is missing or fails (first line of its
/// output), ConfigError when `top` is not an identifier or an activity is outside [0, 2] / duty outside [0, 1].
SynthesisResult synthesize(const std::string& verilog, const std::string& top, const SynthesisTools& tools,
                           const std::vector<PortActivity>& activity = {});

}  // namespace ftdla::cost
