// SPDX-License-Identifier: MIT
#include "ftdla/cost/rtl.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/text.hpp"
#include "tool_run.hpp"

namespace ftdla::cost {
namespace {

namespace fs = std::filesystem;

using detail::first_error_line;

void require_identifier(const std::string& where, const std::string& name) {
  if (!detail::is_verilog_identifier(name))
    throw ConfigError(where + ": not a Verilog identifier (got '" + name + "', expected [A-Za-z_][A-Za-z0-9_]*)");
}

void require_width(const std::string& where, int bits) {
  if (bits < 1 || bits > 64)
    throw ConfigError(where + ": must be in [1, 64] (got " + std::to_string(bits) + ")");
}

// Emits a `width`-bit register `name` whose bits in `hard_mask` are TMR-hardened. Each run of equally
// protected bits [hi:lo] is either one plain reg or three copies name_h0..2_<lo>, each copy in its own
// (* keep *) always block so that Yosys's opt_merge cannot fold the identical flops into one, and a bitwise
// majority voter. `q` is the voted output wire.
void emit_tmr_register(std::ostringstream& v, const std::string& name, int width, uint64_t hard_mask,
                       const std::string& d, const std::string& enable, const std::string& inject,
                       const std::string& copy, const std::string& q) {
  const std::string guard = enable.empty() ? "" : "if (" + enable + ") ";
  v << "  wire [" << width - 1 << ":0] " << q << ";\n";
  std::vector<std::string> parts;  // LSB run first
  for (int lo = 0; lo < width;) {
    const bool hard = (hard_mask >> lo) & 1;
    int hi = lo;
    while (hi + 1 < width && (((hard_mask >> (hi + 1)) & 1) != 0) == hard) ++hi;
    const std::string range = "[" + std::to_string(hi) + ":" + std::to_string(lo) + "]";
    const std::string run = name + "_" + std::to_string(lo);
    if (!hard) {
      v << "  reg " << range << " " << run << ";\n"
        << "  always @(posedge clk) " << guard << run << " <= " << d << range << " ^ " << inject << range << ";\n";
      parts.push_back(run);
    } else {
      const int n = hi - lo + 1;
      for (int k = 0; k < 3; ++k) {
        v << "  reg " << range << " " << run << "_h" << k << ";\n"
          << "  (* keep *) always @(posedge clk) " << guard << run << "_h" << k << " <= " << d << range << " ^ ("
          << copy << " == 2'd" << k << " ? " << inject << range << " : " << n << "'d0);\n";
      }
      v << "  wire " << range << " " << run << "_voted = (" << run << "_h0 & " << run << "_h1) | (" << run << "_h1 & "
        << run << "_h2) | (" << run << "_h0 & " << run << "_h2);\n";
      parts.push_back(run + "_voted");
    }
    lo = hi + 1;
  }
  v << "  assign " << q << " = {";
  for (std::size_t i = parts.size(); i-- > 0;) v << parts[i] << (i > 0 ? ", " : "");
  v << "};\n";
}

void emit_pe_localparams(std::ostringstream& v, const accel::PeConfig& c) {
  const int d = c.abits + 2;
  v << "  localparam W = " << c.wbits << ";   // weight register width (two's complement)\n"
    << "  localparam A = " << c.abits << ";   // activation / output register width\n"
    << "  localparam P = " << c.accbits << ";  // accumulator width (wraps modulo 2^P)\n"
    << "  localparam X_SIGNED = " << (c.x_signed ? 1 : 0) << ";  // activations two's complement (1) or unsigned (0)\n"
    << "  localparam L = " << c.live() << ";   // live width of the output register (k under a range constraint)\n"
    << "  localparam H = " << c.harden_out_bits << ";   // TMR-hardened bits of the output register: L-H .. L-1\n"
    << "  localparam HA = " << c.harden_acc_bits << ";  // TMR-hardened top bits of the accumulator register\n"
    << "  localparam D = " << d << ";  // A + 2: width of x - zp, exact since |x - zp| < 2^(A+1)\n"
    << "  localparam M = " << std::max(d + c.wbits, c.accbits) << ";  // max(D + W, P): exact product width\n";
}

void emit_pe_ports(std::ostringstream& v, bool with_inject) {
  v << "  input  wire clk;\n"
    << "  input  wire load_w;\n"
    << "  input  wire [W-1:0] w_in;\n"
    << "  input  wire [A-1:0] x_in;\n"
    << "  input  wire [P-1:0] psum_in;\n"
    << "  input  wire [A:0] zp;\n"
    << "  input  wire load_out;\n"
    << "  input  wire [A-1:0] out_d;\n"
    << "  input  wire [A-1:0] keep;  // range corrector: keep[b] = 1 iff b < k (unused without a corrector)\n"
    << "  input  wire sext;          // range corrector: sign-extend (1) or clear (0) bits >= k\n";
  if (with_inject)
    v << "  input  wire [A-1:0] inject_out;\n"
      << "  input  wire [1:0] inject_copy;\n"
      << "  input  wire [P-1:0] inject_acc;\n"
      << "  input  wire [1:0] inject_acc_copy;\n";
  v << "  output wire [A-1:0] x_out;\n"
    << "  output wire [P-1:0] psum_out;\n"
    << "  output wire [A-1:0] out_q;\n";
}

int64_t json_count(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) throw Error(std::string("synthesize_with_yosys(): Yosys statistics lack '") + key + "'");
  return j.at(key).get<int64_t>();
}

double least_squares_slope(const std::vector<double>& ys) {
  const double n = static_cast<double>(ys.size());
  double mean_x = 0.0, mean_y = 0.0;
  for (std::size_t i = 0; i < ys.size(); ++i) {
    mean_x += static_cast<double>(i) / n;
    mean_y += ys[i] / n;
  }
  double sxy = 0.0, sxx = 0.0;
  for (std::size_t i = 0; i < ys.size(); ++i) {
    const double dx = static_cast<double>(i) - mean_x;
    sxy += dx * (ys[i] - mean_y);
    sxx += dx * dx;
  }
  return sxx > 0.0 ? sxy / sxx : 0.0;  // a single point has no slope
}

}  // namespace

