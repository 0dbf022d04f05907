// SPDX-License-Identifier: MIT
// Cycle-level golden model of one processing element (PE) of the weight-stationary systolic array:
// the exact semantics of the Verilog that cost/rtl.hpp generates, register for register.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"

namespace ftdla::accel {

/// Widths and hardening of one PE. Defaults: int8 weights, uint8 activations, int32 accumulator, no hardening.
struct PeConfig {
  int wbits = 8;              ///< W: signed weight register width, [2, 16]
  int abits = 8;              ///< A: activation / output neuron register width, [2, 16]
  int accbits = 32;           ///< P: two's-complement accumulator width, [8, 32]
  bool x_signed = false;      ///< activations read as two's complement (true) or unsigned (false)
  int harden_out_bits = 0;    ///< H: top H bits of the output register are TMR-hardened, [0, A]
  int harden_acc_bits = 0;    ///< HA: top HA bits of the accumulator register are TMR-hardened, [0, P]
  /// L: live width of the output register, [1, A]. The H hardened bits are the top H bits of the live value,
  /// L−H … L−1 (fault::Shield's rule: L = k under a range constraint with the corrector, else A).
  /// 0 means A.
  int live_bits = 0;
  /// Range corrector on the output register's read port: bits >= k are restored from bit k−1 (signed) or
  /// cleared (unsigned). k comes from the `keep` port (thermometer, set per layer) unless fixed_k >= 1, when
  /// it is a constant of the circuit. A signed corrector sign-extends only while its `sext` port is 1 (the
  /// layer's outputs are signed), so one PE serves signed and unsigned layers.
  bool corrector = false;
  bool corrector_signed = false;
  int fixed_k = 0;  ///< [0, A]; 0: k from the keep port
  /// Explicit hardened output-register bits (a bit mask within A bits); overrides live_bits/H when non-zero.
  /// Layers with different k harden different positions, and every PE holds their union.
  uint64_t harden_out_mask = 0;

  int live() const { return live_bits == 0 ? abits : live_bits; }
  /// Bit mask of the hardened output-register bits: H bits ending at bit L−1.
  uint64_t out_hard_mask() const {
    if (harden_out_mask != 0) return harden_out_mask;
    const int l = live();
    return low_mask(l) & ~low_mask(l - harden_out_bits);
  }

  /// All problems at once, each "pe.<field>: must be in [lo, hi] (got v)"; empty when valid.
  [[nodiscard]] std::vector<std::string> validate() const {
    std::vector<std::string> problems;
    const auto range = [&](const char* field, int v, int lo, int hi) {
      if (v < lo || v > hi)
        problems.push_back(std::string("pe.") + field + ": must be in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "] (got " + std::to_string(v) + ")");
    };
    range("wbits", wbits, 2, 16);
    range("abits", abits, 2, 16);
    range("accbits", accbits, 8, 32);
    // Bounds of the hardening counts are only meaningful once the widths are valid.
    range("harden_out_bits", harden_out_bits, 0, abits >= 2 && abits <= 16 ? abits : 16);
    range("harden_acc_bits", harden_acc_bits, 0, accbits >= 8 && accbits <= 32 ? accbits : 32);
    const int a = abits >= 2 && abits <= 16 ? abits : 16;
    range("live_bits", live_bits, 0, a);
    range("fixed_k", fixed_k, 0, a);
    if (live_bits > 0 && harden_out_bits > live_bits)
      problems.push_back("pe.harden_out_bits: must be <= the live width " + std::to_string(live_bits) + " (got " +
                         std::to_string(harden_out_bits) + ")");
    if (fixed_k > 0 && !corrector) problems.push_back("pe.fixed_k: needs the corrector");
    if ((harden_out_mask & ~low_mask(a)) != 0) problems.push_back("pe.harden_out_mask: bits outside the A-bit register");
    return problems;
  }

