// SPDX-License-Identifier: MIT
// Cost of a design from synthesis: every logic block of the accelerator (the PE variant the design needs,
// the TMR lane, the column requantizer, the dispatch logic, voters) is generated as RTL (cost/rtl.hpp),
// mapped to a standard-cell library and timed and powered by OpenSTA (cost/synthesis.hpp). Only the memory
// traffic uses cited per-access energies (Horowitz, ISSCC 2014, 45 nm: 5 pJ per 32-bit read of an 8 KB
// SRAM, 640 pJ per 32-bit DRAM read).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/accel/pe.hpp"
#include "ftdla/cost/design_cost.hpp"
#include "ftdla/cost/synthesis.hpp"
#include "ftdla/data/dataset.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/protect/plan.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::cost {

/// Per-access energies of the memory hierarchy [Horowitz ISSCC 2014, 45 nm, verified via secondary copies].
inline constexpr double kSramRead32bPj = 5.0;    ///< 32-bit read of an 8 KB SRAM
inline constexpr double kDramRead32bPj = 640.0;  ///< 32-bit DRAM read

/// Switching statistics of the PE's input ports on a model's real operand streams (golden integer
/// activations, weights and accumulators), in the form OpenSTA 0~2019 takes (cost/synthesis.hpp).
struct OperandActivity {
  PortActivity x_in{"x_in", 0.0, 0.5};
  PortActivity w_in{"w_in", 0.0, 0.5};
  PortActivity psum_in{"psum_in", 0.0, 0.5};
  PortActivity load_w{"load_w", 0.0, 0.0};
  PortActivity load_out{"load_out", 0.0, 0.0};
  PortActivity out_d{"out_d", 0.0, 0.5};
  int64_t samples = 0;  ///< consecutive operand pairs the statistics come from
  std::vector<PortActivity> ports() const { return {x_in, w_in, psum_in, load_w, load_out, out_d}; }
};

/// Statistics of the operand streams of the compute layers of `q` in `traces` (golden runs, one per image),
/// weighted by each layer's MACs: x_in: consecutive pixels of one input channel (the stream a PE row sees
/// under weight-stationary mapping); psum_in: consecutive output pixels' accumulators of one channel
/// (finished sums stand in for partial sums); w_in: consecutive weights, at the rate weights are loaded
/// (once per tile: weights / MACs); out_d and load_out: one requantized output per K MACs.
/// Bits are the A/W/P-bit two's-complement patterns the registers hold.
OperandActivity measure_operand_activity(const quant::QGraph& q, const accel::Mapping& mp,
                                         const std::vector<engine::Trace>& traces);

/// Test images whose golden runs give the operand statistics (a few suffice for per-bit rates).
inline constexpr int64_t kOperandActivityImages = 8;

/// The same on golden runs of `e` over the first min(kOperandActivityImages, count) images of `images`.
OperandActivity measure_operand_activity(const engine::IntegerEngine& e, const accel::Mapping& mp,
                                         const data::Dataset& images);

/// The PE variant a plan needs in every PE of the regular array: widths of the design, the union of the
/// hardened live-bit positions of all layers, the corrector (k fixed at design time when one global k,
/// runtime `keep` when k differs per layer; signed when some constrained layer is signed).
accel::PeConfig pe_variant(const protect::ProtectionPlan& plan, const quant::QGraph& q);

/// Prices designs from synthesized blocks. Thread-safe; each distinct block is synthesized once per process
/// (and once per machine through the synthesis cache).
class SynthesizedCostModel {
 public:
  /// Throws Error (SynthesisTools::require_present) when the library or a tool is missing.
  explicit SynthesizedCostModel(SynthesisTools tools);

  /// Area, energy per inference, clock and latency of `plan` on `mp` for `q`. Composition:
  ///   area: R·C PEs of pe_variant(plan) (split in the breakdown into plain PE, hardened bits, corrector)
  ///     + C requantizers; hybrid unit: U TMR lanes + 3 requantizers + an A-bit output voter + 3 dispatch
  ///     copies with 2·(A+W) staging register bits per lane; full TMR: 3× the array and requantizers + C
  ///     A-bit voters.
  ///   energy: per MAC cycle the synthesized PE's energy per cycle on the measured activity; per output
  ///     one requantization; protected MACs at the TMR lane's energy per cycle plus one dispatch step;
  ///     SRAM: weights once, inputs once per column tile, outputs once, partial sums between row tiles;
  ///     DRAM: weights, the network input and output once.
  ///   clock: the slower of the PE variant and the TMR lane critical paths (requantizer pipelined);
  ///     latency_ns = protect::hybrid_latency cycles × clock.
  /// `activity`: the PE ports' switching on this network's operands (measure_operand_activity).
  CostReport evaluate(const protect::ProtectionPlan& plan, const quant::QGraph& q, const accel::Mapping& mp,
                      const OperandActivity& activity) const;

  /// One synthesized block, by RTL and port activity (memoized in the process, cached on disk).
  SynthesisResult block(const std::string& verilog, const std::string& top,
                        const std::vector<PortActivity>& activity = {}) const;
  const SynthesisTools& tools() const { return tools_; }

 private:
  SynthesisTools tools_;
  mutable std::mutex mu_;
  mutable std::map<std::string, SynthesisResult> memo_;
};

nlohmann::json to_json(const OperandActivity& a);

}  // namespace ftdla::cost