std::string mac_module_name(const accel::PeConfig& c) {
  return "ftdla_mac_w" + std::to_string(c.wbits) + "a" + std::to_string(c.abits) + "p" + std::to_string(c.accbits) +
         (c.x_signed ? "s" : "u");
}

std::string generate_mac_verilog(const accel::PeConfig& config) {
  config.require_valid();
  const accel::PeConfig& c = config;
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- the MAC datapath y = wrap_P(psum + (x - zp) * w), shared by the PE\n"
    << "// and the TMR lanes; kept as its own module in synthesis so that every variant gets the same datapath.\n"
    << "(* keep_hierarchy *)\n"
    << "module " << mac_module_name(c) << " (x, zp, w, psum, y);\n";
  emit_pe_localparams(v, c);
  v << "  input  wire [A-1:0] x;\n  input  wire [A:0] zp;\n  input  wire [W-1:0] w;\n  input  wire [P-1:0] psum;\n"
    << "  output wire [P-1:0] y;\n"
    << "  wire signed [D-1:0] x_ext = " << (c.x_signed ? "{{2{x[A-1]}}, x}" : "{2'b00, x}") << ";\n"
    << "  wire signed [D-1:0] zp_ext = {zp[A], zp};\n"
    << "  wire signed [D-1:0] diff = x_ext - zp_ext;\n"
    << "  wire signed [M-1:0] prod = diff * $signed(w);\n"
    << "  assign y = psum + prod[P-1:0];\n"
    << "endmodule\n";
  return v.str();
}