  /// Throws ConfigError listing every problem of validate() ("; "-separated) if there is any.
  void require_valid() const {
    const auto problems = validate();
    if (problems.empty()) return;
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    throw ConfigError(msg);
  }
};

/// The inputs sampled at one rising clock edge; names and widths match the RTL ports.
/// Raw fields hold bit patterns: bits above the port width are ignored, as a port connection would.
struct PeInputs {
  bool load_w = false;          ///< load w_in into the weight register (else it is stationary)
  uint64_t w_in = 0;            ///< raw W-bit weight (two's complement)
  uint64_t x_in = 0;            ///< raw A-bit activation from the left neighbour
  uint64_t psum_in = 0;         ///< raw P-bit partial sum from the PE above
  int64_t zp = 0;               ///< activation zero point, (A+1)-bit two's complement
  bool load_out = false;        ///< load out_d into the output register
  uint64_t out_d = 0;           ///< raw A-bit requantized value from the column's requantizer
  uint64_t inject_out = 0;      ///< A-bit flip mask XORed into one copy of the output register (load only)
  int inject_copy = 0;          ///< TMR copy hit by inject_out in hardened bits: 0, 1, 2; 3 hits none
  uint64_t inject_acc = 0;      ///< P-bit flip mask XORed into one copy of the accumulator register
  int inject_acc_copy = 0;      ///< TMR copy hit by inject_acc in hardened bits: 0, 1, 2; 3 hits none
};

/// Stuck-at faults of a PE's flops, for fault injection only: the generated Verilog has no such port, and
/// with nothing stuck (the default) the model is the RTL's. Bit b of a `*_mask` set = bit b of that register
/// reads bit b of `*_value` whatever is written. In a TMR-hardened bit only copy 0 is stuck (a single
/// defective flop), so the voter masks it.
struct PeStuck {
  uint64_t w_mask = 0, w_value = 0;      ///< weight register (W bits)
  uint64_t x_mask = 0, x_value = 0;      ///< activation register (A bits); x_out shows the stuck bits
  uint64_t acc_mask = 0, acc_value = 0;  ///< accumulator register (P bits); psum_out shows them
  uint64_t out_mask = 0, out_value = 0;  ///< output register (A bits)
  bool any() const { return (w_mask | x_mask | acc_mask | out_mask) != 0; }
};

/// Cycle-level PE. At each rising edge (all right-hand sides are the values before the edge):
///   w_reg   <= load_w ? w_in : w_reg
///   x_reg   <= x_in                                  (x_out = x_reg feeds the right neighbour)
///   acc_reg <= wrap_P(psum_in + (x(x_reg) - zp) * w(w_reg)) ^ inject_acc   (psum_out feeds the PE below)
///   out_reg <= load_out ? out_d ^ inject_out : out_reg
/// x(.) reads A bits as two's complement when x_signed, else unsigned; w(.) reads W bits as two's complement.
/// The MAC uses the registered activation, so psum_in arrives one cycle after the matching x_in (systolic skew).
/// Hardened bits (the top H of out_reg, the top HA of acc_reg) are three flops and a bitwise majority voter
/// maj(a,b,c) = ab + bc + ca; an injected flip lands in one copy (inject_copy), so it is voted
/// away, while a flip in a plain bit lands in its only flop whatever inject_copy says.
/// Outputs read the voted values. Registers start at 0 (the RTL starts at X: drive load_w and load_out
/// on the first edge before comparing).
class Pe {
 public:
  /// Throws ConfigError (see PeConfig::validate) if `config` is invalid.
  explicit Pe(const PeConfig& config) : config_(config) {
    config_.require_valid();
    out_hard_mask_ = config_.out_hard_mask();
    acc_hard_mask_ = low_mask(config_.accbits) & ~low_mask(config_.accbits - config_.harden_acc_bits);
  }

  const PeConfig& config() const { return config_; }

  /// Apply one rising clock edge.
  void clock(const PeInputs& in) {
    const int w = config_.wbits, a = config_.abits, p = config_.accbits;
    const int64_t x = x_value(x_reg_);
    const int64_t zp = sign_extend(static_cast<uint64_t>(in.zp), a + 1);
    const int64_t mac = wrap_signed(sign_extend(in.psum_in, p) + (x - zp) * sign_extend(w_reg_, w), p);
    store(acc_, static_cast<uint64_t>(mac), acc_hard_mask_, in.inject_acc, in.inject_acc_copy, p);
    if (in.load_w) w_reg_ = in.w_in & low_mask(w);
    x_reg_ = in.x_in & low_mask(a);
    if (in.load_out) store(out_, in.out_d, out_hard_mask_, in.inject_out, in.inject_copy, a);
    if (stuck_.any()) apply_stuck();
  }

