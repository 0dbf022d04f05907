// SPDX-License-Identifier: MIT
#include "ftdla/fault/injector.hpp"

#include <algorithm>
#include <limits>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/lowering.hpp"

namespace ftdla::fault {

namespace {
/// A sparse delta MAC (scattered add + touch bookkeeping) costs about this many dense MACs on the int8
/// kernels; once a layer's changed inputs would need more delta MACs than its MACs / this, the rest of the
/// network is re-run densely.
constexpr int64_t kSparseMacCost = 32;
/// Likewise for a changed element through a pooling / elementwise layer (window walk, sort, scalar op)
/// against the same element on the vectorized dense loops.
constexpr int64_t kSparseElemCost = 16;

/// Sorted, without repeats (output indices that several faults reach are handled once).
inline void sort_unique(std::vector<int32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

/// o / m for 0 <= o < 2^31 through a double reciprocal (an integer division costs ~30 cycles on the hot
/// path), corrected to the exact quotient.
inline int64_t divide(int64_t o, int64_t m, double inv_m) {
  int64_t q = static_cast<int64_t>(static_cast<double>(o) * inv_m);
  if (q * m > o) --q;
  else if ((q + 1) * m <= o) ++q;
  return q;
}
}  // namespace

using quant::QLayer;
using quant::QOp;

struct Injector::LayerFaults {
  std::vector<const TransientFault*> mac;      // acc / weight / input transients of this layer
  std::vector<const TransientFault*> neuron;   // output register transients of this layer
  std::vector<const PermanentFault*> pmac;     // acc / weight / input permanents
  std::vector<const PermanentFault*> pneuron;  // output register permanents
  bool any() const { return !mac.empty() || !neuron.empty() || !pmac.empty() || !pneuron.empty(); }
};

/// Per-thread scratch of the fast path. Faulty values are a sparse overlay on the golden trace (entry i of
/// value v is faulty iff stamp[v][i] == epoch), so a fault costs what it changes, not a copy of every value
/// it reaches; `changed` lists the faulty entries of each value.
struct Injector::Work {
  std::vector<std::vector<int32_t>> patch;
  std::vector<std::vector<uint32_t>> stamp;
  uint32_t epoch = 0;
  std::vector<char> dirty;
  std::vector<std::vector<int32_t>> changed;
  std::vector<int64_t> delta;     // accumulator deltas of the current compute layer
  std::vector<char> touched_flag;
  std::vector<int32_t> touched;
  std::vector<char> has_override;
  std::vector<int32_t> override_acc;
  std::vector<int32_t> targets;
  std::vector<int32_t> t_acc, t_channel, t_out;  // the touched outputs' accumulators, channels, requantized values
  std::vector<uint32_t> window_delta;            // propagate_window: accumulator deltas over the output window
  std::vector<int32_t> window_group;             // its slot per group (-1: no changed input reaches the group)
  std::vector<int32_t> taps;                     // (window offset, weight index) pairs of one changed input
  std::vector<int32_t> scratch;                  // a materialized faulty value (multi-fault MAC chains)

