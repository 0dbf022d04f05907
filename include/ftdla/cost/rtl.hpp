// SPDX-License-Identifier: MIT
// RTL side of the cost model: Verilog generators for one PE (with TMR-hardened register bits) and its
// small reference circuits, Yosys synthesis to count cells and CMOS transistors, and the calibration
// that turns those counts into the relative costs of component_table.hpp.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ftdla/accel/pe.hpp"

namespace ftdla::cost {

/// Verilog-2005 for one weight-stationary PE with the semantics of accel::Pe (see accel/pe.hpp), widths
/// and hardening baked in as localparams. Ports: clk, load_w, w_in[W], x_in[A], psum_in[P], zp[A+1],
/// load_out, out_d[A], inject_out[A], inject_copy[2], inject_acc[P], inject_acc_copy[2] ->
/// x_out[A], psum_out[P], out_q[A]. The inject_* ports exist for verification; tie them to 0 for synthesis
/// (generate_pe_synth_top does). TMR copies are in separate `(* keep *)` always blocks so that Yosys does
/// not merge the identical flops. `module_name` must be a Verilog identifier.
/// Throws ConfigError if the config is invalid or the name is not an identifier.
/// The MAC datapath is a separate `(* keep_hierarchy *)` module (generate_mac_verilog), appended unless
/// `with_mac` is false (when it is already in the file).
std::string generate_pe_verilog(const accel::PeConfig& config, const std::string& module_name = "ftdla_pe",
                                bool with_mac = true);

/// The MAC datapath y = wrap_P(psum + (x − zp)·w) at the widths of `config`, module mac_module_name(config),
/// marked keep_hierarchy so that synthesis maps it the same way in every PE variant and TMR lane.
std::string generate_mac_verilog(const accel::PeConfig& config);
std::string mac_module_name(const accel::PeConfig& config);

/// A wrapper module `top_name` around the PE `pe_name` (from generate_pe_verilog) with the inject_* ports
/// tied to 0: what the PE costs in silicon. Returns only the wrapper; concatenate it with the PE's Verilog.
std::string generate_pe_synth_top(const accel::PeConfig& config, const std::string& pe_name = "ftdla_pe",
                                  const std::string& top_name = "ftdla_pe_synth");

/// Reference circuits for calibration (each `bits` wide, 1..64):
/// a plain register with load enable (clk, load, d -> q), the cost unit of ComponentTable.
std::string generate_register_verilog(int bits, const std::string& module_name = "ftdla_reg");
/// A bitwise majority voter (a, b, c -> y = ab + bc + ca).
std::string generate_voter_verilog(int bits, const std::string& module_name = "ftdla_voter");
/// A range corrector for a register of `bits` bits whose live range is set at run time by a thermometer
/// mask `keep` (keep[b] = 1 iff b < k). Unsigned: y = x & keep (bits >= k forced to 0). Signed:
/// y[b] = keep[b] ? x[b] : x[k-1] (sign extension from bit k-1, found with the one-hot keep & ~(keep >> 1)).
/// k = 0 (keep = 0) gives y = 0. A non-thermometer keep is outside the contract.
std::string generate_range_corrector_verilog(int bits, bool is_signed,
                                             const std::string& module_name = "ftdla_range_corrector");

/// One MAC lane of the hybrid array's TMR unit at the widths of `config`: three copies of the weight,
/// activation and accumulator registers and the multiply-accumulate, acc <= clear ? 0 : wrap_P(acc +
/// (x − zp)·w), and a bitwise majority voter on the accumulator. Ports: clk, load_w, w_in[W], x_in[A],
/// zp[A+1], clear, inject_acc[P], inject_lane[2] -> acc_q[P]; inject_acc flips copy inject_lane (3 = none).
std::string generate_tmr_lane_verilog(const accel::PeConfig& config, const std::string& module_name = "ftdla_tmr_lane",
                                      bool with_mac = true);
/// The widths of `pe` with nothing of its output-register protection: what a TMR lane and the plain PE are
/// built from.
accel::PeConfig unprotected_config(const accel::PeConfig& pe);

/// A column requantizer for `acc_bits`-bit accumulators and `out_bits`-bit outputs (gemmlowp structure:
/// 32-bit fixed-point multiplier, rounding shift, zero point, clamp), registered in and out. For pricing;
/// the bit-exact requantization reference is the integer engine.
std::string generate_requantizer_verilog(int acc_bits, int out_bits, bool out_signed,
                                         const std::string& module_name = "ftdla_requantizer");
/// One copy of the TMR unit's dispatch: a `mask_bits` protected-channel mask, a priority encoder and three
/// `counter_bits` counters (pixel, channel, reduction index).
std::string generate_dispatch_verilog(int mask_bits, int counter_bits, const std::string& module_name = "ftdla_dispatch");

/// Cell statistics of a design after Yosys synthesis (flattened, mapped to simple gates).
struct SynthStats {
  std::string top;                               ///< synthesized top module
  int64_t cells = 0;                             ///< total cell count
  std::map<std::string, int64_t> cells_by_type;  ///< e.g. "$_NAND_" -> 270, "$_DFF_P_" -> 64
  int64_t transistors = 0;                       ///< CMOS transistor estimate of `stat -tech cmos`
  bool transistors_complete = true;              ///< false when Yosys met cell types it cannot estimate
  /// Flip-flops among the cells ($_DFF* types).
  int64_t flops() const;
};

/// Synthesize `verilog` with top module `top` using Yosys and return its statistics. The flow is
///   read_verilog; synth -flatten -top <top>; dfflegalize -cell $_DFF_P_ 01 -cell $_DFF_N_ 01;
///   abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX; opt_clean; stat -json -tech cmos
/// (enable flops become a flop plus a mux, so every cell has a CMOS transistor estimate).
/// Runs in a fresh temporary directory that is removed afterwards. `yosys` is the executable: a name looked
/// up on PATH or an absolute path (Yosys runs with the temporary directory as working directory).
/// Throws ConfigError if `top` is not a Verilog identifier, Error if Yosys is missing or fails (with the
/// first line of its stderr) or its statistics cannot be parsed.
SynthStats synthesize_with_yosys(const std::string& verilog, const std::string& top,
                                 const std::string& yosys = "yosys");

/// Synthesize the PE of `config` through generate_pe_synth_top (inject ports tied to 0).
SynthStats synthesize_pe(const accel::PeConfig& config, const std::string& yosys = "yosys");

/// Measured relative circuit costs, in transistors of the Yosys CMOS estimate, and the ratios that
/// ComponentTable uses (all relative to one plain register bit with load enable).
struct RtlCalibration {
  accel::PeConfig base;                    ///< PE synthesized for H = 0..A (harden_out_bits varied)
  std::vector<SynthStats> pe_by_h;         ///< index h: PE with h hardened output bits
  double plain_bit_transistors = 0.0;      ///< per bit of the reference register (A bits)
  double hardened_increment_transistors = 0.0;  ///< least-squares slope of PE transistors over h
  double voter_bit_transistors = 0.0;      ///< per bit of the reference voter (A bits)
  double corrector_unsigned_bit_transistors = 0.0;  ///< per bit of the unsigned range corrector
  double corrector_signed_bit_transistors = 0.0;    ///< per bit of the signed range corrector
  /// (plain + increment) / plain: one hardened bit in units of a plain register bit.
  double hardened_bit_area_ratio() const;
  double voter_bit_area_ratio() const;               ///< voter / plain
  double corrector_unsigned_bit_area_ratio() const;  ///< unsigned corrector bit / plain
  double corrector_signed_bit_area_ratio() const;    ///< signed corrector bit / plain
};

/// Run the calibration: synthesize the PE of `base` for every h in [0, A], fit the per-hardened-bit
/// transistor increment by least squares, and measure the reference register, voter and range correctors
/// at width A. A + 5 Yosys runs (about 10 s in all at W8/A8/P32). Throws like synthesize_with_yosys.
RtlCalibration calibrate_rtl_costs(const accel::PeConfig& base = {}, const std::string& yosys = "yosys");

}  // namespace ftdla::cost
