// SPDX-License-Identifier: MIT
#include "ftdla/cost/design_cost.hpp"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "design_cost_impl.hpp"
#include "ftdla/core/error.hpp"

namespace ftdla::cost {

double AreaBreakdown::total() const {
  return array_pes_um2 + requantizers_um2 + hardened_bits_um2 + range_correctors_um2 + hybrid_lanes_um2 +
         hybrid_voters_um2 + hybrid_dispatch_um2 + tmr_copies_um2 + tmr_voters_um2;
}

double EnergyBreakdown::total() const {
  return array_macs_pj + weight_loads_pj + output_loads_pj + requantization_pj + hardened_bits_pj +
         range_corrector_pj + hybrid_pj + tmr_copies_pj + tmr_voters_pj + sram_pj + dram_pj;
}

CostReport evaluate_cost(const protect::ProtectionPlan& plan, const quant::QGraph& q, const accel::Mapping& mp) {
  return evaluate_cost(plan, q, mp, detail::default_table());
}

CostReport evaluate_cost(const protect::ProtectionPlan& plan, const quant::QGraph& q, const accel::Mapping& mp,
                         const ComponentTable& table) {
  FTDLA_ASSERT(plan.qgraph_layers == q.layers.size());
  FTDLA_ASSERT(plan.layers.size() == mp.layers.size());
  const protect::AccelPoint& ap = plan.design.accel;
  const double pes = static_cast<double>(mp.spec.rows) * mp.spec.cols;
  const double cols = mp.spec.cols;
  const bool ws = mp.spec.dataflow == accel::Dataflow::WeightStationary;

  detail::UnitQuery uq;
  uq.wbits = ap.wbits;
  uq.abits = ap.abits;
  uq.accbits = ap.accbits;
  uq.hardened_bits = plan.hardened_register_bits();
  uq.corrector = plan.range_corrector;
  uq.corrector_fixed = plan.design.k_per_layer.empty();
  for (const auto& lp : plan.layers) {
    uq.corrector_signed |= lp.range_constrained && lp.is_signed;
    uq.mask_bits = std::max<int>(uq.mask_bits, static_cast<int>(lp.protected_channels.size()));
  }
  uq.counter_bits = kDispatchCounterBits;
  const detail::UnitCosts u = detail::unit_costs(table, uq);

  CostReport r;
  AreaBreakdown& ar = r.area_breakdown;
  EnergyBreakdown& en = r.energy_breakdown;

  // Regular array.
  ar.array_pes_um2 = pes * u.pe_area_um2;
  ar.requantizers_um2 = cols * u.requantizer.area_um2;
  ar.hardened_bits_um2 = pes * u.hardened_delta.area_um2;
  ar.range_correctors_um2 = pes * u.corrector.area_um2;

  // Work split between the regular array and the TMR unit.
  double array_macs = 0, array_weights = 0, array_outputs = 0, prot_macs = 0, prot_outputs = 0;
  for (std::size_t i = 0; i < mp.layers.size(); ++i) {
    const accel::LayerMapping& lm = mp.layers[i];
    const protect::LayerPlan& lp = plan.layers[i];
    FTDLA_ASSERT(lp.layer == lm.layer);
    const model::GemmDims& d = lm.dims;
    const double channels = static_cast<double>(d.groups * d.n);
    const double prot = static_cast<double>(lp.protected_count);
    const double mk = static_cast<double>(d.m) * static_cast<double>(d.k);
    array_macs += (channels - prot) * mk;
    array_weights += (channels - prot) * (ws ? static_cast<double>(d.k) : mk);
    array_outputs += (channels - prot) * static_cast<double>(d.m);
    prot_macs += prot * mk;
    prot_outputs += prot * static_cast<double>(d.m);
  }
  en.array_macs_pj = array_macs * u.pe_mac_energy_pj;
  en.weight_loads_pj = array_weights * u.pe_weight_load_energy_pj;
  en.output_loads_pj = array_outputs * u.pe_out_load_energy_pj;
  en.requantization_pj = array_outputs * u.requantizer.energy_pj;
  en.hardened_bits_pj = array_outputs * u.hardened_delta.energy_pj;
  en.range_corrector_pj = array_outputs * u.corrector.energy_pj;

  // Hybrid unit: U TMR lanes beside the array.
  const int lanes = plan.full_tmr() ? 0 : plan.lanes();
  if (lanes > 0) {
    const double nl = lanes;
    ar.hybrid_lanes_um2 = 3.0 * nl * u.pe_area_um2 + 3.0 * u.requantizer.area_um2;
    ar.hybrid_voters_um2 = nl * u.acc_voter.area_um2 + u.out_voter.area_um2;
    const double dispatch_one = u.mask_area_um2 + nl * u.staging_area_um2 + 3.0 * u.counter.area_um2;
    ar.hybrid_dispatch_um2 = 3.0 * dispatch_one;
    en.hybrid_pj =
        prot_macs * 3.0 * (u.pe_mac_energy_pj + u.pe_weight_load_energy_pj + u.counter_adder.energy_pj) +
        prot_outputs * (3.0 * (u.pe_out_load_energy_pj + u.requantizer.energy_pj) + u.acc_voter.energy_pj +
                        u.out_voter.energy_pj);
  }

  // Full TMR: two more copies of the array and its requantizers, and a voter per column output.
  if (plan.full_tmr()) {
    ar.tmr_copies_um2 = 2.0 * (ar.array_pes_um2 + ar.requantizers_um2);
    ar.tmr_voters_um2 = cols * u.out_voter.area_um2;
    en.tmr_copies_pj = 2.0 * (en.array_macs_pj + en.weight_loads_pj + en.output_loads_pj + en.requantization_pj);
    en.tmr_voters_pj = array_outputs * u.out_voter.energy_pj;
  }

  r.latency = protect::hybrid_latency(plan, mp);
  r.latency_cycles = r.latency.total_cycles;
  r.area_um2 = ar.total();
  r.energy_pj = en.total();
  r.pe_area_um2 = u.pe_area_um2 + u.hardened_delta.area_um2 + u.corrector.area_um2;
  return r;
}

namespace {
double relative(double design, double reference) {
  if (reference == 0.0) return design == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return design / reference - 1.0;
}
}  // namespace

Overheads overheads(const CostReport& design, const CostReport& unprotected) {
  return {relative(design.area_um2, unprotected.area_um2), relative(design.energy_pj, unprotected.energy_pj),
          // Wall-clock latency where both clocks are known: a voter on the critical path lengthens the period.
          design.clock_ns > 0.0 && unprotected.clock_ns > 0.0
              ? relative(design.latency_ns, unprotected.latency_ns)
              : relative(static_cast<double>(design.latency_cycles), static_cast<double>(unprotected.latency_cycles))};
}

nlohmann::json to_json(const CostReport& r) {
  const AreaBreakdown& a = r.area_breakdown;
  const EnergyBreakdown& e = r.energy_breakdown;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.latency.layers)
    layers.push_back({{"layer", l.layer}, {"array_cycles", l.array_cycles}, {"unit_cycles", l.unit_cycles}, {"cycles", l.cycles}});
  return {
      {"area_um2", r.area_um2},
      {"energy_pj", r.energy_pj},
      {"latency_cycles", r.latency_cycles},
      {"pe_area_um2", r.pe_area_um2},
      {"clock_ns", r.clock_ns},
      {"latency_ns", r.latency_ns},
      {"cost_source", r.cost_source},
      {"area_breakdown",
       {{"array_pes_um2", a.array_pes_um2},
        {"requantizers_um2", a.requantizers_um2},
        {"hardened_bits_um2", a.hardened_bits_um2},
        {"range_correctors_um2", a.range_correctors_um2},
        {"hybrid_lanes_um2", a.hybrid_lanes_um2},
        {"hybrid_voters_um2", a.hybrid_voters_um2},
        {"hybrid_dispatch_um2", a.hybrid_dispatch_um2},
        {"tmr_copies_um2", a.tmr_copies_um2},
        {"tmr_voters_um2", a.tmr_voters_um2}}},
      {"energy_breakdown",
       {{"array_macs_pj", e.array_macs_pj},
        {"weight_loads_pj", e.weight_loads_pj},
        {"output_loads_pj", e.output_loads_pj},
        {"requantization_pj", e.requantization_pj},
        {"hardened_bits_pj", e.hardened_bits_pj},
        {"range_corrector_pj", e.range_corrector_pj},
        {"hybrid_pj", e.hybrid_pj},
        {"tmr_copies_pj", e.tmr_copies_pj},
        {"tmr_voters_pj", e.tmr_voters_pj},
        {"sram_pj", e.sram_pj},
        {"dram_pj", e.dram_pj}}},
      {"latency", {{"unit_bound_layers", r.latency.unit_bound_layers}, {"layers", layers}}},
  };
}

nlohmann::json to_json(const Overheads& o) {
  return {{"area_overhead", o.area}, {"energy_overhead", o.energy}, {"latency_overhead", o.latency}};
}

}  // namespace ftdla::cost
