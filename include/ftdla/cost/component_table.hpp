// SPDX-License-Identifier: MIT
// Per-component area and energy at 45 nm (Accelergy-style component table): adders, multipliers, register
// bits, voters, TMR-hardened bits, range correctors, requantizers. Defaults come from the literature
// (tags: [V] verified source / [I] our inference) and from Yosys
// measurements of ftdla's own RTL (cost/rtl.hpp); a JSON object can override every entry.
#pragma once
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "ftdla/accel/pe.hpp"

namespace ftdla::cost {

/// Area of one component instance and its energy per access / operation.
struct ComponentCost {
  double area_um2 = 0.0;   ///< silicon area, µm²
  double energy_pj = 0.0;  ///< energy per operation (adder, multiplier) or per access (register write), pJ

  ComponentCost& operator+=(const ComponentCost& o) {
    area_um2 += o.area_um2;
    energy_pj += o.energy_pj;
    return *this;
  }
  friend ComponentCost operator+(ComponentCost a, const ComponentCost& b) { return a += b; }
  friend ComponentCost operator*(double k, const ComponentCost& c) { return {k * c.area_um2, k * c.energy_pj}; }
};

/// Cost of one PE (accel::PeConfig), split by when the energy is spent.
struct PeCost {
  double area_um2 = 0.0;               ///< multiplier, adders, all registers (hardened bits included)
  double mac_energy_pj = 0.0;          ///< per MAC cycle: multiply, zp subtract, accumulate, x_reg + acc writes
  double out_load_energy_pj = 0.0;     ///< per output-register load (one per output neuron)
  double weight_load_energy_pj = 0.0;  ///< per weight-register load
};

/// Gemmlowp/TFLite requantization multiplies the accumulator by a 32-bit fixed-point multiplier
///, whatever the accumulator width.
inline constexpr int kRequantMultiplierBits = 32;

/// The component table. Member initializers are the defaults; every member is also a JSON key of
/// from_json / to_json (same name). Anchor entries give a cost at one width; methods scale them:
///   adder(w): piecewise linear through the 8/16/32-bit anchors, proportional to w outside [8, 32];
///   multiplier(a, b): in n = a·b, linear between the 8×8 (n = 64) and 32×32 (n = 1024) anchors,
///     proportional to n outside (area and energy ∝ a·b, the array-multiplier rule);
///   comparator(w), shifter(w): proportional to w/32 (Aladdin's library scales these linearly [V for adders,
///     I for comparator and shifter]);
///   register / voter / hardened / corrector bits: linear in the bit count.
/// Ratio entries (hardened bit, voter, range corrector) are in units of one plain register bit and scale
/// both its area and its energy (energy ∝ switched transistors [I]).
struct ComponentTable {
  // Areas: Aladdin "commercial 40g" table [V]: 32-bit adder 278 µm², 32×32 multiplier 6350 µm²,
  // scaled by Aladdin's own rules [V]: adder area linear in width, multiplier area quadratic in width.
  // (The Horowitz area column once used here could not be verified and was removed.)
  // Energies: Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm / 0.9 V [V].
  double adder_8b_area_um2 = 69.5;          ///< [V] Aladdin 32-bit adder 278 µm² × 8/32
  double adder_16b_area_um2 = 139.0;        ///< [V] Aladdin 32-bit adder 278 µm² × 16/32
  double adder_32b_area_um2 = 278.0;        ///< [V] Aladdin 32-bit adder
  double adder_8b_energy_pj = 0.03;         ///< [V] Horowitz 8-bit integer add
  double adder_16b_energy_pj = 0.05;        ///< [V] Horowitz 16-bit integer add
  double adder_32b_energy_pj = 0.1;         ///< [V] Horowitz 32-bit integer add
  double multiplier_8x8_area_um2 = 396.875;   ///< [V] Aladdin 32×32 multiplier 6350 µm² × (8/32)²
  double multiplier_32x32_area_um2 = 6350.0;  ///< [V] Aladdin 32×32 multiplier
  double multiplier_8x8_energy_pj = 0.2;    ///< [V] Horowitz 8-bit integer multiply
  double multiplier_32x32_energy_pj = 3.1;  ///< [V] Horowitz 32-bit integer multiply
  double sram_read_32b_energy_pj = 5.0;     ///< [V] Horowitz 32-bit read of an 8 KB SRAM
  double dram_read_32b_energy_pj = 640.0;   ///< [V] Horowitz 32-bit DRAM read

