// SPDX-License-Identifier: MIT
#include "ftdla/cost/synth_cost.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/cost/rtl.hpp"

namespace ftdla::cost {
namespace {

// Running per-bit statistics of a stream of `width`-bit register patterns.
struct BitStats {
  double toggles = 0, ones = 0, pairs = 0, values = 0;
  void add_pair(int64_t prev, int64_t cur, int width) {
    const uint64_t m = low_mask(width);
    toggles += std::popcount((static_cast<uint64_t>(prev) ^ static_cast<uint64_t>(cur)) & m);
    pairs += 1;
  }
  void add_value(int64_t v, int width) {
    ones += std::popcount(static_cast<uint64_t>(v) & low_mask(width));
    values += 1;
  }
  // Folds this stream's per-bit rates into `p`, a running average weighted by `w` (`weight_sum` so far).
  void into(PortActivity& p, double& weight_sum, double w, int width, double rate) const {
    if (pairs == 0 || values == 0 || w <= 0) return;
    const double act = toggles / pairs / width * rate;
    const double duty = ones / values / width;
    p.activity = (p.activity * weight_sum + act * w) / (weight_sum + w);
    p.duty = (p.duty * weight_sum + duty * w) / (weight_sum + w);
    weight_sum += w;
  }
};

}  // namespace

OperandActivity measure_operand_activity(const quant::QGraph& q, const accel::Mapping& mp,
                                         const std::vector<engine::Trace>& traces) {
  OperandActivity out;
  const int a = q.options.abits, w = q.options.wbits, p = q.options.accbits;
  double wx = 0, ww = 0, wp = 0, wo = 0;
  double total_macs = 0, total_outputs = 0, total_weights = 0;
  for (const accel::LayerMapping& lm : mp.layers) {
    const quant::QLayer& L = q.layers.at(lm.layer);
    const double macs = static_cast<double>(lm.macs);
    const model::GemmDims& d = lm.dims;
    BitStats xs, ps, ws, os;
    for (const engine::Trace& t : traces) {
      const std::vector<int32_t>& in = t.values.at(static_cast<std::size_t>(L.inputs.at(0)));
      const auto& shape = q.graph.values.at(static_cast<std::size_t>(L.inputs.at(0))).shape;
      // NCHW: consecutive pixels of one channel are adjacent; a 2-D input ([N, F]) is one stream.
      const int64_t pixels = shape.size() == 4 ? shape[2] * shape[3] : 1;
      for (std::size_t i = 0; i < in.size(); ++i) {
        xs.add_value(in[i], a);
        if (pixels > 1 && i % static_cast<std::size_t>(pixels) != 0) xs.add_pair(in[i - 1], in[i], a);
      }
      if (pixels == 1)
        for (std::size_t i = 1; i < in.size(); ++i) xs.add_pair(in[i - 1], in[i], a);
      const std::vector<int32_t>& acc = t.acc.at(lm.layer);
      const int64_t m = std::max<int64_t>(1, d.m);
      for (std::size_t i = 0; i < acc.size(); ++i) {
        ps.add_value(acc[i], p);
        if (i % static_cast<std::size_t>(m) != 0) ps.add_pair(acc[i - 1], acc[i], p);
      }
      const std::vector<int32_t>& o = t.values.at(static_cast<std::size_t>(L.output));
      for (std::size_t i = 0; i < o.size(); ++i) {
        os.add_value(o[i], a);
        if (i > 0) os.add_pair(o[i - 1], o[i], a);
      }
    }
    for (std::size_t i = 0; i < L.weight.size(); ++i) {
      ws.add_value(L.weight[i], w);
      if (i > 0) ws.add_pair(L.weight[i - 1], L.weight[i], w);
    }
    if (traces.empty() && ws.pairs == 0) continue;
    const double outputs = static_cast<double>(d.groups * d.n * d.m);
    const double weights = static_cast<double>(L.weight.size());
    xs.into(out.x_in, wx, macs, a, 1.0);
    ps.into(out.psum_in, wp, macs, p, 1.0);
    // A PE sees a new weight once per tile, i.e. weights/MACs of its cycles; an output once per K MACs.
    ws.into(out.w_in, ww, macs, w, macs > 0 ? weights / macs : 0.0);
    os.into(out.out_d, wo, macs, a, macs > 0 ? outputs / macs : 0.0);
    total_macs += macs;
    total_outputs += outputs;
    total_weights += weights;
    out.samples += static_cast<int64_t>(xs.pairs + ps.pairs);
  }
  if (total_macs > 0) {
    // A load strobe toggles twice per load (up, down).
    out.load_w.activity = std::min(2.0, 2.0 * total_weights / total_macs);
    out.load_w.duty = std::min(1.0, total_weights / total_macs);
    out.load_out.activity = std::min(2.0, 2.0 * total_outputs / total_macs);
    out.load_out.duty = std::min(1.0, total_outputs / total_macs);
  }
  return out;
}

OperandActivity measure_operand_activity(const engine::IntegerEngine& e, const accel::Mapping& mp,
                                         const data::Dataset& images) {
  const int64_t n = std::min<int64_t>(kOperandActivityImages, images.count());
  std::vector<engine::Trace> traces(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) e.run(images.image(i), traces[static_cast<std::size_t>(i)]);
  return measure_operand_activity(e.qgraph(), mp, traces);
}

accel::PeConfig pe_variant(const protect::ProtectionPlan& plan, const quant::QGraph& q) {
  accel::PeConfig c;
  c.wbits = plan.design.accel.wbits;
  c.abits = plan.design.accel.abits;
  c.accbits = plan.design.accel.accbits;
  for (const auto& lp : plan.layers) {
    const quant::QLayer& L = q.layers.at(lp.layer);
    c.x_signed |= q.enc.at(static_cast<std::size_t>(L.inputs.at(0))).is_signed;
  }
  int global_k = -1;
  bool one_k = true;
  for (const auto& lp : plan.layers) {
    if (lp.range_constrained) {
      c.corrector_signed |= lp.is_signed;
      if (global_k < 0) global_k = lp.live_bits;
      one_k &= global_k == lp.live_bits;
    }
  }
  c.corrector = plan.range_corrector;
  // One k for every constrained layer, and no unconstrained layer that needs the full width: k is wiring.
  bool all_constrained = true;
  for (const auto& lp : plan.layers) all_constrained &= lp.range_constrained;
  if (c.corrector && one_k && all_constrained && global_k > 0) c.fixed_k = global_k;
  c.harden_out_mask = plan.hardened_register_mask() & low_mask(c.abits);
  c.harden_out_bits = std::popcount(c.harden_out_mask);
  return c;
}

SynthesizedCostModel::SynthesizedCostModel(SynthesisTools tools) : tools_(std::move(tools)) {
  tools_.require_present();
}

SynthesisResult SynthesizedCostModel::block(const std::string& verilog, const std::string& top,
                                            const std::vector<PortActivity>& activity) const {
  const std::lock_guard<std::mutex> lock(mu_);
  std::string memo_key = top + "\n" + verilog;
  for (const auto& a : activity) memo_key += "\n" + a.port + std::to_string(a.activity) + "/" + std::to_string(a.duty);
  if (auto it = memo_.find(memo_key); it != memo_.end()) return it->second;
  SynthesisResult r = synthesize(verilog, top, tools_, activity);
  memo_.emplace(memo_key, r);
  return r;
}

CostReport SynthesizedCostModel::evaluate(const protect::ProtectionPlan& plan, const quant::QGraph& q,
                                          const accel::Mapping& mp, const OperandActivity& activity) const {
  FTDLA_ASSERT(plan.qgraph_layers == q.layers.size());
  FTDLA_ASSERT(plan.layers.size() == mp.layers.size());
  const protect::AccelPoint& ap = plan.design.accel;
  const double pes = static_cast<double>(mp.spec.rows) * mp.spec.cols;
  const double cols = mp.spec.cols;

  const accel::PeConfig variant = pe_variant(plan, q);
  const accel::PeConfig plain = unprotected_config(variant);
  accel::PeConfig hardened = variant;
  hardened.corrector = false;
  hardened.corrector_signed = false;
  hardened.fixed_k = 0;
  const auto pe_block = [&](const accel::PeConfig& c) {
    return block(generate_pe_verilog(c, "ftdla_pe") + generate_pe_synth_top(c), "ftdla_pe_synth", activity.ports());
  };
  const SynthesisResult pe_plain = pe_block(plain);
  const SynthesisResult pe_hard = pe_block(hardened);
  const SynthesisResult pe_full = pe_block(variant);
  bool out_signed = false;
  for (const auto& lp : plan.layers) out_signed |= lp.is_signed;
  const SynthesisResult requant =
      block(generate_requantizer_verilog(ap.accbits, ap.abits, out_signed), "ftdla_requantizer");
  const SynthesisResult out_voter = block(generate_voter_verilog(ap.abits), "ftdla_voter");

  CostReport r;
  r.cost_source = tools_.cost_source();
  AreaBreakdown& ar = r.area_breakdown;
  EnergyBreakdown& en = r.energy_breakdown;
  ar.array_pes_um2 = pes * pe_plain.area_um2;
  // Differences of synthesized variants, so the three sum to R·C full variants exactly. The corrector's can be
  // negative: with one fixed k the output bits >= k are constant and synthesis removes their flops.
  ar.hardened_bits_um2 = pes * (pe_hard.area_um2 - pe_plain.area_um2);
  ar.range_correctors_um2 = pes * (pe_full.area_um2 - pe_hard.area_um2);
  ar.requantizers_um2 = cols * requant.area_um2;
  r.pe_area_um2 = pe_full.area_um2;

  // Work split and memory traffic.
  const bool ws = mp.spec.dataflow == accel::Dataflow::WeightStationary;
  double array_macs = 0, array_outputs = 0, prot_macs = 0, prot_outputs = 0;
  double sram_bits = 0, dram_bits = 0;
  for (std::size_t i = 0; i < mp.layers.size(); ++i) {
    const accel::LayerMapping& lm = mp.layers[i];
    const protect::LayerPlan& lp = plan.layers[i];
    const model::GemmDims& d = lm.dims;
    const double channels = static_cast<double>(d.groups * d.n);
    const double prot = static_cast<double>(lp.protected_count);
    const double mk = static_cast<double>(d.m) * static_cast<double>(d.k);
    array_macs += (channels - prot) * mk;
    array_outputs += (channels - prot) * static_cast<double>(d.m);
    prot_macs += prot * mk;
    prot_outputs += prot * static_cast<double>(d.m);
    const double col_tiles = std::ceil(static_cast<double>(d.n) / mp.spec.cols);
    const double row_tiles = std::ceil(static_cast<double>(d.k) / mp.spec.rows);
    const double weights = channels * static_cast<double>(d.k);
    const double inputs = static_cast<double>(d.groups) * static_cast<double>(d.m) * static_cast<double>(d.k);
    const double outputs = channels * static_cast<double>(d.m);
    // Weight-stationary: each weight read once, each input vector once per column tile, partial sums
    // written and read back between row tiles. Output-stationary re-reads the weights per pixel tile.
    const double weight_reads = ws ? weights : weights * std::ceil(static_cast<double>(d.m) / mp.spec.rows);
    sram_bits += weight_reads * ap.wbits + inputs * col_tiles * ap.abits + outputs * ap.abits +
                 2.0 * outputs * std::max(0.0, row_tiles - 1.0) * ap.accbits;
    dram_bits += weights * ap.wbits;
  }
  if (!mp.layers.empty()) {
    // The network input and output cross the chip boundary once; activations stay in the on-chip buffer.
    const model::GemmDims& first = mp.layers.front().dims;
    const model::GemmDims& last = mp.layers.back().dims;
    dram_bits += static_cast<double>(first.groups * first.m * first.k) * ap.abits +
                 static_cast<double>(last.groups * last.n * last.m) * ap.abits;
  }
  en.array_macs_pj = array_macs * pe_plain.energy_per_cycle_pj;
  en.hardened_bits_pj = array_macs * (pe_hard.energy_per_cycle_pj - pe_plain.energy_per_cycle_pj);
  en.range_corrector_pj = array_macs * (pe_full.energy_per_cycle_pj - pe_hard.energy_per_cycle_pj);
  en.requantization_pj = array_outputs * requant.energy_per_cycle_pj;
  en.sram_pj = sram_bits / 32.0 * kSramRead32bPj;
  en.dram_pj = dram_bits / 32.0 * kDramRead32bPj;

  double clock = pe_full.critical_path_ns;
  const int lanes = plan.full_tmr() ? 0 : plan.lanes();
  if (lanes > 0) {
    const SynthesisResult lane = block(generate_tmr_lane_verilog(plain), "ftdla_tmr_lane", activity.ports());
    int mask_bits = 1;
    for (const auto& lp : plan.layers) mask_bits = std::max<int>(mask_bits, static_cast<int>(lp.protected_channels.size()));
    const SynthesisResult dispatch =
        block(generate_dispatch_verilog(mask_bits, kDispatchCounterBits), "ftdla_dispatch");
    const SynthesisResult staging =
        block(generate_register_verilog(2 * (ap.abits + ap.wbits)), "ftdla_reg");
    const double nl = lanes;
    ar.hybrid_lanes_um2 = nl * lane.area_um2 + 3.0 * requant.area_um2;
    ar.hybrid_voters_um2 = out_voter.area_um2;
    ar.hybrid_dispatch_um2 = 3.0 * (dispatch.area_um2 + nl * staging.area_um2);
    en.hybrid_pj = prot_macs * (lane.energy_per_cycle_pj + 3.0 * dispatch.energy_per_cycle_pj) +
                   prot_outputs * (3.0 * requant.energy_per_cycle_pj + out_voter.energy_per_cycle_pj);
    clock = std::max(clock, lane.critical_path_ns);
  }
  if (plan.full_tmr()) {
    ar.tmr_copies_um2 = 2.0 * (ar.array_pes_um2 + ar.requantizers_um2);
    ar.tmr_voters_um2 = cols * out_voter.area_um2;
    en.tmr_copies_pj = 2.0 * (en.array_macs_pj + en.requantization_pj);
    en.tmr_voters_pj = array_outputs * out_voter.energy_per_cycle_pj;
    // The column voters sit after the requantizers' output registers, on their own path.
    clock = std::max(clock, out_voter.critical_path_ns);
  }

  r.latency = protect::hybrid_latency(plan, mp);
  r.latency_cycles = r.latency.total_cycles;
  r.clock_ns = clock;
  r.latency_ns = static_cast<double>(r.latency_cycles) * clock;
  r.area_um2 = ar.total();
  r.energy_pj = en.total();
  return r;
}

nlohmann::json to_json(const OperandActivity& a) {
  nlohmann::json ports = nlohmann::json::object();
  for (const auto& p : a.ports()) ports[p.port] = {{"activity", p.activity}, {"duty", p.duty}};
  return {{"ports", ports}, {"samples", a.samples}};
}

}  // namespace ftdla::cost
