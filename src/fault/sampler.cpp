// SPDX-License-Identifier: MIT
#include "ftdla/fault/sampler.hpp"

#include <algorithm>
#include <cmath>

#include "ftdla/core/error.hpp"

namespace ftdla::fault {

const char* site_name(Site s) {
  switch (s) {
    case Site::Neuron: return "neuron";
    case Site::Acc: return "acc";
    case Site::Weight: return "weight";
    case Site::Input: return "input";
  }
  return "?";
}

Site parse_site(const std::string& s) {
  if (s == "neuron") return Site::Neuron;
  if (s == "acc") return Site::Acc;
  if (s == "weight") return Site::Weight;
  if (s == "input") return Site::Input;
  throw ConfigError("fault.site: unknown site '" + s + "' (expected neuron, acc, weight or input)");
}

FaultSampler::FaultSampler(const quant::QGraph& q, const accel::Mapping& mp, Site site) : mp_(mp), site_(site) {
  const auto& o = q.options;
  bits_ = site == Site::Acc ? o.accbits : site == Site::Weight ? o.wbits : o.abits;
  const bool ws = mp.spec.dataflow == accel::Dataflow::WeightStationary;
  for (const auto& lm : mp.layers) {
    const auto& d = lm.dims;
    int64_t v = 0;
    if (site == Site::Neuron) v = d.groups * d.n * d.m;
    else if (site == Site::Weight && ws) v = d.groups * d.n * d.k;
    else v = lm.macs;
    values_.push_back(v);
    total_ += v;
    cumulative_.push_back(total_);
  }
  if (total_ == 0) throw ValidationError("fault sampler: the model has no compute layer to inject into");
}

TransientFault FaultSampler::decode(size_t pos, int64_t u, Rng& rng, int bit) const {
  const accel::LayerMapping& lm = mp_.layers[pos];
  const auto& d = lm.dims;
  const bool ws = mp_.spec.dataflow == accel::Dataflow::WeightStationary;
  const int64_t R = mp_.spec.rows, C = mp_.spec.cols;
  TransientFault f;
  f.site = site_;
  f.layer = lm.layer;
  f.bit = bit >= 0 ? bit : static_cast<int>(rng.below(static_cast<uint64_t>(bits_)));
  if (site_ == Site::Neuron) {
    const int64_t oc = u / d.m;
    f.m = u % d.m;
    f.g = oc / d.n;
    f.n = oc % d.n;
    return f;
  }
  if (site_ == Site::Weight && ws) {
    // Stationary weight (g, n, k), flipped at a uniform time while the M pixels stream through.
    f.k = u % d.k;
    const int64_t gn = u / d.k;
    f.n = gn % d.n;
    f.g = gn / d.n;
    f.m = static_cast<int64_t>(rng.below(static_cast<uint64_t>(d.m)));
    f.span_end = d.m;
    return f;
  }
  // One MAC (g, n, m, k): u = ((g * N + n) * M + m) * K + k.
  f.k = u % d.k;
  f.m = (u / d.k) % d.m;
  const int64_t gn = u / (d.k * d.m);
  f.n = gn % d.n;
  f.g = gn / d.n;
  if (site_ == Site::Weight) f.span_end = std::min(d.m, (f.m / R) * R + R);  // OS: flows down to the tile's last row
  if (site_ == Site::Input) f.span_end = std::min(d.n, (f.n / C) * C + C);   // flows right to the tile's last column
  return f;
}

TransientFault FaultSampler::sample(Rng& rng) const {
  const int64_t u = static_cast<int64_t>(rng.below(static_cast<uint64_t>(total_)));
  const size_t pos = static_cast<size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
  return decode(pos, u - (pos ? cumulative_[pos - 1] : 0), rng, -1);
}

TransientFault FaultSampler::sample_in_layer(Rng& rng, size_t pos, int bit) const {
  return decode(pos, static_cast<int64_t>(rng.below(static_cast<uint64_t>(values_.at(pos)))), rng, bit);
}

TransientFault FaultSampler::sample_in_channel(Rng& rng, size_t pos, int64_t oc, int bit) const {
  FTDLA_ASSERT(site_ == Site::Neuron);
  const auto& d = mp_.layers.at(pos).dims;
  return decode(pos, oc * d.m + static_cast<int64_t>(rng.below(static_cast<uint64_t>(d.m))), rng, bit);
}

PermanentFault FaultSampler::sample_permanent(Rng& rng, bool value) const {
  PermanentFault p;
  p.site = site_;
  p.r = static_cast<int>(rng.below(static_cast<uint64_t>(mp_.spec.rows)));
  p.c = static_cast<int>(rng.below(static_cast<uint64_t>(mp_.spec.cols)));
  p.bit = static_cast<int>(rng.below(static_cast<uint64_t>(bits_)));
  p.value = value;
  return p;
}

int64_t draw_fault_count(Rng& rng, double bits, double ber) {
  if (ber <= 0.0 || bits <= 0.0) return 0;
  if (ber >= 1.0) return static_cast<int64_t>(bits);
  const double mean = bits * ber;
  if (mean > 500.0) {  // exp(-mean) would underflow the inversion below
    const double sd = std::sqrt(mean * (1.0 - ber));
    return std::max<int64_t>(0, static_cast<int64_t>(std::floor(mean + sd * rng.normal() + 0.5)));
  }
  // Inversion with the Poisson-binomial recurrence P(k+1) = P(k) * (n-k)/(k+1) * p/(1-p).
  const double u = rng.uniform();
  const double ratio = ber / (1.0 - ber);
  double pk = std::exp(bits * std::log1p(-ber));
  double cdf = pk;
  int64_t k = 0;
  while (u > cdf && k < static_cast<int64_t>(bits)) {
    pk *= (bits - static_cast<double>(k)) / static_cast<double>(k + 1) * ratio;
    ++k;
    cdf += pk;
    if (pk < 1e-300 && static_cast<double>(k) > mean) break;
  }
  return k;
}

}  // namespace ftdla::fault
