// SPDX-License-Identifier: MIT
// Fault injection into the bit-exact integer datapath.
// run(): the fast path. Starts from the cached golden registers, recomputes only what a fault touches
//   (the MAC chains of corrupted neurons, then sparse deltas through later layers), stops as soon as the
//   effect is masked. run_reference(): the plain path, a full re-run that simulates every MAC of every
//   compute layer. Both give bit-identical output registers for any FaultSet (tested).
#pragma once
#include <cstdint>
#include <vector>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/fault/fault.hpp"

namespace ftdla::fault {

struct InjectionResult {
  bool output_changed = false;  ///< any output register of the network differs from golden
  int top1 = -1;                ///< faulty prediction
};

class Injector {
 public:
  /// `engine` and `mapping` must outlive the injector.
  Injector(const engine::IntegerEngine& engine, const accel::Mapping& mapping, Shield shield = {});

  /// Fast incremental path. `golden` is the engine's trace of the input. If `logits` is given it receives
  /// the faulty output register values. Thread-safe (per-thread scratch).
  InjectionResult run(const engine::Trace& golden, const FaultSet& faults, std::vector<int32_t>* logits = nullptr) const;

  /// Dense path: a full re-run on the fast engine from the golden input registers, with the MAC chains a
  /// fault touches simulated MAC by MAC and output faults applied where they land. Cheaper than the
  /// incremental path once faults are many (a BER campaign); bit-identical to both other paths.
  /// `golden_output` is the golden output register values (for output_changed).
  InjectionResult run_dense(const std::vector<int32_t>& golden_input, const std::vector<int32_t>& golden_output,
                            const FaultSet& faults, std::vector<int32_t>* logits = nullptr) const;
  /// Faults per inference from which campaigns take run_dense (see kDenseFaults).
  int64_t dense_threshold() const { return dense_threshold_; }
  void set_dense_threshold(int64_t n) { dense_threshold_ = n; }

  /// Reference: full re-run with per-MAC simulation; returns the faulty output register values.
  /// If `trace` is given it receives every faulty register value.
  std::vector<int32_t> run_reference(const engine::Trace& golden, const FaultSet& faults,
                                     engine::Trace* trace = nullptr) const;

  /// Throws ValidationError naming the first fault that does not fit the network and array: a transient
  /// on a layer that is not a compute layer, coordinates (g, m, n, k, span_end) outside the layer's GEMM,
  /// a permanent fault outside the R x C array, or a bit outside the site's register. run(), run_dense()
  /// and run_reference() call it: an out-of-range fault would otherwise be dropped or read past buffers.
  void validate(const FaultSet& faults) const;

  /// Width in bits of a site's register (A, P, W or A).
  int register_bits(Site s) const;
  const Shield& shield() const { return shield_; }
  const engine::IntegerEngine& engine() const { return e_; }
  const accel::Mapping& mapping() const { return mp_; }

 private:
  struct LayerFaults;
  struct Work;
  /// Faults of layer l that act inside MAC chains (acc/weight/input) or on outputs (neuron).
  LayerFaults collect(size_t l, const FaultSet& f) const;
  int32_t simulate_chain(size_t l, const std::vector<int32_t>& input, int64_t g, int64_t m, int64_t n,
                         const LayerFaults& lf) const;
  int32_t apply_output_faults(size_t l, int64_t g, int64_t m, int64_t n, int32_t q, const LayerFaults& lf) const;
  void mac_fault_targets(size_t l, const LayerFaults& lf, std::vector<int32_t>& out) const;
  void output_fault_targets(size_t l, const LayerFaults& lf, std::vector<int32_t>& out) const;
  /// The fast path through a compute layer with no faults of its own and a few changed inputs: deltas over
  /// the window of outputs they reach. False (nothing done) when that window would be mostly unchanged.
  bool propagate_window(size_t l, const engine::Trace& golden, Work& w) const;
  bool chain_hit(size_t l, const LayerFaults& lf, int64_t g, int64_t m, int64_t n) const;
  int32_t raw_input(size_t l, const std::vector<int32_t>& input, int64_t g, int64_t m, int64_t k) const;
  /// The dense loop from layer `first` on: `t` holds every value layers >= first read but do not write.
  InjectionResult dense_from(size_t first, engine::Trace& t, const std::vector<int32_t>& golden_output,
                             const FaultSet& faults, std::vector<int32_t>* logits) const;

  const engine::IntegerEngine& e_;
  const accel::Mapping& mp_;
  Shield shield_;
  int64_t dense_threshold_;
  /// Per layer: cost of one changed input on the sparse path and of the whole layer on the dense path
  /// (in dense MACs or elements); values a dense re-run from that layer starts from.
  std::vector<int64_t> sparse_cost_, dense_cost_;
  /// Gemm layers' weights transposed, [in][out]: a changed input's fan-out is one contiguous row.
  std::vector<std::vector<int32_t>> gemm_wt_;
  std::vector<std::vector<int>> live_in_;
};

/// Crossover between the incremental and the dense path, in faults per inference, measured with
/// bench/inject_bench BM_Path (LeNet-5, neuron site, 1 thread, int8 kernels on AVX-512 VNNI): per trial
/// the incremental path took 9.2 / 15.7 / 25.6 / 42.2 us at 1 / 2 / 4 / 8 faults, the dense path
/// 14.1-14.9 us whatever the count up to 8. Past one fault nearly every fault propagates through the rest
/// of the network, and a full re-run on the int8 kernels is cheaper than tracking sparse deltas.
constexpr int64_t kDenseFaults = 2;

}  // namespace ftdla::fault