  // Aladdin "commercial 40g" table (harvard-acc/ALADDIN common/power_func.h) [V]. It is a 40 nm
  // library, used here unscaled next to 45 nm Horowitz figures: at 45 nm a flop would be somewhat larger
  // (roughly (45/40)² ≈ 1.27× by plain geometry), so register-dominated costs are slightly optimistic.
  double register_bit_area_um2 = 5.98;      ///< [V] Aladdin register, per bit
  double register_bit_energy_pj = 0.009;    ///< [V] Aladdin register, per bit per access
  double comparator_32b_area_um2 = 71.0;    ///< [V] Aladdin 32-bit comparator
  double comparator_32b_energy_pj = 0.0295; ///< [V] Aladdin 32-bit comparator
  double shifter_32b_area_um2 = 250.0;      ///< [V] Aladdin 32-bit shifter
  double shifter_32b_energy_pj = 0.417;     ///< [V] Aladdin 32-bit shifter

  // Measured with ftdla's own RTL (cost/rtl.hpp calibrate_rtl_costs, Yosys 0.23, `abc -g
  // AND,NAND,OR,NOR,XOR,XNOR,MUX`, `stat -tech cmos`) at W8/A8/P32, in units of one plain register bit with
  // load enable = 28 transistors ($_DFF_P_ 16 + $_MUX_ 12). PE transistors for H = 0..8 hardened output bits:
  // 5870 5948 6034 6094 6202 6238 6314 6400 6462; least-squares slope 73.8 transistors per hardened bit
  // (2 extra flops with their load muxes = 56, plus a majority voter = 18). tests/cost/rtl_test.cpp
  // re-measures all four ratios and requires the defaults within 15%.
  double hardened_bit_area_ratio = 3.64;    ///< measured (28 + 73.8) / 28 = 3.636: TMR bit (3 flops + voter)
  double voter_bit_area_ratio = 0.643;      ///< measured 18 / 28: one maj3 per voted bit
  double range_corrector_unsigned_bit_area_ratio = 0.214;  ///< measured 6 / 28: one AND per bit (x & keep)
  double range_corrector_signed_bit_area_ratio = 0.938;    ///< measured 26.25 / 28: sign select + mux per bit

  /// Integer adder of `width_bits` (>= 1) bits; cost per addition.
  ComponentCost adder(int width_bits) const;
  /// Integer multiplier of a_bits × b_bits (each >= 1); cost per multiplication.
  ComponentCost multiplier(int a_bits, int b_bits) const;
  /// Magnitude comparator of `width_bits` bits; cost per comparison.
  ComponentCost comparator(int width_bits) const;
  /// Shifter of `width_bits` bits; cost per shift.
  ComponentCost shifter(int width_bits) const;
  /// `bits` plain flip-flops; energy for one access of all of them.
  ComponentCost register_bits(int bits) const;
  /// `bits` bitwise majority voters (without the flops they vote).
  ComponentCost voter_bits(int bits) const;
  /// `bits` TMR-hardened register bits (three flops + voter each); replaces, not adds to, register_bits.
  ComponentCost hardened_bits(int bits) const;
  /// A range corrector over `bits` register bits with a run-time range k (cost/rtl.hpp
  /// generate_range_corrector_verilog): an AND per bit when unsigned, sign select + mux when signed.
  ComponentCost range_corrector_bits(int bits, bool is_signed) const;
  /// One column requantizer [I composition]: acc_bits × 32 fixed-point multiplier, a 2·acc_bits rounding adder
  /// (SRDHM nudge), an acc_bits shifter and rounding adder (RoundingDivideByPOT), an acc_bits zero-point
  /// adder and two acc_bits comparators (clamp). Cost per requantized value.
  ComponentCost requantizer(int acc_bits) const;
  /// One PE as generated by cost/rtl.hpp: a W × (A+2) multiplier (x − zp is A+2 bits), an (A+2)-bit zp
  /// subtractor, a P-bit accumulate adder, registers w (W), x (A), acc (P, top HA hardened), out (A, top H
  /// hardened). Throws ConfigError if `pe` is invalid.
  PeCost pe(const accel::PeConfig& pe) const;

  /// Problems, each "<where>.<key>: ..." (negative or non-finite values, anchors that decrease with width);
  /// empty when valid.
  [[nodiscard]] std::vector<std::string> validate(const std::string& where = "cost.components") const;

  /// Defaults overridden by the keys of the JSON object `j` (keys = member names above). `where` is the
  /// config path used in messages. Throws ConfigError naming the key for a non-object, an unknown key
  /// (with the closest known key suggested), a non-numeric or negative value, or a table that fails
  /// validate().
  static ComponentTable from_json(const nlohmann::json& j, const std::string& where = "cost.components");
  /// Every entry with its effective value (for echoing the configuration into results).
  nlohmann::json to_json() const;
};

}  // namespace ftdla::cost
