// SPDX-License-Identifier: MIT
// Component prices for design_cost.cpp (see design_cost_impl.hpp for why this is a separate file).
#include <algorithm>

#include "design_cost_impl.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/cost/component_table.hpp"

namespace ftdla::cost::detail {
namespace {
Unit unit(const ComponentCost& c) { return {c.area_um2, c.energy_pj}; }
}  // namespace

UnitCosts unit_costs(const ComponentTable& t, const UnitQuery& q) {
  const auto problems = t.validate();
  if (!problems.empty()) throw ConfigError(problems.front());
  accel::PeConfig cfg;
  cfg.wbits = q.wbits;
  cfg.abits = q.abits;
  cfg.accbits = q.accbits;
  const PeCost pe = t.pe(cfg);
  UnitCosts u;
  u.pe_area_um2 = pe.area_um2;
  u.pe_mac_energy_pj = pe.mac_energy_pj;
  u.pe_out_load_energy_pj = pe.out_load_energy_pj;
  u.pe_weight_load_energy_pj = pe.weight_load_energy_pj;
  u.requantizer = unit(t.requantizer(q.accbits));
  const ComponentCost hard = t.hardened_bits(q.hardened_bits), plain = t.register_bits(q.hardened_bits);
  // A hardened bit replaces a plain one: only the difference is added (>= 0 for ratios >= 1).
  u.hardened_delta = {std::max(0.0, hard.area_um2 - plain.area_um2), std::max(0.0, hard.energy_pj - plain.energy_pj)};
  if (q.corrector && !q.corrector_fixed) u.corrector = unit(t.range_corrector_bits(q.abits, q.corrector_signed));
  u.acc_voter = unit(t.voter_bits(q.accbits));
  u.out_voter = unit(t.voter_bits(q.abits));
  u.counter_adder = unit(t.adder(q.counter_bits));
  u.counter = unit(t.adder(q.counter_bits) + t.register_bits(q.counter_bits));
  u.mask_area_um2 = t.register_bits(q.mask_bits).area_um2 + t.comparator(q.mask_bits).area_um2;
  u.staging_area_um2 = t.register_bits(2 * (q.abits + q.wbits)).area_um2;
  return u;
}

const ComponentTable& default_table() {
  static const ComponentTable t{};
  return t;
}

}  // namespace ftdla::cost::detail