  /// Make flops stuck (see PeStuck); takes effect at once and after every edge. PeStuck{} frees them.
  void set_stuck(const PeStuck& s) {
    stuck_ = s;
    apply_stuck();
  }

  /// Raw A-bit activation passed to the right neighbour (x_out port).
  uint64_t x_out() const { return x_reg_; }
  /// Raw W-bit weight register.
  uint64_t w_reg() const { return w_reg_; }
  /// Voted raw P-bit accumulator register (psum_out port).
  uint64_t psum_out_raw() const { return vote(acc_, acc_hard_mask_); }
  /// psum_out_raw() read as a P-bit two's-complement number.
  int64_t psum_out() const { return sign_extend(psum_out_raw(), config_.accbits); }
  /// Voted raw A-bit output register (out_q port).
  uint64_t out_raw() const { return vote(out_, out_hard_mask_); }
  /// out_raw() read like an activation (two's complement when x_signed).
  int64_t out() const { return x_value(out_raw()); }
  /// out_raw() through the range corrector with thermometer `keep` (keep[b] = 1 iff b < k; the config's
  /// fixed_k overrides it): what the out_q port shows when the corrector is present. Without a corrector,
  /// out_raw().
  uint64_t out_corrected_raw(uint64_t keep, bool sext = true) const {
    const uint64_t v = out_raw();
    if (!config_.corrector) return v;
    if (config_.fixed_k > 0) keep = low_mask(config_.fixed_k);
    keep &= low_mask(config_.abits);
    if (!config_.corrector_signed || !sext) return v & keep;
    const uint64_t msb = keep & ~(keep >> 1);
    const bool sign = (v & msb) != 0;
    return (v & keep) | (sign ? ~keep & low_mask(config_.abits) : 0);
  }
  /// Raw content of TMR copy `copy` (0..2) of the output register; copies 1 and 2 hold only the hardened bits.
  uint64_t out_copy(int copy) const { return out_.at(static_cast<std::size_t>(copy)); }

 private:
  int64_t x_value(uint64_t raw) const {
    return config_.x_signed ? sign_extend(raw, config_.abits) : static_cast<int64_t>(raw);
  }
  // Write the low `width` bits of `d` into a register whose `hard` bits have three copies (copies 1 and 2
  // hold only those bits): `inject` flips the only flop of each plain bit and copy `copy` of each hardened bit.
  static void store(std::array<uint64_t, 3>& regs, uint64_t d, uint64_t hard, uint64_t inject, int copy,
                    int width) {
    d &= low_mask(width);
    inject &= low_mask(width);
    copy &= 3;  // a 2-bit port
    regs[0] = d ^ (inject & ~hard) ^ (copy == 0 ? inject & hard : 0);
    regs[1] = (d ^ (copy == 1 ? inject : 0)) & hard;
    regs[2] = (d ^ (copy == 2 ? inject : 0)) & hard;
  }
  // A stuck flop reads its stuck value whatever was written (copy 0 of a hardened bit).
  void apply_stuck() {
    const auto force = [](uint64_t v, uint64_t m, uint64_t val) { return (v & ~m) | (val & m); };
    w_reg_ = force(w_reg_, stuck_.w_mask & low_mask(config_.wbits), stuck_.w_value);
    x_reg_ = force(x_reg_, stuck_.x_mask & low_mask(config_.abits), stuck_.x_value);
    acc_[0] = force(acc_[0], stuck_.acc_mask & low_mask(config_.accbits), stuck_.acc_value);
    out_[0] = force(out_[0], stuck_.out_mask & low_mask(config_.abits), stuck_.out_value);
  }
  static uint64_t vote(const std::array<uint64_t, 3>& r, uint64_t hard) {
    const uint64_t maj = (r[0] & r[1]) | (r[1] & r[2]) | (r[0] & r[2]);
    return (r[0] & ~hard) | (maj & hard);
  }

  PeConfig config_;
  uint64_t out_hard_mask_ = 0;
  uint64_t acc_hard_mask_ = 0;
  uint64_t w_reg_ = 0;
  uint64_t x_reg_ = 0;
  std::array<uint64_t, 3> acc_{};
  std::array<uint64_t, 3> out_{};
  PeStuck stuck_;
};

}  // namespace ftdla::accel
