// SPDX-License-Identifier: MIT
#include "ftdla/protect/plan.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

#include "ftdla/core/error.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::protect {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string layer_names(const accel::Mapping& mp) {
  std::string s;
  for (const auto& lm : mp.layers) s += (s.empty() ? "" : ", ") + lm.name;
  return s;
}

// The design, the quantized graph and the mapping must describe the same network and accelerator.
void check_consistent(const DesignPoint& d, const quant::QGraph& q, const accel::Mapping& mp) {
  const auto& o = q.options;
  if (o.wbits != d.accel.wbits || o.abits != d.accel.abits || o.accbits != d.accel.accbits)
    throw ValidationError("make_plan: the network was quantized with W" + std::to_string(o.wbits) + "/A" +
                          std::to_string(o.abits) + "/P" + std::to_string(o.accbits) + " but design.accel has W" +
                          std::to_string(d.accel.wbits) + "/A" + std::to_string(d.accel.abits) + "/P" +
                          std::to_string(d.accel.accbits) + " (quantize with to_quant_options(design))");
  if (mp.spec.rows != d.accel.rows || mp.spec.cols != d.accel.cols || mp.spec.dataflow != d.accel.dataflow)
    throw ValidationError("make_plan: the mapping is for a " + std::to_string(mp.spec.rows) + "x" +
                          std::to_string(mp.spec.cols) + " " + accel::dataflow_name(mp.spec.dataflow) +
                          " array but design.accel is " + std::to_string(d.accel.rows) + "x" +
                          std::to_string(d.accel.cols) + " " + accel::dataflow_name(d.accel.dataflow) +
                          " (map with to_array_spec(design))");
  const auto compute = q.compute_layers();
  bool same = compute.size() == mp.layers.size();
  for (std::size_t i = 0; same && i < compute.size(); ++i) same = compute[i] == mp.layers[i].layer;
  if (!same) throw ValidationError("make_plan: the mapping was not built from this network (map_network(q, spec))");
  for (const auto& entry : d.k_per_layer) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 cannot capture one
    const bool found = std::any_of(mp.layers.begin(), mp.layers.end(), [&](const auto& lm) { return lm.name == name; });
    if (!found)
      throw ConfigError("design.k_per_layer." + excerpt(name) + ": no compute layer named '" + excerpt(name) + "' (compute layers: " +
                        layer_names(mp) + ")");
  }
  if (d.preset != Preset::None) return;  // presets carry no k; their cost and shield do not depend on it
  const quant::QuantOptions want = to_quant_options(d, o);
  for (const auto& lm : mp.layers) {
    const int have = o.effective_bits(lm.name), need = want.effective_bits(lm.name);
    if (have != need)
      throw ValidationError("make_plan: layer '" + lm.name + "' was quantized with k = " + std::to_string(have) +
                            " effective bits but the design asks for " + std::to_string(need) +
                            " (quantize with to_quant_options(design))");
  }
}

struct Candidate {
  std::size_t pos;  // index into plan.layers (Mapping order)
  int64_t channel;
  double vf;
  int64_t macs;
};

}  // namespace

double ProtectionPlan::protected_fraction() const {
  return total_macs > 0 ? static_cast<double>(protected_macs) / static_cast<double>(total_macs) : 0.0;
}

uint64_t ProtectionPlan::hardened_register_mask() const {
  const int h = design.harden_bits;
  if (h <= 0 || layers.empty()) return 0;
  const int a = layers.front().register_bits;
  uint64_t mask = 0;
  for (const auto& lp : layers)
    for (int b = std::max(0, lp.live_bits - h); b < lp.live_bits && b < a; ++b) mask |= uint64_t{1} << b;
  return mask;
}

int ProtectionPlan::hardened_register_bits() const { return std::popcount(hardened_register_mask()); }

