// SPDX-License-Identifier: MIT
// Area, energy per inference and latency of a protected design (protect::ProtectionPlan on an
// accel::Mapping), composed from the component table, and the overheads against the unprotected design.
// Pure functions; evaluate_cost() below lists every term and its source.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/protect/plan.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::cost {

// Declared in ftdla/cost/component_table.hpp. Not included here: it includes accel/pe.hpp, whose class
// accel::Pe clashes with the struct accel::Pe of accel/mapping.hpp, so no file can include both yet.
struct ComponentTable;

/// Bit width of the hybrid unit's counters (output pixel, channel, reduction index) [I: 16 bits index
/// 65536 values, more than any layer dimension of the shipped models].
inline constexpr int kDispatchCounterBits = 16;

/// Area by part, µm². total() is their sum. Every term is >= 0, except range_correctors_um2 under synthesized
/// costs, where a fixed k removes the flops of the bits >= k (a saving).
struct AreaBreakdown {
  double array_pes_um2 = 0.0;        ///< R·C regular PEs with plain registers (ComponentTable::pe, H = 0)
  double requantizers_um2 = 0.0;     ///< C column requantizers (ComponentTable::requantizer(P))
  double hardened_bits_um2 = 0.0;    ///< R·C · (hardened − plain) cost of the hardened output-register bits
  double range_correctors_um2 = 0.0; ///< R·C A-bit range correctors (one per PE output), when some k < A
  double hybrid_lanes_um2 = 0.0;     ///< 3·U MAC lanes (each a PE) + 3 requantizers of the TMR unit
  double hybrid_voters_um2 = 0.0;    ///< U P-bit accumulator voters + one A-bit output voter
  double hybrid_dispatch_um2 = 0.0;  ///< scheduling/dispatch logic, triplicated [I] (see evaluate_cost)
  double tmr_copies_um2 = 0.0;       ///< full TMR: two more copies of the PEs and requantizers
  double tmr_voters_um2 = 0.0;       ///< full TMR: C A-bit voters on the column outputs
  double total() const;
};

/// Dynamic energy per inference by part, pJ (leakage is not modeled).
struct EnergyBreakdown {
  double array_macs_pj = 0.0;        ///< MACs on the regular array · PE MAC energy (multiply, add, x/acc writes)
  double weight_loads_pj = 0.0;      ///< regular-array weight-register writes (WS: once per weight; OS: per MAC)
  double output_loads_pj = 0.0;      ///< regular-array output-register writes (plain bits)
  double requantization_pj = 0.0;    ///< one requantization per output neuron of the regular array
  double hardened_bits_pj = 0.0;     ///< extra energy of writing hardened bits (two more flops + voter)
  double range_corrector_pj = 0.0;   ///< one corrector pass per output neuron of the regular array
  double hybrid_pj = 0.0;            ///< TMR unit: 3 × (MAC + weight write + counter step) per protected MAC,
                                     ///< 3 × (output write + requantization) + voters per protected output
  double tmr_copies_pj = 0.0;        ///< full TMR: two more copies of the array's energy
  double tmr_voters_pj = 0.0;        ///< full TMR: one A-bit vote per output neuron
  double sram_pj = 0.0;              ///< on-chip buffer reads and writes (synthesized cost model only)
  double dram_pj = 0.0;              ///< off-chip traffic (synthesized cost model only)
  double total() const;
};

/// What a design costs.
struct CostReport {
  double area_um2 = 0.0;        ///< area_breakdown.total(), µm²
  double energy_pj = 0.0;       ///< energy_breakdown.total(), pJ per inference
  int64_t latency_cycles = 0;   ///< cycles per inference (protect::hybrid_latency)
  double pe_area_um2 = 0.0;     ///< one PE of the regular array as built (hardening, corrector included)
  double clock_ns = 0.0;        ///< clock period (synthesized model: the slowest PE/lane path); 0 if unknown
  double latency_ns = 0.0;      ///< latency_cycles · clock_ns; 0 if unknown
  std::string cost_source = "table";  ///< "yosys+opensta:<library>" or "table"
  AreaBreakdown area_breakdown;
  EnergyBreakdown energy_breakdown;
  protect::LatencyReport latency;
};