  void reset(size_t values) {
    if (patch.size() != values) {
      patch.assign(values, {});
      stamp.assign(values, {});
      dirty.assign(values, 0);
      changed.assign(values, {});
    }
    for (size_t v = 0; v < values; ++v)
      if (dirty[v]) {
        dirty[v] = 0;
        changed[v].clear();
      }
    if (++epoch == 0) {  // 2^32 runs on this thread: old stamps could alias the new epoch
      for (auto& s : stamp) std::fill(s.begin(), s.end(), 0u);
      epoch = 1;
    }
  }
  engine::PatchedValue view(const engine::Trace& golden, int v) const {
    if (!dirty[v]) return {golden.values[v].data()};
    return {golden.values[v].data(), patch[v].data(), stamp[v].data(), epoch};
  }
  /// Value v as a dense vector: golden with the faulty entries written over it.
  void materialize(const engine::Trace& golden, int v, std::vector<int32_t>& out) const {
    out = golden.values[v];
    if (dirty[v])
      for (int32_t i : changed[v]) out[i] = patch[v][i];
  }
  /// The patch and stamps of value v, sized once per thread (older stamps never equal the current epoch).
  void size_patch(const engine::Trace& golden, int v) {
    const size_t n = golden.values[v].size();
    if (patch[v].size() != n) {
      patch[v].resize(n);
      stamp[v].assign(n, 0u);
    }
  }
  /// Record that output index i of value v now holds q (which differs from golden). Each index is set at
  /// most once per run (a value is written by one layer, which visits each output once).
  void set(const engine::Trace& golden, int v, int32_t i, int32_t q) {
    size_patch(golden, v);
    dirty[v] = 1;
    patch[v][i] = q;
    stamp[v][i] = epoch;
    changed[v].push_back(i);
  }
  /// set(v, index[j], q[j]) for each j < n where q[j] differs from golden, without a branch per output
  /// (about half of them change, at random).
  void set_where_changed(const engine::Trace& golden, int v, const int32_t* index, const int32_t* q, int64_t n) {
    const int32_t* gold = golden.values[v].data();
    size_patch(golden, v);
    std::vector<int32_t>& list = changed[v];
    const size_t start = list.size();
    list.resize(start + static_cast<size_t>(n));
    int32_t* out = list.data() + start;
    int32_t* p = patch[v].data();
    uint32_t* st = stamp[v].data();
    int64_t count = 0;
    for (int64_t j = 0; j < n; ++j) {
      const int32_t i = index[j];
      const bool differs = q[j] != gold[i];
      p[i] = q[j];  // read only where stamped
      st[i] = differs ? epoch : st[i];
      out[count] = i;
      count += differs;
    }
    list.resize(start + static_cast<size_t>(count));
    if (count > 0) dirty[v] = 1;
  }
  void touch(int32_t o) {
    if (!touched_flag[o]) {
      touched_flag[o] = 1;
      touched.push_back(o);
    }
  }
  void size_layer(size_t n) {
    if (delta.size() < n) {
      delta.assign(n, 0);
      touched_flag.assign(n, 0);
      has_override.assign(n, 0);
      override_acc.assign(n, 0);
    }
  }
  void clear_layer() {
    for (int32_t o : touched) {
      delta[o] = 0;
      touched_flag[o] = 0;
      has_override[o] = 0;
    }
    touched.clear();
  }
};

Injector::Injector(const engine::IntegerEngine& engine, const accel::Mapping& mapping, Shield shield)
    : e_(engine), mp_(mapping), shield_(std::move(shield)), dense_threshold_(kDenseFaults) {
  const auto& q = e_.qgraph();
  const size_t layers = q.layers.size();
  sparse_cost_.assign(layers, 0);
  dense_cost_.assign(layers, 0);
  live_in_.assign(layers, {});
  gemm_wt_.assign(layers, {});
  std::vector<int> producer(q.graph.values.size(), -1);  // layer that writes each value (-1: the input)
  for (size_t l = 0; l < layers; ++l) {
    const QLayer& L = q.layers[l];
    producer[L.output] = static_cast<int>(l);
    if (L.op == QOp::Compute) {
      const model::Node& node = q.graph.nodes[L.node];
      const model::GemmDims& d = mp_.of(l).dims;
      const int64_t fan = node.op == model::OpKind::Gemm ? d.n : d.n * node.window.kernel_h * node.window.kernel_w;
      sparse_cost_[l] = fan * kSparseMacCost;
      dense_cost_[l] = mp_.of(l).macs;
      if (node.op == model::OpKind::Gemm) {
        std::vector<int32_t>& wt = gemm_wt_[l];
        wt.resize(static_cast<size_t>(d.n * d.k));
        for (int64_t n = 0; n < d.n; ++n)
          for (int64_t i = 0; i < d.k; ++i) wt[i * d.n + n] = L.weight[n * d.k + i];
      }
    } else {
      sparse_cost_[l] = kSparseElemCost;
      dense_cost_[l] = numel(q.graph.values[L.output].shape);
    }
  }
  // Values a re-run from layer l reads without computing them: written before l (or the input).
  for (size_t l = 0; l < layers; ++l)
    for (size_t j = l; j < layers; ++j)
      for (int v : q.layers[j].inputs)
        if (producer[v] < static_cast<int>(l) && std::find(live_in_[l].begin(), live_in_[l].end(), v) == live_in_[l].end())
          live_in_[l].push_back(v);
}

InjectionResult Injector::run_dense(const std::vector<int32_t>& golden_input, const std::vector<int32_t>& golden_output,
                                    const FaultSet& faults, std::vector<int32_t>* logits) const {
  const auto& q = e_.qgraph();
  validate(faults);
  if (shield_.full_tmr || faults.empty()) {
    InjectionResult res;
    res.top1 = model::argmax(golden_output.data(), golden_output.size());
    if (logits) *logits = golden_output;
    return res;
  }
  thread_local engine::Trace t;
  t.values.resize(q.graph.values.size());
  t.acc.resize(q.layers.size());
  t.values[q.input] = golden_input;
  return dense_from(0, t, golden_output, faults, logits);
}

InjectionResult Injector::dense_from(size_t first, engine::Trace& t, const std::vector<int32_t>& golden_output,
                                     const FaultSet& faults, std::vector<int32_t>* logits) const {
  const auto& q = e_.qgraph();
  thread_local std::vector<int32_t> targets;
  for (size_t l = first; l < q.layers.size(); ++l) {
    const QLayer& L = q.layers[l];
    if (L.op != QOp::Compute) {
      e_.run_layer(l, t);
      continue;
    }
    const LayerFaults lf = collect(l, faults);
    const auto& input = t.values[L.inputs[0]];
    auto& acc = t.acc[l];
    auto& out = t.values[L.output];
    e_.accumulate(l, input, acc);
    e_.requantize_all(l, acc, out);
    if (!lf.any()) continue;
    const model::GemmDims& d = mp_.of(l).dims;
    // Same order as the reference: a corrupted chain's accumulator, then requantization, then output faults.
    if (!lf.mac.empty() || !lf.pmac.empty()) {
      targets.clear();
      mac_fault_targets(l, lf, targets);
      sort_unique(targets);
      for (int32_t o : targets) {
        const int64_t oc = o / d.m;
        if (shield_.channel_protected(l, oc)) continue;
        acc[o] = simulate_chain(l, input, oc / d.n, o % d.m, oc % d.n, lf);
        out[o] = e_.requantize(l, oc, acc[o]);
      }
    }
    if (!lf.pneuron.empty()) {
      targets.clear();
      output_fault_targets(l, lf, targets);
      sort_unique(targets);
      for (int32_t o : targets) {
        const int64_t oc = o / d.m;
        if (!shield_.channel_protected(l, oc)) out[o] = apply_output_faults(l, oc / d.n, o % d.m, oc % d.n, out[o], lf);
      }
    } else if (!lf.neuron.empty()) {
      // Transient flips only: group them by the register they hit (a BER campaign on a large network puts
      // thousands in a layer; scanning all of them per register would be quadratic).
      thread_local std::vector<std::pair<int32_t, const TransientFault*>> hits;
      hits.clear();
      for (const TransientFault* t : lf.neuron) hits.push_back({static_cast<int32_t>((t->g * d.n + t->n) * d.m + t->m), t});
      std::stable_sort(hits.begin(), hits.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = 0; i < hits.size();) {
        size_t j = i;
        while (j < hits.size() && hits[j].first == hits[i].first) ++j;
        const int32_t o = hits[i].first;
        const int64_t oc = o / d.m;
        if (!shield_.channel_protected(l, oc)) {
          thread_local LayerFaults group;
          group.neuron.clear();
          for (size_t k = i; k < j; ++k) group.neuron.push_back(hits[k].second);
          out[o] = apply_output_faults(l, oc / d.n, o % d.m, oc % d.n, out[o], group);
        }
        i = j;
      }
    }
  }
  InjectionResult res;
  const auto& out = t.values[q.output];
  res.output_changed = out != golden_output;
  res.top1 = model::argmax(out.data(), out.size());
  if (logits) *logits = out;
  return res;
}

int Injector::register_bits(Site s) const {
  const auto& o = e_.qgraph().options;
  switch (s) {
    case Site::Neuron:
    case Site::Input: return o.abits;
    case Site::Acc: return o.accbits;
    case Site::Weight: return o.wbits;
  }
  return 0;
}

void Injector::validate(const FaultSet& f) const {
  const auto& q = e_.qgraph();
  auto bad = [](const std::string& what, size_t i, const std::string& why) {
    throw ValidationError("fault set: " + what + " " + std::to_string(i) + " " + why);
  };
  auto range = [](const char* name, int64_t v, int64_t lo, int64_t hi) {
    return std::string(name) + " = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  };
  for (size_t i = 0; i < f.transients.size(); ++i) {
    const TransientFault& t = f.transients[i];
    if (t.layer >= q.layers.size() || q.layers[t.layer].op != QOp::Compute)
      bad("transient", i, "targets layer " + std::to_string(t.layer) + ", which is not a compute layer (the network has " +
                              std::to_string(q.layers.size()) + " layers)");
    const model::GemmDims& d = mp_.of(t.layer).dims;
    // On the hot path: the message is built only for a bad fault.
    auto check = [&](bool ok, const char* name, int64_t v, int64_t lo, int64_t hi) {
      if (!ok) bad("transient", i, "(layer '" + q.layers[t.layer].name + "'): " + range(name, v, lo, hi));
    };
    check(t.g >= 0 && t.g < d.groups, "g", t.g, 0, d.groups - 1);
    check(t.m >= 0 && t.m < d.m, "m", t.m, 0, d.m - 1);
    check(t.n >= 0 && t.n < d.n, "n", t.n, 0, d.n - 1);
    if (t.site != Site::Neuron) check(t.k >= 0 && t.k < d.k, "k", t.k, 0, d.k - 1);
    if (t.site == Site::Weight) check(t.span_end >= 0 && t.span_end <= d.m, "span_end", t.span_end, 0, d.m);
    if (t.site == Site::Input) check(t.span_end >= 0 && t.span_end <= d.n, "span_end", t.span_end, 0, d.n);
    const int bits = register_bits(t.site);
    check(t.bit >= 0 && t.bit < bits, "bit", t.bit, 0, bits - 1);
  }
  for (size_t i = 0; i < f.permanents.size(); ++i) {
    const PermanentFault& p = f.permanents[i];
    if (p.r < 0 || p.r >= mp_.spec.rows) bad("permanent", i, range("PE row", p.r, 0, mp_.spec.rows - 1));
    if (p.c < 0 || p.c >= mp_.spec.cols) bad("permanent", i, range("PE column", p.c, 0, mp_.spec.cols - 1));
    const int bits = register_bits(p.site);
    if (p.bit < 0 || p.bit >= bits) bad("permanent", i, range("bit", p.bit, 0, bits - 1));
  }
}

Injector::LayerFaults Injector::collect(size_t l, const FaultSet& f) const {
  LayerFaults lf;
  for (const auto& t : f.transients)
    if (t.layer == l) (t.site == Site::Neuron ? lf.neuron : lf.mac).push_back(&t);
  for (const auto& p : f.permanents) (p.site == Site::Neuron ? lf.pneuron : lf.pmac).push_back(&p);
  return lf;
}

int32_t Injector::raw_input(size_t l, const std::vector<int32_t>& input, int64_t g, int64_t m, int64_t k) const {
  const QLayer& L = e_.qgraph().layers[l];
  const model::Node& node = e_.qgraph().graph.nodes[L.node];
  if (node.op == model::OpKind::Gemm) return input[k];
  const Shape& is = e_.qgraph().graph.values[L.inputs[0]].shape;
  const Shape& os = e_.qgraph().graph.values[node.output].shape;
  const model::Window& w = node.window;
  const int64_t kh = w.kernel_h, kw = w.kernel_w, cg = node.weight.shape[1];
  const int64_t c = k / (kh * kw), r = (k / kw) % kh, s = k % kw;
  const int64_t oy = m / os[2], ox = m % os[2];
  const int64_t iy = oy * w.stride_h - w.pads[0] + r * w.dilation_h;
  const int64_t ix = ox * w.stride_w - w.pads[1] + s * w.dilation_w;
  // Padding taps enter the array as the zero point (real 0), so (x - zp) = 0 unless a fault corrupts them.
  if (iy < 0 || iy >= is[1] || ix < 0 || ix >= is[2]) return e_.qgraph().enc[L.inputs[0]].zero_point;
  return input[((g * cg + c) * is[1] + iy) * is[2] + ix];
}

int32_t Injector::simulate_chain(size_t l, const std::vector<int32_t>& input, int64_t g, int64_t m, int64_t n,
                                 const LayerFaults& lf) const {
  const QLayer& L = e_.qgraph().layers[l];
  const model::GemmDims& d = mp_.of(l).dims;
  const auto& q = e_.qgraph();
  const int abits = q.options.abits, wbits = q.options.wbits, pbits = q.options.accbits;
  const bool x_signed = q.enc[L.inputs[0]].is_signed;
  const int32_t zp = q.enc[L.inputs[0]].zero_point;
  const int64_t oc = g * d.n + n;
  const bool ws = mp_.spec.dataflow == accel::Dataflow::WeightStationary;
  const int64_t R = mp_.spec.rows, C = mp_.spec.cols;
  int64_t psum = L.bias[oc];
  for (int64_t k = 0; k < d.k; ++k) {
    int64_t x = raw_input(l, input, g, m, k);
    int64_t w = L.weight[oc * d.k + k];
    bool force_acc = false;
    for (const TransientFault* t : lf.mac) {
      if (t->g != g || t->k != k) continue;
      if (t->site == Site::Weight && t->n == n && m >= t->m && m < t->span_end) w = flip_bit(w, t->bit, wbits, true);
      if (t->site == Site::Input && t->m == m && n >= t->n && n < t->span_end) x = flip_bit(x, t->bit, abits, x_signed);
    }
    // Permanent faults: which PE registers this MAC's operands pass through (accel/mapping.hpp).
    const int64_t pr = ws ? k % R : m % R, pc = n % C;
    for (const PermanentFault* p : lf.pmac) {
      if (p->site == Site::Weight && pc == p->c && (ws ? pr == p->r : pr >= p->r)) w = force_bit(w, p->bit, wbits, true, p->value);
      if (p->site == Site::Input && pr == p->r && pc >= p->c) x = force_bit(x, p->bit, abits, x_signed, p->value);
      if (p->site == Site::Acc && pr == p->r && pc == p->c) force_acc = true;
    }
    psum = wrap_signed(psum + (x - zp) * w, pbits);
    for (const TransientFault* t : lf.mac)
      if (t->site == Site::Acc && t->g == g && t->m == m && t->n == n && t->k == k) psum = flip_bit(psum, t->bit, pbits, true);
    if (force_acc)
      for (const PermanentFault* p : lf.pmac)
        if (p->site == Site::Acc && pr == p->r && pc == p->c) psum = force_bit(psum, p->bit, pbits, true, p->value);
  }
  return static_cast<int32_t>(psum);
}

OutputShield output_shield(const Shield& s, int bits, int k, bool is_signed) {
  OutputShield o;
  o.bits = bits;
  o.is_signed = is_signed;
  o.corrector = s.range_corrector && k < bits;
  o.live = o.corrector ? k : bits;
  if (s.harden_mask != 0)
    o.hard_mask = s.harden_mask & low_mask(bits);
  else if (s.harden_bits > 0)
    o.hard_mask = low_mask(o.live) & ~low_mask(std::max(0, o.live - s.harden_bits));
  return o;
}

int64_t OutputShield::correct(int64_t v) const {
  if (!corrector) return v;
  return is_signed ? sign_extend(static_cast<uint64_t>(v), live) : (v & static_cast<int64_t>(low_mask(live)));
}

int64_t OutputShield::flip(int64_t v, int bit) const {
  return hardened(bit) ? v : correct(flip_bit(v, bit, bits, is_signed));
}

int32_t Injector::apply_output_faults(size_t l, int64_t g, int64_t m, int64_t n, int32_t q, const LayerFaults& lf) const {
  const auto& enc = e_.qgraph().enc[e_.qgraph().layers[l].output];
  const int a = enc.bits;
  const OutputShield os = output_shield(shield_, a, enc.eff_bits, enc.is_signed);
  int64_t v = q;
  bool hit = false;
  for (const TransientFault* t : lf.neuron)
    if (t->g == g && t->m == m && t->n == n && !os.hardened(t->bit)) {
      v = flip_bit(v, t->bit, a, enc.is_signed);
      hit = true;
    }
  if (!lf.pneuron.empty()) {
    const int64_t oc_in_group = n;
    const accel::PeCoord pe = mp_.pe_of_output(m, oc_in_group);
    for (const PermanentFault* p : lf.pneuron)
      if (p->r == pe.r && p->c == pe.c && !os.hardened(p->bit)) {
        v = force_bit(v, p->bit, a, enc.is_signed, p->value);
        hit = true;
      }
  }
  if (hit) v = os.correct(v);
  return static_cast<int32_t>(v);
}

void Injector::mac_fault_targets(size_t l, const LayerFaults& lf, std::vector<int32_t>& out) const {
  // Output positions (oc * M + m) whose MAC chain some fault corrupts.
  const model::GemmDims& d = mp_.of(l).dims;
  const bool ws = mp_.spec.dataflow == accel::Dataflow::WeightStationary;
  const int64_t R = mp_.spec.rows, C = mp_.spec.cols;
  for (const TransientFault* t : lf.mac) {
    const int64_t base = t->g * d.n;
    if (t->site == Site::Acc) out.push_back(static_cast<int32_t>((base + t->n) * d.m + t->m));
    if (t->site == Site::Weight)
      for (int64_t m = t->m; m < t->span_end; ++m) out.push_back(static_cast<int32_t>((base + t->n) * d.m + m));
    if (t->site == Site::Input)
      for (int64_t n = t->n; n < t->span_end; ++n) out.push_back(static_cast<int32_t>((base + n) * d.m + t->m));
  }
  for (const PermanentFault* p : lf.pmac) {
    for (int64_t g = 0; g < d.groups; ++g)
      for (int64_t n = 0; n < d.n; ++n) {
        const int64_t pc = n % C;
        const bool col_hit = (p->site == Site::Input) ? pc >= p->c : pc == p->c;
        if (!col_hit) continue;
        if (ws) {
          // WS: row r holds k = kt*R + r; used iff some k < K maps to it.
          if (p->r >= d.k) continue;
          for (int64_t m = 0; m < d.m; ++m) out.push_back(static_cast<int32_t>((g * d.n + n) * d.m + m));
        } else {
          for (int64_t m = 0; m < d.m; ++m) {
            const int64_t pr = m % R;
            const bool row_hit = p->site == Site::Weight ? pr >= p->r : pr == p->r;
            if (row_hit) out.push_back(static_cast<int32_t>((g * d.n + n) * d.m + m));
          }
        }
      }
  }
}

void Injector::output_fault_targets(size_t l, const LayerFaults& lf, std::vector<int32_t>& out) const {
  const model::GemmDims& d = mp_.of(l).dims;
  for (const TransientFault* t : lf.neuron) out.push_back(static_cast<int32_t>((t->g * d.n + t->n) * d.m + t->m));
  for (const PermanentFault* p : lf.pneuron)
    for (int64_t g = 0; g < d.groups; ++g)
      for (int64_t n = 0; n < d.n; ++n)
        for (int64_t m = 0; m < d.m; ++m) {
          const accel::PeCoord pe = mp_.pe_of_output(m, n);
          if (pe.r == p->r && pe.c == p->c) out.push_back(static_cast<int32_t>((g * d.n + n) * d.m + m));
        }
}

InjectionResult Injector::run(const engine::Trace& golden, const FaultSet& faults, std::vector<int32_t>* logits) const {
  const auto& q = e_.qgraph();
  InjectionResult res;
  const auto& gold_out = golden.values[q.output];
  if (static_cast<int64_t>(faults.transients.size() + faults.permanents.size()) >= dense_threshold_)
    return run_dense(golden.values[q.input], gold_out, faults, logits);  // validates
  validate(faults);
  if (shield_.full_tmr || faults.empty()) {
    res.top1 = model::argmax(gold_out.data(), gold_out.size());
    if (logits) *logits = gold_out;
    return res;
  }
  thread_local Work w;
  w.reset(q.graph.values.size());
  for (size_t l = 0; l < q.layers.size(); ++l) {
    const QLayer& L = q.layers[l];
    bool in_dirty = false;
    int64_t in_changed = 0;
    for (int v : L.inputs)
      if (w.dirty[v]) {
        in_dirty = true;
        in_changed += static_cast<int64_t>(w.changed[v].size());
      }
    if (in_dirty && in_changed * sparse_cost_[l] > dense_cost_[l]) {
      // The delta has spread: the rest of the network is cheaper as a full re-run on the fast kernels,
      // from the faulty values as they stand (bit-identical: the same code as run_dense from here).
      thread_local engine::Trace t;
      t.values.resize(q.graph.values.size());
      t.acc.resize(q.layers.size());
      for (int v : live_in_[l]) w.materialize(golden, v, t.values[v]);
      return dense_from(l, t, gold_out, faults, logits);
    }
    if (L.op != QOp::Compute) {
      if (in_dirty) {
        // Recompute only the outputs that read a changed input.
        const Shape& is = q.graph.values[L.inputs[0]].shape;
        const Shape& os = q.graph.values[L.output].shape;
        const auto& gout = golden.values[L.output];
        w.targets.clear();
        auto emit = [&](int32_t o) { w.targets.push_back(o); };
        for (int v : L.inputs) {
          if (!w.dirty[v]) continue;
          for (int32_t i : w.changed[v]) {
            if (L.op == QOp::MaxPool || L.op == QOp::AvgPool) {
              const model::Window& win = q.graph.nodes[L.node].window;
              const int64_t c = i / (is[1] * is[2]), y = (i / is[2]) % is[1], x = i % is[2];
              model::for_each_output_reading(win, y, x, os[1], os[2], [&](int64_t oy, int64_t ox, int64_t, int64_t) {
                emit(static_cast<int32_t>((c * os[1] + oy) * os[2] + ox));
              });
            } else if (L.op == QOp::GlobalAvgPool) {
              emit(static_cast<int32_t>(i / (is[1] * is[2])));
            } else {
              emit(i);  // elementwise: Clamp, Reshape, Add
            }
          }
        }
        sort_unique(w.targets);
        // Evaluate the layer on a faulty copy of its inputs, element by element.
        for (int32_t o : w.targets) {
          int32_t v = 0;
          const engine::PatchedValue in0 = w.view(golden, L.inputs[0]);
          switch (L.op) {
            case QOp::Clamp: v = std::clamp(in0[o], L.act_min, L.act_max); break;
            case QOp::Reshape: v = in0[o]; break;
            case QOp::Add: v = e_.add_one(l, in0[o], w.view(golden, L.inputs[1])[o]); break;
            default: v = e_.pool_one(l, in0, o); break;
          }
          if (v != gout[o]) w.set(golden, L.output, o, v);
        }
      }
      continue;
    }
    const LayerFaults lf = collect(l, faults);
    if (!in_dirty && !lf.any()) continue;
    if (!lf.any() && propagate_window(l, golden, w)) continue;
    const model::GemmDims& d = mp_.of(l).dims;
    const int64_t outs = d.groups * d.n * d.m;
    w.size_layer(static_cast<size_t>(outs));
    const auto& gacc = golden.acc[l];
    const auto& gout = golden.values[L.output];
    const engine::PatchedValue input = w.view(golden, L.inputs[0]);
    if (in_dirty) {
      const auto& gin = golden.values[L.inputs[0]];
      const auto& ch = w.changed[L.inputs[0]];
      const model::Node& node = q.graph.nodes[L.node];
      if (node.op == model::OpKind::Gemm) {
        int64_t* delta = w.delta.data();
        for (int32_t i : ch) {
          const int64_t dx = static_cast<int64_t>(input[i]) - gin[i];
          const int32_t* row = gemm_wt_[l].data() + static_cast<int64_t>(i) * d.n;
          for (int64_t n = 0; n < d.n; ++n) delta[n] += dx * row[n];
        }
        if (!ch.empty())
          for (int64_t n = 0; n < d.n; ++n) w.touch(static_cast<int32_t>(n));
      } else {
        const Shape& is = q.graph.values[L.inputs[0]].shape;
        const Shape& os = q.graph.values[node.output].shape;
        const model::Window& win = node.window;
        const int64_t cg = node.weight.shape[1];
        for (int32_t i : ch) {
          const int64_t dx = static_cast<int64_t>(input[i]) - gin[i];
          const int64_t c = i / (is[1] * is[2]), y = (i / is[2]) % is[1], x = i % is[2];
          const int64_t g = c / cg, ci = c % cg;
          model::for_each_output_reading(win, y, x, os[1], os[2], [&](int64_t oy, int64_t ox, int64_t r, int64_t s) {
            const int64_t kk = (ci * win.kernel_h + r) * win.kernel_w + s;
            for (int64_t n = 0; n < d.n; ++n) {
              const int64_t oc = g * d.n + n;
              const int32_t o = static_cast<int32_t>(oc * d.m + oy * os[2] + ox);
              w.delta[o] += dx * L.weight[oc * d.k + kk];
              w.touch(o);
            }
          });
        }
      }
    }
    if (!lf.mac.empty() || !lf.pmac.empty()) {
      // The MAC chains read the faulty input as a whole (a dense copy only when an earlier fault changed it).
      if (in_dirty) w.materialize(golden, L.inputs[0], w.scratch);
      const std::vector<int32_t>& chain_input = in_dirty ? w.scratch : golden.values[L.inputs[0]];
      w.targets.clear();
      mac_fault_targets(l, lf, w.targets);
      for (int32_t o : w.targets) {
        const int64_t oc = o / d.m;
        if (shield_.channel_protected(l, oc) || w.has_override[o]) continue;
        w.override_acc[o] = simulate_chain(l, chain_input, oc / d.n, o % d.m, oc % d.n, lf);
        w.has_override[o] = 1;
        w.touch(o);
      }
    }
    if (!lf.neuron.empty() || !lf.pneuron.empty()) {
      w.targets.clear();
      output_fault_targets(l, lf, w.targets);
      for (int32_t o : w.targets)
        if (!shield_.channel_protected(l, o / d.m)) w.touch(o);
    }
    const int pbits = q.options.accbits;
    const double inv_m = 1.0 / static_cast<double>(d.m);
    // The touched outputs' accumulators, then one requantization pass over them all (vectorized across
    // channels), then output faults and the changed values.
    const size_t nt = w.touched.size();
    w.t_acc.resize(nt);
    w.t_channel.resize(nt);
    w.t_out.resize(nt);
    const bool overrides = !lf.mac.empty() || !lf.pmac.empty();
    for (size_t k = 0; k < nt; ++k) {
      const int32_t o = w.touched[k];
      w.t_channel[k] = d.m == 1 ? o : static_cast<int32_t>(divide(o, d.m, inv_m));  // fully connected: o is the channel
      w.t_acc[k] = overrides && w.has_override[o] ? w.override_acc[o]
                                                  : static_cast<int32_t>(wrap_signed(gacc[o] + w.delta[o], pbits));
    }
    e_.requantize_channels(l, w.t_acc.data(), w.t_channel.data(), static_cast<int64_t>(nt), w.t_out.data());
    for (size_t k = 0; k < nt; ++k) {
      const int32_t o = w.touched[k];
      const int64_t oc = w.t_channel[k], m = o - oc * d.m;
      int32_t v = w.t_out[k];
      if (!lf.neuron.empty() || !lf.pneuron.empty())
        if (!shield_.channel_protected(l, oc)) v = apply_output_faults(l, oc / d.n, m, oc % d.n, v, lf);
      if (v != gout[o]) w.set(golden, L.output, o, v);
    }
    w.clear_layer();
  }
  res.output_changed = w.dirty[q.output] != 0;
  if (!res.output_changed) {
    res.top1 = model::argmax(gold_out.data(), gold_out.size());
    if (logits) *logits = gold_out;
    return res;
  }
  w.materialize(golden, q.output, w.scratch);
  res.top1 = model::argmax(w.scratch.data(), w.scratch.size());
  if (logits) *logits = w.scratch;
  return res;
}

bool Injector::propagate_window(size_t l, const engine::Trace& golden, Work& w) const {
  // A layer without faults of its own whose input changed in a few places: the changed accumulators lie in
  // one window of output positions (per group the changes reach), so the deltas go into a dense window and
  // the golden accumulators are read row by row, with no per-output bookkeeping.
  const auto& q = e_.qgraph();
  const QLayer& L = q.layers[l];
  const model::Node& node = q.graph.nodes[L.node];
  const model::GemmDims& d = mp_.of(l).dims;
  const int in = L.inputs[0];
  const std::vector<int32_t>& ch = w.changed[in];
  const std::vector<int32_t>& gin = golden.values[in];
  const std::vector<int32_t>& patch = w.patch[in];
  const bool gemm = node.op == model::OpKind::Gemm;
  const Shape& is = q.graph.values[in].shape;
  const Shape& os = q.graph.values[L.output].shape;
  const model::Window& win = node.window;
  const int64_t cg = gemm ? d.k : node.weight.shape[1];
  const int64_t out_w = gemm ? 1 : os[2];
  int64_t oy0 = 0, oy1 = 1, ox0 = 0, ox1 = 1;  // the window, [oy0, oy1) x [ox0, ox1)
  w.window_group.assign(static_cast<size_t>(d.groups), -1);
  int32_t slots = 0;
  if (gemm) {
    w.window_group[0] = slots++;
  } else {
    oy0 = ox0 = std::numeric_limits<int64_t>::max();
    oy1 = ox1 = std::numeric_limits<int64_t>::min();
    for (int32_t i : ch) {
      const int64_t c = i / (is[1] * is[2]), y = (i / is[2]) % is[1], x = i % is[2];
      bool reads = false;
      model::for_each_output_reading(win, y, x, os[1], os[2], [&](int64_t oy, int64_t ox, int64_t, int64_t) {
        oy0 = std::min(oy0, oy);
        oy1 = std::max(oy1, oy + 1);
        ox0 = std::min(ox0, ox);
        ox1 = std::max(ox1, ox + 1);
        reads = true;
      });
      if (reads && w.window_group[c / cg] < 0) w.window_group[c / cg] = slots++;
    }
    if (slots == 0) return true;  // no output reads a changed input (strided taps skip them)
  }
  const int64_t rows = oy1 - oy0, cols = ox1 - ox0, plane = rows * cols;
  const int64_t outs = slots * d.n * plane;
  // Changed inputs far apart make a window mostly of unchanged outputs: leave those to the touched-set path.
  const int64_t reach = gemm ? d.n : d.n * win.kernel_h * win.kernel_w;
  if (outs > 2 * static_cast<int64_t>(ch.size()) * reach + 64) return false;
  // The golden registers of the window are usually cold (a campaign moves between images): ask for all
  // of their rows now, so the loads overlap each other and the delta arithmetic below.
  const std::vector<int32_t>& gacc = golden.acc[l];
  const std::vector<int32_t>& gout = golden.values[L.output];
  for (int64_t g = 0; g < d.groups; ++g) {
    if (w.window_group[g] < 0) continue;
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t oy = oy0; oy < oy1; ++oy) {
        const int64_t first = (g * d.n + n) * d.m + oy * out_w + ox0, last = first + cols - 1;
        __builtin_prefetch(gacc.data() + first);
        __builtin_prefetch(gout.data() + first);
        __builtin_prefetch(gacc.data() + last);
        __builtin_prefetch(gout.data() + last);
      }
  }
  w.window_delta.assign(static_cast<size_t>(outs), 0u);
  uint32_t* delta = w.window_delta.data();
  // Deltas in uint32: the accumulator register is at most 32 bits wide, so sums mod 2^32 are exact after
  // wrapping to P bits.
  if (gemm) {
    const int32_t* wt = gemm_wt_[l].data();
    for (int32_t i : ch) {
      const uint32_t dx = static_cast<uint32_t>(patch[i] - gin[i]);
      const int32_t* row = wt + static_cast<int64_t>(i) * d.n;
      for (int64_t n = 0; n < d.n; ++n) delta[n] += dx * static_cast<uint32_t>(row[n]);
    }
  } else {
    for (int32_t i : ch) {
      const uint32_t dx = static_cast<uint32_t>(patch[i] - gin[i]);
      const int64_t c = i / (is[1] * is[2]), y = (i / is[2]) % is[1], x = i % is[2];
      const int64_t g = c / cg, ci = c % cg;
      w.taps.clear();
      model::for_each_output_reading(win, y, x, os[1], os[2], [&](int64_t oy, int64_t ox, int64_t r, int64_t s) {
        w.taps.push_back(static_cast<int32_t>((oy - oy0) * cols + (ox - ox0)));
        w.taps.push_back(static_cast<int32_t>((ci * win.kernel_h + r) * win.kernel_w + s));
      });
      if (w.taps.empty()) continue;
      uint32_t* group_delta = delta + w.window_group[g] * d.n * plane;
      for (int64_t n = 0; n < d.n; ++n) {
        const int32_t* weight = L.weight.data() + (g * d.n + n) * d.k;
        uint32_t* channel_delta = group_delta + n * plane;
        for (size_t t = 0; t < w.taps.size(); t += 2)
          channel_delta[w.taps[t]] += dx * static_cast<uint32_t>(weight[w.taps[t + 1]]);
      }
    }
  }
  // Golden accumulator + delta, wrapped to P bits, for every output of the window; one requantization pass.
  const int wrap_shift = 32 - q.options.accbits;  // wrapping to P bits: shift the sign bit to bit 31 and back
  w.t_acc.resize(static_cast<size_t>(outs));
  w.t_channel.resize(static_cast<size_t>(outs));
  w.t_out.resize(static_cast<size_t>(outs));
  w.targets.resize(static_cast<size_t>(outs));
  int64_t k = 0;
  for (int64_t g = 0; g < d.groups; ++g) {
    if (w.window_group[g] < 0) continue;
    const uint32_t* group_delta = delta + w.window_group[g] * d.n * plane;
    for (int64_t n = 0; n < d.n; ++n) {
      const int64_t oc = g * d.n + n;
      for (int64_t oy = oy0; oy < oy1; ++oy) {
        const int64_t base = oc * d.m + oy * out_w;
        const uint32_t* row_delta = group_delta + n * plane + (oy - oy0) * cols;
        for (int64_t ox = ox0; ox < ox1; ++ox, ++k) {
          const uint32_t sum = static_cast<uint32_t>(gacc[base + ox]) + row_delta[ox - ox0];
          w.t_acc[k] = static_cast<int32_t>(sum << wrap_shift) >> wrap_shift;
          w.t_channel[k] = static_cast<int32_t>(oc);
          w.targets[k] = static_cast<int32_t>(base + ox);
        }
      }
    }
  }
  e_.requantize_channels(l, w.t_acc.data(), w.t_channel.data(), outs, w.t_out.data());
  w.set_where_changed(golden, L.output, w.targets.data(), w.t_out.data(), outs);
  return true;
}

bool Injector::chain_hit(size_t l, const LayerFaults& lf, int64_t g, int64_t m, int64_t n) const {
  // Does any fault corrupt an operand or partial sum of output (g, m, n)'s MAC chain? Decided from the
  // fault descriptions directly (no enumeration), so the reference does not share the fast path's logic.
  const model::GemmDims& d = mp_.of(l).dims;
  const bool ws = mp_.spec.dataflow == accel::Dataflow::WeightStationary;
  const int64_t R = mp_.spec.rows, C = mp_.spec.cols;
  for (const TransientFault* t : lf.mac) {
    if (t->g != g) continue;
    if (t->site == Site::Acc && t->m == m && t->n == n) return true;
    if (t->site == Site::Weight && t->n == n && m >= t->m && m < t->span_end) return true;
    if (t->site == Site::Input && t->m == m && n >= t->n && n < t->span_end) return true;
  }
  for (const PermanentFault* p : lf.pmac) {
    const int64_t pc = n % C;
    if (ws) {
      if (p->r >= d.k) continue;  // row r never holds a weight of this layer
      if (p->site == Site::Input ? pc >= p->c : pc == p->c) return true;
    } else {
      const int64_t pr = m % R;
      if (p->site == Site::Weight && pc == p->c && pr >= p->r) return true;
      if (p->site == Site::Input && pr == p->r && pc >= p->c) return true;
      if (p->site == Site::Acc && pr == p->r && pc == p->c) return true;
    }
  }
  return false;
}

std::vector<int32_t> Injector::run_reference(const engine::Trace& golden, const FaultSet& faults,
                                            engine::Trace* trace) const {
  const auto& q = e_.qgraph();
  engine::Trace local;
  engine::Trace& t = trace ? *trace : local;
  validate(faults);
  t.values.assign(q.graph.values.size(), {});
  t.acc.assign(q.layers.size(), {});
  t.values[q.input] = golden.values[q.input];
  if (shield_.full_tmr) {
    t = golden;
    return golden.values[q.output];
  }
  for (size_t l = 0; l < q.layers.size(); ++l) {
    const QLayer& L = q.layers[l];
    if (L.op != QOp::Compute) {
      e_.run_layer(l, t);
      continue;
    }
    // Full re-run of the layer; MAC chains that a fault touches are simulated MAC by MAC in array order.
    const LayerFaults lf = collect(l, faults);
    const model::GemmDims& d = mp_.of(l).dims;
    const auto& input = t.values[L.inputs[0]];
    e_.accumulate(l, input, t.acc[l]);
    auto& out = t.values[L.output];
    out.assign(t.acc[l].size(), 0);
    for (int64_t g = 0; g < d.groups; ++g)
      for (int64_t n = 0; n < d.n; ++n) {
        const int64_t oc = g * d.n + n;
        const bool prot = shield_.channel_protected(l, oc);  // computed on the TMR unit: fault-free
        for (int64_t m = 0; m < d.m; ++m) {
          int32_t acc = t.acc[l][oc * d.m + m];
          if (!prot && chain_hit(l, lf, g, m, n)) acc = simulate_chain(l, input, g, m, n, lf);
          int32_t v = e_.requantize(l, oc, acc);
          if (!prot) v = apply_output_faults(l, g, m, n, v, lf);
          out[oc * d.m + m] = v;
        }
      }
  }
  return t.values[q.output];
}

}  // namespace ftdla::fault