ProtectionPlan make_plan(const DesignPoint& d, const quant::QGraph& q, const accel::Mapping& mp,
                         const std::vector<ChannelScore>& scores) {
  d.validate();
  check_consistent(d, q, mp);
  ProtectionPlan plan;
  plan.design = d;
  plan.qgraph_layers = q.layers.size();
  plan.total_macs = mp.total_macs;
  std::map<std::size_t, std::size_t> pos_of;  // QGraph index -> position in plan.layers
  for (const auto& lm : mp.layers) {
    LayerPlan lp;
    lp.layer = lm.layer;
    lp.name = lm.name;
    lp.protected_channels.assign(static_cast<std::size_t>(lm.dims.groups * lm.dims.n), 0);
    lp.macs_per_channel = lm.dims.m * lm.dims.k;
    const quant::Encoding& e = q.enc[q.layers[lm.layer].output];
    lp.register_bits = e.bits;
    lp.is_signed = e.is_signed;
    lp.range_constrained = d.preset == Preset::None && e.eff_bits < e.bits;
    lp.live_bits = lp.range_constrained ? e.eff_bits : e.bits;
    plan.range_corrector |= lp.range_constrained;
    pos_of[lm.layer] = plan.layers.size();
    plan.layers.push_back(std::move(lp));
  }

  if (d.preset == Preset::None && d.mode == ProtectMode::Channels) {
    for (std::size_t i = 0; i < d.channels.size(); ++i) {
      const ChannelList& cl = d.channels[i];
      const std::string at = "design.protected[" + std::to_string(i) + "]";
      const auto it = std::find_if(plan.layers.begin(), plan.layers.end(), [&](const LayerPlan& lp) { return lp.name == cl.layer; });
      if (it == plan.layers.end())
        throw ConfigError(at + ".layer: no compute layer named '" + excerpt(cl.layer) + "' (compute layers: " + layer_names(mp) + ")");
      const auto n = static_cast<int64_t>(it->protected_channels.size());
      for (std::size_t c = 0; c < cl.channels.size(); ++c) {
        const int64_t ch = cl.channels[c];
        if (ch < 0 || ch >= n)
          throw ConfigError(at + ".channels[" + std::to_string(c) + "]: channel " + std::to_string(ch) +
                            " out of range for layer '" + cl.layer + "' (got " + std::to_string(ch) + ", expected [0, " +
                            std::to_string(n - 1) + "])");
        it->protected_channels[static_cast<std::size_t>(ch)] = 1;
      }
    }
  }

  // Scores are validated whatever the mode, so that a bad vulnerability table never passes silently.
  std::vector<std::vector<double>> vf(plan.layers.size());
  std::vector<std::vector<char>> scored(plan.layers.size());
  for (std::size_t p = 0; p < plan.layers.size(); ++p) {
    vf[p].assign(plan.layers[p].protected_channels.size(), 0.0);
    scored[p].assign(plan.layers[p].protected_channels.size(), 0);
  }
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const ChannelScore& s = scores[i];
    const std::string at = "make_plan: scores[" + std::to_string(i) + "]";
    const auto it = pos_of.find(s.layer);
    if (it == pos_of.end())
      throw ValidationError(at + ".layer: QGraph layer " + std::to_string(s.layer) + " is not a compute layer");
    const std::size_t p = it->second;
    const auto n = static_cast<int64_t>(vf[p].size());
    if (s.channel < 0 || s.channel >= n)
      throw ValidationError(at + ".channel: " + std::to_string(s.channel) + " out of range for layer '" +
                            plan.layers[p].name + "' (expected [0, " + std::to_string(n - 1) + "])");
    if (!std::isfinite(s.vf) || s.vf < 0.0)
      throw ValidationError(at + ".vf: must be finite and >= 0 (got " + std::to_string(s.vf) + ")");
    auto& seen = scored[p][static_cast<std::size_t>(s.channel)];
    if (seen)
      throw ValidationError(at + ": duplicate score for layer '" + plan.layers[p].name + "' channel " +
                            std::to_string(s.channel));
    seen = 1;
    vf[p][static_cast<std::size_t>(s.channel)] = s.vf;
  }

  if (d.preset == Preset::None && d.mode == ProtectMode::Fraction && d.fraction > 0.0) {
    std::vector<Candidate> cand;
    for (std::size_t p = 0; p < plan.layers.size(); ++p)
      for (std::size_t c = 0; c < vf[p].size(); ++c)
        cand.push_back({p, static_cast<int64_t>(c), vf[p][c], plan.layers[p].macs_per_channel});
    // Decreasing vf / macs, compared exactly as vf_a * macs_b vs vf_b * macs_a (macs > 0); then the
    // documented tie-breakers. A strict weak order, so the result does not depend on the sort algorithm.
    std::sort(cand.begin(), cand.end(), [](const Candidate& a, const Candidate& b) {
      const double ra = a.vf * static_cast<double>(b.macs), rb = b.vf * static_cast<double>(a.macs);
      if (ra != rb) return ra > rb;
      if (a.vf != b.vf) return a.vf > b.vf;
      if (a.macs != b.macs) return a.macs < b.macs;
      if (a.pos != b.pos) return a.pos < b.pos;
      return a.channel < b.channel;
    });
    const double target = d.fraction * static_cast<double>(plan.total_macs);
    int64_t taken = 0;
    for (const Candidate& c : cand) {
      if (static_cast<double>(taken) >= target) break;
      plan.layers[c.pos].protected_channels[static_cast<std::size_t>(c.channel)] = 1;
      taken += c.macs;
    }
  }

  for (auto& lp : plan.layers) {
    lp.protected_count = std::count(lp.protected_channels.begin(), lp.protected_channels.end(), 1);
    lp.protected_macs = lp.protected_count * lp.macs_per_channel;
    plan.protected_macs += lp.protected_macs;
  }
  return plan;
}

