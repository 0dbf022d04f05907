// SPDX-License-Identifier: MIT
// Uniform sampling of fault sites over the register values a site exposes in one inference.
// Exposures (register values written per inference): neuron = outputs; acc = MACs (one partial sum per
// MAC); input = MACs (an activation in a PE's input register per MAC); weight = MACs for OS, and for WS
// one stationary weight per (group, n, k) whose flip happens at a uniform time during the M streamed
// pixels. The BER is the probability that one bit of one exposed value flips.
#pragma once
#include <cstdint>
#include <vector>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/fault/fault.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::fault {

class FaultSampler {
 public:
  FaultSampler(const quant::QGraph& q, const accel::Mapping& mp, Site site);
  Site site() const { return site_; }
  int bits() const { return bits_; }
  /// Exposed register values per inference, per compute layer (Mapping order) and in total.
  const std::vector<int64_t>& layer_values() const { return values_; }
  int64_t total_values() const { return total_; }
  /// Exposed register bits per inference (values x bits).
  double exposed_bits() const { return static_cast<double>(total_) * bits_; }
  /// A transient fault uniform over all exposed bits.
  TransientFault sample(Rng& rng) const;
  /// A transient fault uniform over the values of compute layer `pos` (Mapping order); bit -1 = uniform.
  TransientFault sample_in_layer(Rng& rng, size_t pos, int bit = -1) const;
  /// A transient fault in output channel `oc` of layer `pos` (neuron site), uniform pixel; bit -1 = uniform.
  TransientFault sample_in_channel(Rng& rng, size_t pos, int64_t oc, int bit = -1) const;
  /// A permanent stuck-at fault in a uniformly chosen PE and bit of this site's register.
  PermanentFault sample_permanent(Rng& rng, bool value) const;

 private:
  TransientFault decode(size_t pos, int64_t u, Rng& rng, int bit) const;
  const accel::Mapping& mp_;
  Site site_;
  int bits_ = 0;
  std::vector<int64_t> values_;
  std::vector<int64_t> cumulative_;
  int64_t total_ = 0;
};

/// Number of faults in one inference at bit error rate `ber` over `bits` exposed bits: Binomial(bits, ber),
/// drawn by inversion for means up to 500 and by a normal approximation (rounded) above.
int64_t draw_fault_count(Rng& rng, double bits, double ber);

}  // namespace ftdla::fault