std::string generate_pe_verilog(const accel::PeConfig& config, const std::string& module_name, bool with_mac) {
  config.require_valid();
  require_identifier("generate_pe_verilog(): module_name", module_name);
  const accel::PeConfig& c = config;
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- weight-stationary systolic PE; golden model: ftdla::accel::Pe.\n"
    << "// At each rising edge: w_reg <= load_w ? w_in : w_reg; x_reg <= x_in;\n"
    << "//   acc <= wrap_P(psum_in + (x_reg - zp) * w_reg) ^ inject_acc; out <= load_out ? out_d ^ inject_out : out.\n"
    << "// Bits L-H..L-1 of out (the top H live bits) and the top HA bits of acc are three flops + a majority voter;\n"
    << "// inject_* flips only copy inject_*copy (0..2, 3 = none) of a hardened bit and the only flop of a plain bit.\n"
    << "module " << module_name << " (clk, load_w, w_in, x_in, psum_in, zp, load_out, out_d, keep, sext,\n"
    << "    inject_out, inject_copy, inject_acc, inject_acc_copy, x_out, psum_out, out_q);\n";
  emit_pe_localparams(v, c);
  emit_pe_ports(v, true);
  v << "\n  reg [W-1:0] w_reg;\n"
    << "  reg [A-1:0] x_reg;\n"
    << "  always @(posedge clk) begin\n"
    << "    if (load_w) w_reg <= w_in;\n"
    << "    x_reg <= x_in;\n"
    << "  end\n"
    << "  assign x_out = x_reg;\n\n"
    << "  wire [P-1:0] mac;\n"
    << "  " << mac_module_name(c) << " u_mac (.x(x_reg), .zp(zp), .w(w_reg), .psum(psum_in), .y(mac));\n\n";
  emit_tmr_register(v, "acc", c.accbits, low_mask(c.accbits) & ~low_mask(c.accbits - c.harden_acc_bits), "mac", "",
                    "inject_acc", "inject_acc_copy", "acc_q");
  v << "  assign psum_out = acc_q;\n\n";
  emit_tmr_register(v, "out", c.abits, c.out_hard_mask(), "out_d", "load_out", "inject_out", "inject_copy",
                    "out_voted_q");
  if (!c.corrector) {
    v << "  assign out_q = out_voted_q;\n";
  } else {
    v << "  // Range corrector on the read port: bits >= k restored from bit k-1 (signed) or cleared (unsigned).\n";
    if (c.fixed_k > 0)
      v << "  wire [A-1:0] keep_k = " << c.abits << "'d" << low_mask(c.fixed_k) << ";  // k = " << c.fixed_k
        << ", fixed\n";
    else
      v << "  wire [A-1:0] keep_k = keep;\n";
    if (c.corrector_signed)
      v << "  wire [A-1:0] keep_msb = keep_k & ~(keep_k >> 1);\n"
        << "  wire keep_sign = sext & |(out_voted_q & keep_msb);  // sext: this layer's outputs are signed\n"
        << "  assign out_q = (out_voted_q & keep_k) | ({A{keep_sign}} & ~keep_k);\n";
    else
      v << "  assign out_q = out_voted_q & keep_k;\n";
  }
  v << ""
    << "endmodule\n";
  if (with_mac) v << generate_mac_verilog(c);
  return v.str();
}

std::string generate_pe_synth_top(const accel::PeConfig& config, const std::string& pe_name,
                                  const std::string& top_name) {
  config.require_valid();
  require_identifier("generate_pe_synth_top(): pe_name", pe_name);
  require_identifier("generate_pe_synth_top(): top_name", top_name);
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- " << pe_name << " with its fault-injection ports tied to 0.\n"
    << "module " << top_name << " (clk, load_w, w_in, x_in, psum_in, zp, load_out, out_d, keep, sext, x_out, psum_out, out_q);\n";
  emit_pe_localparams(v, config);
  emit_pe_ports(v, false);
  v << "  " << pe_name << " u_pe (.clk(clk), .load_w(load_w), .w_in(w_in), .x_in(x_in), .psum_in(psum_in),\n"
    << "    .zp(zp), .load_out(load_out), .out_d(out_d), .keep(keep), .sext(sext), .inject_out({A{1'b0}}), .inject_copy(2'd0),\n"
    << "    .inject_acc({P{1'b0}}), .inject_acc_copy(2'd0), .x_out(x_out), .psum_out(psum_out), .out_q(out_q));\n"
    << "endmodule\n";
  return v.str();
}

