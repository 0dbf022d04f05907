// SPDX-License-Identifier: MIT
// Private to design_cost: the component costs evaluate_cost needs, computed in design_cost_units.cpp.
// Two translation units because accel/mapping.hpp (struct accel::Pe, a PE coordinate) and accel/pe.hpp
// (class accel::Pe, the PE model, included by component_table.hpp) cannot be included together.
#pragma once

namespace ftdla::cost {
struct ComponentTable;

namespace detail {

/// Area (µm²) and energy per use (pJ) of one part.
struct Unit {
  double area_um2 = 0.0;
  double energy_pj = 0.0;
};

/// What to price.
struct UnitQuery {
  int wbits = 8, abits = 8, accbits = 32;
  int hardened_bits = 0;          ///< hardened output-register bits per PE
  bool corrector = false;         ///< range corrector present
  bool corrector_signed = false;  ///< signed (sign-extending) corrector
  /// One global k fixed at design time: the corrector is wiring (bits >= k driven by bit k-1 or 0),
  /// which Yosys synthesizes to zero cells (tests/cost/rtl_test.cpp). Per-layer k needs the
  /// runtime-programmable corrector whose cost was measured on the generated RTL.
  bool corrector_fixed = false;
  int mask_bits = 1;              ///< hybrid unit's protected-channel mask (N_max), >= 1
  int counter_bits = 16;          ///< hybrid unit's counters
};

struct UnitCosts {
  double pe_area_um2 = 0.0;           ///< plain PE (H = 0)
  double pe_mac_energy_pj = 0.0;
  double pe_out_load_energy_pj = 0.0;
  double pe_weight_load_energy_pj = 0.0;
  Unit requantizer;                   ///< one P-bit requantizer
  Unit hardened_delta;                ///< hardened minus plain, for all hardened bits of one register
  Unit corrector;                     ///< one A-bit corrector (zero when absent)
  Unit acc_voter;                     ///< P-bit voter
  Unit out_voter;                     ///< A-bit voter
  Unit counter;                       ///< adder + register of counter_bits
  Unit counter_adder;                 ///< the counter's adder alone (energy of one step)
  double mask_area_um2 = 0.0;         ///< mask register + priority encoder (comparator) of mask_bits
  double staging_area_um2 = 0.0;      ///< 2·(A + W) operand register bits of one lane
};

/// Throws ConfigError (first problem of ComponentTable::validate) if the table is invalid.
UnitCosts unit_costs(const ComponentTable& t, const UnitQuery& q);
/// The default table (ComponentTable{}).
const ComponentTable& default_table();

}  // namespace detail
}  // namespace ftdla::cost