/// Area, energy and latency of `plan` on the accelerator of `mp` for the network `q`.
///
/// Regular array: R·C PEs (ComponentTable::pe at the design's W/A/P) and C column requantizers. The top
/// h bits of each PE's output register are hardened; when layers differ in k the hardened positions
/// differ, and every PE pays for their union (ProtectionPlan::hardened_register_bits). Under WS only the
/// bottom row's output registers hold neurons; the PEs are uniform (cost/rtl.hpp), so all R·C pay.
/// Range corrector: one per PE output over A bits, the signed variant if some constrained layer is signed.
///
/// Hybrid unit (present iff U >= 1); TMR = three copies + a bitwise
/// majority voter maj(a,b,c) = ab + bc + ca, voter cost measured on ftdla's RTL
/// (ComponentTable::voter_bits): 3·U MAC lanes (each costed as a PE) and a P-bit voter per lane on the
/// finished accumulator, plus one requantizer, triplicated, with an A-bit output voter (one requantizer
/// for the unit [I]: each lane finishes one output per K cycles, so one requantizer keeps up when K >= U). Scheduling/dispatch [I, our estimate]: a protected-channel mask register of
/// N_max bits (N_max = most output channels of any layer; reloaded per layer with the weights), a priority
/// encoder to find the next protected channel (costed as an N_max-bit comparator), per lane a double
/// buffer for its operands (2·(A + W) register bits), and three kDispatchCounterBits-bit counters (adder +
/// register each) for pixel, channel and reduction index; all triplicated so that a dispatch fault cannot
/// corrupt a protected channel. Energy: per protected MAC 3 × (PE MAC energy + weight write + one counter
/// step); per protected output 3 × (output write + requantization) + the P- and A-bit votes.
///
/// Full TMR: three copies of the PEs and requantizers and an A-bit voter per column output: area ≈ 3× the
/// array (+200% plus voters; TMR overheads "often exceed 200%"), energy 3× plus one vote per output;
/// latency unchanged.
///
/// Energy per inference counts only the PE-array datapath (no SRAM/DRAM traffic, which protection does not
/// change here), dynamic energy only. Latency = protect::hybrid_latency(plan, mp).total_cycles.
/// Throws ConfigError if the table is invalid; InternalError if `plan` was not made from `q` and `mp`.
CostReport evaluate_cost(const protect::ProtectionPlan& plan, const quant::QGraph& q, const accel::Mapping& mp,
                         const ComponentTable& table);
/// The same with the default component table (ComponentTable{}).
CostReport evaluate_cost(const protect::ProtectionPlan& plan, const quant::QGraph& q, const accel::Mapping& mp);

/// Relative costs: each = design / unprotected − 1 (0 = same cost; full TMR area ≈ +2.0).
struct Overheads {
  double area = 0.0;
  double energy = 0.0;
  double latency = 0.0;
};

/// Overheads of `design` against the unprotected reference (same network and accelerator, built from
/// protect::reference_design(d, Preset::Unprotected)). A zero reference cost gives 0 when the design's
/// cost is also 0, else +infinity.
Overheads overheads(const CostReport& design, const CostReport& unprotected);

/// {"area_um2", "energy_pj", "latency_cycles", "area_breakdown": {...}, "energy_breakdown": {...},
///  "latency": {"unit_bound_layers", "layers": [{"layer", "array_cycles", "unit_cycles", "cycles"}]}}.
nlohmann::json to_json(const CostReport& r);
/// {"area_overhead", "energy_overhead", "latency_overhead"}.
nlohmann::json to_json(const Overheads& o);

}  // namespace ftdla::cost