std::string generate_register_verilog(int bits, const std::string& module_name) {
  require_width("generate_register_verilog(): bits", bits);
  require_identifier("generate_register_verilog(): module_name", module_name);
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- plain register with load enable (calibration unit).\n"
    << "module " << module_name << " (clk, load, d, q);\n"
    << "  localparam N = " << bits << ";\n"
    << "  input  wire clk;\n  input  wire load;\n  input  wire [N-1:0] d;\n  output reg  [N-1:0] q;\n"
    << "  always @(posedge clk) if (load) q <= d;\n"
    << "endmodule\n";
  return v.str();
}

std::string generate_voter_verilog(int bits, const std::string& module_name) {
  require_width("generate_voter_verilog(): bits", bits);
  require_identifier("generate_voter_verilog(): module_name", module_name);
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- bitwise majority voter maj(a,b,c) = ab + bc + ca.\n"
    << "module " << module_name << " (a, b, c, y);\n"
    << "  localparam N = " << bits << ";\n"
    << "  input  wire [N-1:0] a;\n  input  wire [N-1:0] b;\n  input  wire [N-1:0] c;\n  output wire [N-1:0] y;\n"
    << "  assign y = (a & b) | (b & c) | (a & c);\n"
    << "endmodule\n";
  return v.str();
}

std::string generate_range_corrector_verilog(int bits, bool is_signed, const std::string& module_name) {
  require_width("generate_range_corrector_verilog(): bits", bits);
  require_identifier("generate_range_corrector_verilog(): module_name", module_name);
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- " << (is_signed ? "signed" : "unsigned")
    << " range corrector; keep[b] = 1 iff b < k (thermometer, set per layer).\n"
    << "module " << module_name << " (x, keep, y);\n"
    << "  localparam N = " << bits << ";\n"
    << "  input  wire [N-1:0] x;\n  input  wire [N-1:0] keep;\n  output wire [N-1:0] y;\n";
  if (is_signed)
    v << "  wire [N-1:0] msb = keep & ~(keep >> 1);  // one-hot at bit k-1\n"
      << "  wire sign = |(x & msb);\n"
      << "  assign y = (x & keep) | ({N{sign}} & ~keep);  // sign-extend from bit k-1\n";
  else
    v << "  assign y = x & keep;  // bits >= k are zero for a non-negative value\n";
  v << "endmodule\n";
  return v.str();
}

int64_t SynthStats::flops() const {
  int64_t n = 0;
  for (const auto& [type, count] : cells_by_type)
    if (type.find("DFF") != std::string::npos) n += count;
  return n;
}