fault::Shield to_shield(const ProtectionPlan& plan) {
  fault::Shield s;
  if (plan.full_tmr()) {
    s.full_tmr = true;
    return s;
  }
  if (plan.protected_macs > 0) {
    s.protected_channels.resize(plan.qgraph_layers);
    for (const auto& lp : plan.layers)
      if (lp.protected_count > 0) s.protected_channels.at(lp.layer) = lp.protected_channels;
  }
  s.harden_bits = plan.harden_bits();
  s.harden_mask = plan.hardened_register_mask();
  s.range_corrector = plan.range_corrector;
  return s;
}

LatencyReport hybrid_latency(const ProtectionPlan& plan, const accel::Mapping& mp) {
  FTDLA_ASSERT(plan.layers.size() == mp.layers.size());
  LatencyReport r;
  for (std::size_t p = 0; p < mp.layers.size(); ++p) {
    const accel::LayerMapping& lm = mp.layers[p];
    const LayerPlan& lp = plan.layers[p];
    FTDLA_ASSERT(lp.layer == lm.layer);
    LayerLatency ll;
    ll.layer = lm.layer;
    if (plan.full_tmr() || lp.protected_count == 0) {
      ll.array_cycles = lm.cycles;
    } else {
      FTDLA_ASSERT(plan.lanes() >= 1);
      const model::GemmDims& dm = lm.dims;
      for (int64_t g = 0; g < dm.groups; ++g) {
        const auto first = lp.protected_channels.begin() + g * dm.n;
        const int64_t prot = std::count(first, first + dm.n, 1);
        model::GemmDims gd = dm;
        gd.groups = 1;
        gd.n = dm.n - prot;
        ll.array_cycles += accel::gemm_cycles(mp.spec, gd);  // 0 when every channel of the group is protected
      }
      ll.unit_cycles = ceil_div(lp.protected_macs, plan.lanes());
    }
    ll.cycles = std::max(ll.array_cycles, ll.unit_cycles);
    r.total_cycles += ll.cycles;
    r.unit_bound_layers += ll.unit_bound() ? 1 : 0;
    r.layers.push_back(ll);
  }
  return r;
}

}  // namespace ftdla::protect
