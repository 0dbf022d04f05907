// SPDX-License-Identifier: MIT
// Fault models on the PE array's registers (see accel/mapping.hpp for which PE holds what).
//
// Sites: the output neuron register (A bits, default), the partial-sum/accumulator register (P bits),
// the weight register (W bits) and the input activation register (A bits). Bit 0 is the LSB.
// A transient fault flips one bit of one register value once; a permanent fault forces one bit of one
// PE's register to 0 or 1 for every value that passes through it, in every layer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ftdla::fault {

enum class Site { Neuron, Acc, Weight, Input };

/// "neuron" | "acc" | "weight" | "input".
const char* site_name(Site s);
/// Throws ConfigError listing the accepted names.
Site parse_site(const std::string& s);

/// One transient bit flip. (g, m, n, k) is the first MAC whose operand is corrupted (n within the group);
/// corrupted values travel through the array, so a weight flip corrupts MACs (m', n, k) for m' in
/// [m, span_end) and an input flip corrupts MACs (m, n', k) for n' in [n, span_end).
/// Neuron: output (m, n) of group g flipped (k unused). Acc: the partial sum of (m, n) flipped right after
/// term k was added.
struct TransientFault {
  Site site = Site::Neuron;
  size_t layer = 0;  ///< QGraph layer index (a compute layer)
  int64_t g = 0, m = 0, n = 0, k = 0;
  int64_t span_end = 0;
  int bit = 0;
};

/// Bit `bit` of register `site` in PE(r, c) stuck at `value`.
struct PermanentFault {
  Site site = Site::Neuron;
  int r = 0, c = 0;
  int bit = 0;
  bool value = false;
};

struct FaultSet {
  std::vector<TransientFault> transients;
  std::vector<PermanentFault> permanents;
  bool empty() const { return transients.empty() && permanents.empty(); }
};

/// What masks faults at injection time (built by protect/ from a protection plan).
/// All default to "no protection".
struct Shield {
  /// Per QGraph layer index: 1 for output channels computed on the TMR-protected unit (any fault in their
  /// computation is masked, and permanent array faults do not reach them). Empty = none protected.
  std::vector<std::vector<char>> protected_channels;
  /// Top h bits of the live value of each output neuron register are hardened: flips there are masked.
  /// The live value is k bits wide under a range constraint with the corrector on, else A bits.
  int harden_bits = 0;
  /// The physical positions the PEs harden (bit b set = bit b is three flops and a voter), the union of
  /// every layer's top-h live bits; when non-zero it replaces the per-layer rule above, so that a layer
  /// also profits from positions hardened for another layer's k, as the circuit does.
  uint64_t harden_mask = 0;
  /// Range corrector at each PE output: bits >= k of the output register are restored from bit k-1
  /// (sign extension) or to 0 (unsigned), so any fault there is corrected.
  bool range_corrector = false;
  /// Whole array triplicated: every fault in the array is masked.
  bool full_tmr = false;

  bool channel_protected(size_t layer, int64_t oc) const {
    return layer < protected_channels.size() && !protected_channels[layer].empty() && protected_channels[layer][oc];
  }
};

/// What a Shield does to one layer's output-register faults: the single statement of the rule that both the
/// injector and the RTL co-simulation (tests/cost/cosim_test.cpp) check against.
struct OutputShield {
  int bits = 8;             ///< A: register width
  int live = 8;             ///< live width: k under a range constraint with the corrector, else A
  uint64_t hard_mask = 0;   ///< hardened bits (three flops + voter): flips there are masked
  bool corrector = false;   ///< bits >= k are restored (sign extension from bit k-1, or cleared)
  bool is_signed = false;

  bool hardened(int bit) const { return bit >= 0 && bit < 64 && ((hard_mask >> bit) & 1) != 0; }
  /// The register value after the corrector (identity without one); `v` sign-extended or not per is_signed.
  int64_t correct(int64_t v) const;
  /// `v` with bit `bit` flipped in one flop (one TMR copy of a hardened bit), then read through the voter
  /// and the corrector.
  int64_t flip(int64_t v, int bit) const;
};

/// The OutputShield of a layer whose output register is `bits` wide with effective range `k` bits.
OutputShield output_shield(const Shield& s, int bits, int k, bool is_signed);

}  // namespace ftdla::fault