SynthStats synthesize_with_yosys(const std::string& verilog, const std::string& top, const std::string& yosys) {
  require_identifier("synthesize_with_yosys(): top", top);
  const TempDir dir("ftdla-yosys");
  const fs::path design = fs::path(dir.path()) / "design.v";
  const fs::path script = fs::path(dir.path()) / "synth.ys";
  const fs::path stat = fs::path(dir.path()) / "stat.json";
  write_file_atomic(design.string(), verilog);
  // Yosys runs inside the temporary directory with relative file names: its `tee -o` takes no quoted paths.
  write_file_atomic(script.string(), "read_verilog design.v\n"
                                     "synth -flatten -top " + top + "\n"
                                     // Enable flops -> plain flop + mux, so the CMOS estimate knows every cell.
                                     "dfflegalize -cell $_DFF_P_ 01 -cell $_DFF_N_ 01\n"
                                     "abc -g AND,NAND,OR,NOR,XOR,XNOR,MUX\n"
                                     "opt_clean\n"
                                     "tee -q -o stat.json stat -json -tech cmos\n");
  const detail::ToolRun run = detail::run_tool(dir.path(), shell_quote(yosys) + " -q -s synth.ys", "yosys.log");
  if (run.code == 127)
    throw Error("synthesize_with_yosys(): cannot run '" + yosys +
                "' (not installed or not on PATH; scripts/install-deps.sh installs it): " + first_error_line(run.log));
  if (run.code != 0)
    throw Error("synthesize_with_yosys(): Yosys failed on top '" + top + "' (exit " + std::to_string(run.code) +
                "): " + first_error_line(run.log));
  if (!fs::exists(stat)) throw Error("synthesize_with_yosys(): Yosys wrote no statistics for top '" + top + "'");

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(stat.string()));
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("synthesize_with_yosys(): cannot parse Yosys statistics: ") + e.what());
  }
  // With -flatten there is one module; "design" holds the totals.
  const nlohmann::json* totals = j.contains("design") ? &j.at("design") : nullptr;
  if (totals == nullptr && j.contains("modules") && j.at("modules").size() == 1)
    totals = &j.at("modules").begin().value();
  if (totals == nullptr) throw Error("synthesize_with_yosys(): Yosys statistics have no design totals");

  SynthStats s;
  s.top = top;
  try {
    s.cells = json_count(*totals, "num_cells");
    if (totals->contains("num_cells_by_type"))
      for (const auto& [type, count] : totals->at("num_cells_by_type").items())
        s.cells_by_type[type] = count.get<int64_t>();
    // Yosys 0.23 writes the estimate as a string, "1234" or "1234+" when some cell types are unknown.
    const nlohmann::json& t = totals->at("estimated_num_transistors");
    if (t.is_number()) {
      s.transistors = t.get<int64_t>();
    } else {
      const std::string text = t.get<std::string>();
      s.transistors = std::stoll(text);
      s.transistors_complete = text.find('+') == std::string::npos;
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("synthesize_with_yosys(): unexpected Yosys statistics: ") + e.what());
  } catch (const std::logic_error& e) {
    throw Error(std::string("synthesize_with_yosys(): unexpected transistor estimate: ") + e.what());
  }
  return s;
}

SynthStats synthesize_pe(const accel::PeConfig& config, const std::string& yosys) {
  const std::string verilog = generate_pe_verilog(config, "ftdla_pe") + generate_pe_synth_top(config);
  return synthesize_with_yosys(verilog, "ftdla_pe_synth", yosys);
}

double RtlCalibration::hardened_bit_area_ratio() const {
  return (plain_bit_transistors + hardened_increment_transistors) / plain_bit_transistors;
}
double RtlCalibration::voter_bit_area_ratio() const { return voter_bit_transistors / plain_bit_transistors; }
double RtlCalibration::corrector_unsigned_bit_area_ratio() const {
  return corrector_unsigned_bit_transistors / plain_bit_transistors;
}
double RtlCalibration::corrector_signed_bit_area_ratio() const {
  return corrector_signed_bit_transistors / plain_bit_transistors;
}

RtlCalibration calibrate_rtl_costs(const accel::PeConfig& base, const std::string& yosys) {
  base.require_valid();
  RtlCalibration cal;
  cal.base = base;
  const int a = base.abits;
  std::vector<double> transistors;
  for (int h = 0; h <= a; ++h) {
    accel::PeConfig c = base;
    c.harden_out_bits = h;
    cal.pe_by_h.push_back(synthesize_pe(c, yosys));
    transistors.push_back(static_cast<double>(cal.pe_by_h.back().transistors));
  }
  cal.hardened_increment_transistors = least_squares_slope(transistors);
  const auto per_bit = [&](const std::string& verilog, const std::string& top) {
    return static_cast<double>(synthesize_with_yosys(verilog, top, yosys).transistors) / a;
  };
  cal.plain_bit_transistors = per_bit(generate_register_verilog(a), "ftdla_reg");
  cal.voter_bit_transistors = per_bit(generate_voter_verilog(a), "ftdla_voter");
  cal.corrector_unsigned_bit_transistors =
      per_bit(generate_range_corrector_verilog(a, false), "ftdla_range_corrector");
  cal.corrector_signed_bit_transistors = per_bit(generate_range_corrector_verilog(a, true), "ftdla_range_corrector");
  FTDLA_ASSERT(cal.plain_bit_transistors > 0.0);
  return cal;
}

}  // namespace ftdla::cost

