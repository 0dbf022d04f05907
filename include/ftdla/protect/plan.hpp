// SPDX-License-Identifier: MIT
// A protection plan: a DesignPoint resolved against one quantized network and its mapping. Says which
// output channels the hybrid array's TMR unit computes, which register bits are hardened and where the
// range corrector acts; turns into the fault::Shield that the injector applies, and gives the hybrid
// schedule's latency.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/fault/fault.hpp"
#include "ftdla/protect/design.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::protect {

/// Measured vulnerability of one output channel (e.g. channel VF from vuln/: P(SDC | one bit flip in a
/// neuron of the channel)).
struct ChannelScore {
  std::size_t layer = 0;  ///< QGraph layer index of a compute layer
  int64_t channel = 0;    ///< absolute output channel (over all groups), in [0, groups * N)
  double vf = 0.0;        ///< vulnerability, finite and >= 0 (a probability in [0, 1] for VFs)
};

/// The plan of one compute layer.
struct LayerPlan {
  std::size_t layer = 0;                 ///< QGraph layer index
  std::string name;                      ///< layer (node) name
  std::vector<char> protected_channels;  ///< per absolute output channel: 1 = computed on the TMR unit
  int64_t protected_count = 0;           ///< protected output channels
  int64_t macs_per_channel = 0;          ///< MACs of one output channel per inference: M * K
  int64_t protected_macs = 0;            ///< protected_count * macs_per_channel
  int register_bits = 8;                 ///< A: output register width
  int live_bits = 8;                     ///< bits of the live value: k if range-constrained, else A
  bool is_signed = false;                ///< the output register holds two's complement values
  bool range_constrained = false;        ///< k < A here (the corrector restores bits >= k)
};

/// A design resolved against a network: what protect/ decided. Built by make_plan.
struct ProtectionPlan {
  DesignPoint design;              ///< the knobs (validated)
  std::vector<LayerPlan> layers;   ///< one per compute layer, in Mapping order
  std::size_t qgraph_layers = 0;   ///< QGraph::layers.size(), to size the Shield
  int64_t protected_macs = 0;      ///< MACs per inference computed on the TMR unit
  int64_t total_macs = 0;          ///< all MACs per inference
  bool range_corrector = false;    ///< a corrector sits at each PE output (some layer has k < A)

  bool full_tmr() const { return design.preset == Preset::FullTmr; }
  int harden_bits() const { return design.harden_bits; }
  int lanes() const { return design.lanes; }
  /// protected_macs / total_macs (0 when total_macs = 0).
  double protected_fraction() const;
  /// Physical output-register bit positions that must be hardened in every PE: the union over compute
  /// layers of [max(0, live - h), live) (the top h bits of each layer's live value; layers with different
  /// k harden different positions of the same register). 0 when h = 0; at most A.
  int hardened_register_bits() const;
  /// The same positions as a bit mask (bit b set = physical bit b hardened in every PE).
  uint64_t hardened_register_mask() const;
};

/// Resolve `d` against the quantized network `q` and its mapping `mp` (built with to_quant_options(d) and
/// to_array_spec(d)).
///
/// Fraction mode (f): every output channel c of every compute layer is a candidate with cost
/// macs(c) = M * K (its MACs per inference) and score vf(c) from `scores` (0 for channels without a
/// score). Candidates are taken greedily in decreasing vf / macs until the protected MACs reach
/// f * total MACs (so the result overshoots f by less than one channel; f = 0 protects nothing, f = 1
/// everything). Ties are broken deterministically: higher vf first, then fewer MACs, then earlier layer
/// (Mapping order), then lower channel index. Without scores this protects the cheapest channels first.
/// Channels mode: exactly the listed channels.
/// Presets: nothing protected (full TMR is a Shield flag, not a channel set).
///
/// Throws ConfigError naming the design key for an invalid design, an unknown layer name (in
/// `protected` or `k_per_layer`, listing the compute layers) or a channel out of range; ValidationError if
/// `q` or `mp` do not match the design (bit widths, k, array) or a score names a non-compute layer, an
/// out-of-range or duplicate channel, or a vf that is negative or not finite.
ProtectionPlan make_plan(const DesignPoint& d, const quant::QGraph& q, const accel::Mapping& mp,
                         const std::vector<ChannelScore>& scores = {});

/// The masks the injector applies for `plan` (fault/fault.hpp Shield): protected channels, hardened
/// bits, range corrector, or full_tmr for the full-TMR preset.
fault::Shield to_shield(const ProtectionPlan& plan);

/// Cycles of one compute layer on the hybrid array.
struct LayerLatency {
  std::size_t layer = 0;     ///< QGraph layer index
  int64_t array_cycles = 0;  ///< regular array running the unprotected channels
  int64_t unit_cycles = 0;   ///< TMR unit running the protected MACs: ceil(protected_macs / U)
  int64_t cycles = 0;        ///< max(array_cycles, unit_cycles): the two units run in parallel
  bool unit_bound() const { return unit_cycles > array_cycles; }
};

/// Latency of one inference on the hybrid array.
struct LatencyReport {
  std::vector<LayerLatency> layers;  ///< Mapping order
  int64_t total_cycles = 0;          ///< sum of the layers' cycles (layers run one after another)
  int64_t unit_bound_layers = 0;     ///< layers where the TMR unit is the bottleneck
};

/// Hybrid schedule: per layer, the regular array runs the unprotected
/// output channels with the mapping's cycle model (accel::gemm_cycles per group, with N reduced to that
/// group's unprotected channels: exact for the tiling, since the remaining channels are packed into
/// fewer column tiles), while the U-lane TMR unit runs the protected MACs in ceil(protected_macs / U)
/// cycles (ideal balancing over the lanes; the unit's pipeline fill of a few cycles is ignored [I]).
/// Layer latency = max of the two; total = sum over layers. Layers without protected channels keep the
/// mapping's cycles, so an unprotected plan gives mp.total_cycles. Full TMR runs three arrays in lock
/// step: the mapping's cycles (the output voters are combinational and add no cycle [I]).
LatencyReport hybrid_latency(const ProtectionPlan& plan, const accel::Mapping& mp);

}  // namespace ftdla::protect