namespace ftdla::cost {

accel::PeConfig unprotected_config(const accel::PeConfig& pe) {
  accel::PeConfig c;
  c.wbits = pe.wbits;
  c.abits = pe.abits;
  c.accbits = pe.accbits;
  c.x_signed = pe.x_signed;
  return c;
}

std::string generate_tmr_lane_verilog(const accel::PeConfig& config, const std::string& module_name, bool with_mac) {
  config.require_valid();
  require_identifier("generate_tmr_lane_verilog(): module_name", module_name);
  const accel::PeConfig& c = config;
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- one MAC lane of the hybrid array's TMR unit: three copies of\n"
    << "// (w_reg, x_reg, acc) computing acc <= clear ? 0 : wrap_P(acc + (x_reg - zp) * w_reg), and a bitwise\n"
    << "// majority voter on the finished accumulator. inject_acc flips copy inject_lane (0..2, 3 = none).\n"
    << "module " << module_name << " (clk, load_w, w_in, x_in, zp, clear, inject_acc, inject_lane, acc_q);\n";
  emit_pe_localparams(v, c);
  v << "  input  wire clk;\n  input  wire load_w;\n  input  wire [W-1:0] w_in;\n  input  wire [A-1:0] x_in;\n"
    << "  input  wire [A:0] zp;\n  input  wire clear;\n  input  wire [P-1:0] inject_acc;\n"
    << "  input  wire [1:0] inject_lane;\n  output wire [P-1:0] acc_q;\n";
  for (int k = 0; k < 3; ++k) {
    const std::string s = std::to_string(k);
    v << "  reg [W-1:0] w_reg" << s << ";\n  reg [A-1:0] x_reg" << s << ";\n  reg [P-1:0] acc" << s << ";\n"
      << "  wire [P-1:0] mac" << s << ";\n"
      << "  " << mac_module_name(c) << " u_mac" << s << " (.x(x_reg" << s << "), .zp(zp), .w(w_reg" << s << "), .psum(acc" << s
      << "), .y(mac" << s << "));\n"
      << "  (* keep *) always @(posedge clk) begin\n"
      << "    if (load_w) w_reg" << s << " <= w_in;\n"
      << "    x_reg" << s << " <= x_in;\n"
      << "    acc" << s << " <= (clear ? {P{1'b0}} : mac" << s << ") ^ (inject_lane == 2'd" << s
      << " ? inject_acc : {P{1'b0}});\n"
      << "  end\n";
  }
  v << "  assign acc_q = (acc0 & acc1) | (acc1 & acc2) | (acc0 & acc2);\n"
    << "endmodule\n";
  if (with_mac) v << generate_mac_verilog(c);
  return v.str();
}

std::string generate_requantizer_verilog(int acc_bits, int out_bits, bool out_signed, const std::string& module_name) {
  require_width("generate_requantizer_verilog(): acc_bits", acc_bits);
  require_width("generate_requantizer_verilog(): out_bits", out_bits);
  require_identifier("generate_requantizer_verilog(): module_name", module_name);
  const int p = acc_bits, a = out_bits;
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- column requantizer (gemmlowp/TFLite): saturating rounding doubling\n"
    << "// high multiply by a 32-bit multiplier, rounding divide by 2^shift, + output zero point, clamp to the\n"
    << "// activation range. Registered input and output (one pipeline stage each side).\n"
    << "module " << module_name << " (clk, acc, mult, shift, zp_out, lo, hi, y);\n"
    << "  localparam P = " << p << ";\n  localparam A = " << a << ";\n"
    << "  input  wire clk;\n  input  wire [P-1:0] acc;\n  input  wire [31:0] mult;\n  input  wire [5:0] shift;\n"
    << "  input  wire [A:0] zp_out;\n  input  wire [A:0] lo;\n  input  wire [A:0] hi;\n  output reg [A-1:0] y;\n"
    << "  reg signed [P-1:0] acc_r;\n"
    << "  always @(posedge clk) acc_r <= acc;\n"
    << "  wire signed [P+31:0] prod = acc_r * $signed(mult);\n"
    << "  // Saturating rounding doubling high multiply: (prod + nudge) >> 31, P+1 bits.\n"
    << "  wire signed [P+31:0] nudged = prod + (prod[P+31] ? (1 - (64'sd1 <<< 30)) : (64'sd1 <<< 30));\n"
    << "  wire signed [P:0] srdhm = nudged[P+31:31];\n"
    << "  // Rounding divide by 2^shift (round half away from zero), shift < 32.\n"
    << "  wire [31:0] mask = (32'd1 << shift) - 32'd1;\n"
    << "  wire [31:0] rem = srdhm[31:0] & mask;\n"
    << "  wire [31:0] thr = (mask >> 1) + {31'd0, srdhm[P]};\n"
    << "  wire signed [P+1:0] q = (srdhm >>> shift) + (rem > thr ? 1 : 0) + $signed(zp_out);\n"
    << "  wire signed [P+1:0] c = q < $signed(lo) ? $signed(lo) : (q > $signed(hi) ? $signed(hi) : q);\n"
    << "  always @(posedge clk) y <= c[A-1:0];\n"
    << "endmodule\n";
  (void)out_signed;  // the clamp bounds lo/hi carry the signedness
  return v.str();
}

std::string generate_dispatch_verilog(int mask_bits, int counter_bits, const std::string& module_name) {
  require_width("generate_dispatch_verilog(): counter_bits", counter_bits);
  if (mask_bits < 1 || mask_bits > 65536)
    throw ConfigError("generate_dispatch_verilog(): mask_bits must be in [1, 65536] (got " + std::to_string(mask_bits) + ")");
  require_identifier("generate_dispatch_verilog(): module_name", module_name);
  const int cb = counter_bits;
  int ib = 1;
  while ((1 << ib) < mask_bits) ++ib;
  std::ostringstream v;
  v << "// Generated by ftdla (cost/rtl.cpp) -- dispatch of the hybrid array's TMR unit (one copy; the unit has\n"
    << "// three): a protected-channel mask register loaded per layer, a priority encoder for the next protected\n"
    << "// channel above the current one, and pixel / channel / reduction counters.\n"
    << "module " << module_name << " (clk, load_mask, mask_in, step, k_last, m_last, chan, pixel, red, done);\n"
    << "  localparam N = " << mask_bits << ";\n  localparam I = " << ib << ";\n  localparam CB = " << cb << ";\n"
    << "  input  wire clk;\n  input  wire load_mask;\n  input  wire [N-1:0] mask_in;\n  input  wire step;\n"
    << "  input  wire [CB-1:0] k_last;\n  input  wire [CB-1:0] m_last;\n"
    << "  output reg [I-1:0] chan;\n  output reg [CB-1:0] pixel;\n  output reg [CB-1:0] red;\n  output wire done;\n"
    << "  reg [N-1:0] mask;\n"
    << "  // Next protected channel: lowest set bit of mask above chan.\n"
    << "  wire [N-1:0] above = mask & ~((({{(N-1){1'b0}}, 1'b1}) << chan << 1) - 1);\n"
    << "  reg [I-1:0] next;\n  integer b;\n"
    << "  always @* begin\n    next = 0;\n"
    << "    for (b = N - 1; b >= 0; b = b - 1) if (above[b]) next = b[I-1:0];\n  end\n"
    << "  assign done = ~|above;\n"
    << "  always @(posedge clk) begin\n"
    << "    if (load_mask) begin mask <= mask_in; chan <= 0; pixel <= 0; red <= 0; end\n"
    << "    else if (step) begin\n"
    << "      if (red != k_last) red <= red + 1'b1;\n"
    << "      else begin\n        red <= 0;\n"
    << "        if (pixel != m_last) pixel <= pixel + 1'b1;\n"
    << "        else begin pixel <= 0; chan <= next; end\n      end\n"
    << "    end\n  end\n"
    << "endmodule\n";
  return v.str();
}

}  // namespace ftdla::cost
