// See pe_reference.hpp for what is simulated and why it is the array of accel/mapping.hpp.
#include "fault/pe_reference.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "ftdla/accel/pe.hpp"
#include "ftdla/core/bits.hpp"
#include "ftdla/model/lowering.hpp"

namespace ftdla::fault {

namespace {

thread_local int64_t t_clocks = 0;

/// What a transient does to the PE it hits, at one edge of one tile.
enum class Kind {
  XIn,      ///< x_in wire flipped: the activation register latches the flipped value
  WIn,      ///< OS: w_in wire flipped: the weight register latches the flipped value
  WReload,  ///< WS: the stationary weight register is rewritten with its value flipped
  Acc,      ///< inject_acc
  Out,      ///< inject_out
};

struct Event {
  Kind kind;
  int64_t g, tile, edge;
  uint64_t mask;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("PeArrayReference: " + what); }

/// One compute layer on the simulated array.
class LayerSim {
 public:
  LayerSim(const engine::IntegerEngine& e, const accel::Mapping& mp, const Shield& shield, size_t l,
           const std::vector<int32_t>& input, const std::vector<accel::PeStuck>& stuck)
      : e_(e), q_(e.qgraph()), L_(q_.layers[l]), l_(l), d_(mp.of(l).dims), R_(mp.spec.rows), C_(mp.spec.cols),
        ws_(mp.spec.dataflow == accel::Dataflow::WeightStationary) {
    const quant::Encoding& ein = q_.enc[L_.inputs[0]];
    const quant::Encoding& eout = q_.enc[L_.output];
    A_ = q_.options.abits;
    out_signed_ = eout.is_signed;
    zp_ = static_cast<uint64_t>(static_cast<int64_t>(ein.zero_point)) & low_mask(A_ + 1);
    // The layer's PE: its widths, and the output-register protection of the Shield as circuit options.
    accel::PeConfig cfg;
    cfg.wbits = q_.options.wbits;
    cfg.abits = A_;
    cfg.accbits = q_.options.accbits;
    cfg.x_signed = ein.is_signed;
    lane_cfg_ = cfg;  // the TMR lane: plain widths (its three copies vote every fault away)
    const int k = eout.eff_bits;
    cfg.corrector = shield.range_corrector && k < A_;
    cfg.corrector_signed = true;  // the sext port follows the layer's output encoding (read_out)
    const int live = cfg.corrector ? k : A_;
    if (shield.harden_mask != 0) {
      cfg.harden_out_mask = shield.harden_mask & low_mask(A_);
    } else if (shield.harden_bits > 0) {
      cfg.live_bits = live;
      cfg.harden_out_bits = std::min(shield.harden_bits, live);
    }
    keep_ = low_mask(live);
    const accel::Pe proto(cfg);
    grid_.assign(static_cast<size_t>(R_ * C_), proto);
    for (size_t i = 0; i < grid_.size(); ++i)
      if (stuck[i].any()) grid_[i].set_stuck(stuck[i]);
    events_.assign(grid_.size(), {});
    has_events_.assign(grid_.size(), 0);
    // The input matrix as the array streams it: per group [K][M], padding taps as the zero point.
    const model::Node& node = q_.graph.nodes[L_.node];
    col_.assign(static_cast<size_t>(d_.groups * d_.k * d_.m), 0);
    if (node.op == model::OpKind::Gemm) {
      if (d_.m != 1 || d_.groups != 1) bad("layer '" + L_.name + "': a Gemm with more than one row or group");
      for (int64_t k2 = 0; k2 < d_.k; ++k2) col_[k2] = input[k2];  // M = 1, one group
    } else {
      const Shape& is = q_.graph.values[L_.inputs[0]].shape;
      const Shape& os = q_.graph.values[L_.output].shape;
      for (int64_t g = 0; g < d_.groups; ++g)
        model::im2col(input.data(), is, os, node, g, ein.zero_point, col_.data() + g * d_.k * d_.m);
    }
  }

  void add_event(int r, int c, Event ev) {
    events_[static_cast<size_t>(r * C_ + c)].push_back(ev);
    has_events_[static_cast<size_t>(r * C_ + c)] = 1;
  }

  /// Translate transient `t` of this layer into an event on the PE register it hits.
  void add_transient(const TransientFault& t) {
    const uint64_t mask = uint64_t{1} << t.bit;
    const int64_t KT = ceil_div(d_.k, R_), NT = ceil_div(d_.n, C_);
    if (ws_) {
      const int c = static_cast<int>(t.n % C_);
      if (t.site == Site::Neuron) {
        const int64_t rows_last = d_.k - (KT - 1) * R_;
        add_event(static_cast<int>(R_ - 1), c, {Kind::Out, t.g, (t.n / C_) * KT + KT - 1, t.m + rows_last + c + 1, mask});
        return;
      }
      const int r = static_cast<int>(t.k % R_);
      const int64_t tile = (t.n / C_) * KT + t.k / R_, latch = t.m + r + c;
      if (t.site == Site::Acc) add_event(r, c, {Kind::Acc, t.g, tile, latch + 1, mask});
      if (t.site == Site::Input) add_event(r, c, {Kind::XIn, t.g, tile, latch, mask});
      if (t.site == Site::Weight) add_event(r, c, {Kind::WReload, t.g, tile, latch, mask});
      return;
    }
    const int r = static_cast<int>(t.m % R_), c = static_cast<int>(t.n % C_);
    const int64_t tile = (t.m / R_) * NT + t.n / C_;
    switch (t.site) {
      case Site::Neuron: add_event(r, c, {Kind::Out, t.g, tile, d_.k + r + c + 1, mask}); break;
      case Site::Acc: add_event(r, c, {Kind::Acc, t.g, tile, t.k + r + c + 1, mask}); break;
      case Site::Input: add_event(r, c, {Kind::XIn, t.g, tile, t.k + r + c, mask}); break;
      case Site::Weight: add_event(r, c, {Kind::WIn, t.g, tile, t.k + r + c, mask}); break;
    }
  }

  /// Run every tile; fills acc ([oc][m], the sums read from the array) and out (output registers).
  void run(const std::vector<char>* protected_oc, std::vector<int32_t>& acc, std::vector<int32_t>& out) {
    acc.assign(static_cast<size_t>(d_.groups * d_.n * d_.m), 0);
    out.assign(acc.size(), 0);
    if (ws_) run_ws(acc, out);
    else run_os(acc, out);
    if (protected_oc != nullptr && !protected_oc->empty())
      for (int64_t oc = 0; oc < d_.groups * d_.n; ++oc)
        if ((*protected_oc)[static_cast<size_t>(oc)]) run_lane(oc, acc, out);
    t_clocks += clocks_;
  }

 private:
  int64_t x(int64_t g, int64_t m, int64_t k) const { return col_[static_cast<size_t>((g * d_.k + k) * d_.m + m)]; }
  uint64_t w(int64_t oc, int64_t k) const { return static_cast<uint64_t>(static_cast<int64_t>(L_.weight[oc * d_.k + k])); }
  accel::Pe& pe(int64_t r, int64_t c) { return grid_[static_cast<size_t>(r * C_ + c)]; }

  void clock(accel::Pe& p, const accel::PeInputs& in) {
    p.clock(in);
    ++clocks_;
  }
  /// Apply the events of PE(r, c) at this edge to its inputs.
  void apply_events(int64_t r, int64_t c, int64_t g, int64_t tile, int64_t e, accel::PeInputs& in) {
    if (!has_events_[static_cast<size_t>(r * C_ + c)]) return;
    const auto& evs = events_[static_cast<size_t>(r * C_ + c)];
    uint64_t reload = 0;
    for (const Event& ev : evs) {
      if (ev.g != g || ev.tile != tile || ev.edge != e) continue;
      switch (ev.kind) {
        case Kind::XIn: in.x_in ^= ev.mask; break;
        case Kind::WIn: in.w_in ^= ev.mask; break;
        case Kind::WReload: reload ^= ev.mask; break;
        case Kind::Acc: in.inject_acc ^= ev.mask; break;
        case Kind::Out: in.inject_out ^= ev.mask; break;
      }
    }
    if (reload != 0) {
      in.load_w = true;
      in.w_in = pe(r, c).w_reg() ^ reload;
    }
  }
  uint64_t requantize(int64_t oc, int64_t sum) const {
    return static_cast<uint64_t>(static_cast<int64_t>(e_.requantize(l_, oc, static_cast<int32_t>(sum)))) & low_mask(A_);
  }
  /// The output register as the out_q port shows it (through the corrector), read in the output encoding.
  int32_t read_out(const accel::Pe& p) const {
    const uint64_t raw = p.out_corrected_raw(keep_, out_signed_);
    return static_cast<int32_t>(out_signed_ ? sign_extend(raw, A_) : static_cast<int64_t>(raw));
  }

  void run_ws(std::vector<int32_t>& acc, std::vector<int32_t>& out) {
    const int64_t M = d_.m, N = d_.n, K = d_.k, KT = ceil_div(K, R_), NT = ceil_div(N, C_);
    std::vector<int64_t> psum(static_cast<size_t>(C_ * M));  // the psum buffer between k-tiles, [c][m]
    for (int64_t g = 0; g < d_.groups; ++g)
      for (int64_t nt = 0; nt < NT; ++nt) {
        const int64_t cols = std::min(C_, N - nt * C_), oc0 = g * N + nt * C_;
        for (int64_t c = 0; c < cols; ++c)
          std::fill(psum.begin() + c * M, psum.begin() + (c + 1) * M, static_cast<int64_t>(L_.bias[oc0 + c]));
        for (int64_t kt = 0; kt < KT; ++kt) {
          const int64_t rows = std::min(R_, K - kt * R_), tile = nt * KT + kt;
          const bool last = kt == KT - 1;
          // Weight load over the separate load path.
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) {
              accel::PeInputs in;
              in.load_w = true;
              in.w_in = w(oc0 + c, kt * R_ + r);
              clock(pe(r, c), in);
            }
          const int64_t edges = M + rows + cols;
          const int64_t top = last ? R_ - 1 : rows - 1;
          for (int64_t e = 0; e < edges; ++e)
            // Bottom-right first: every PE reads its neighbours' registers as they were before this edge.
            for (int64_t r = top; r >= 0; --r) {
              const bool mac_row = r < rows, out_row = last && r == R_ - 1;
              int64_t lo = cols, hi = -1;
              if (mac_row) lo = e - r - M, hi = e - r;
              if (out_row) lo = std::min(lo, e - rows - M), hi = std::max(hi, e - rows - 1);
              for (int64_t c = std::min(hi, cols - 1); c >= std::max<int64_t>(lo, 0); --c) {
                const int64_t m_latch = e - r - c, m_mac = m_latch - 1, m_out = e - rows - c - 1;
                const bool mac = mac_row && m_latch >= 0 && m_latch <= M;
                const bool load = out_row && m_out >= 0 && m_out < M;
                if (!mac && !load) continue;
                accel::Pe& p = pe(r, c);
                accel::PeInputs in;
                if (mac) {
                  in.zp = static_cast<int64_t>(zp_);
                  if (c == 0) in.x_in = m_latch < M ? static_cast<uint64_t>(x(g, m_latch, kt * R_ + r)) : 0;
                  else in.x_in = pe(r, c - 1).x_out();
                  if (r == 0) in.psum_in = m_mac >= 0 ? static_cast<uint64_t>(psum[c * M + m_mac]) : 0;
                  else in.psum_in = pe(r - 1, c).psum_out_raw();
                }
                if (load) {
                  // The column requantizer reads the sum the bottom used row produced one edge earlier.
                  in.load_out = true;
                  in.out_d = requantize(oc0 + c, psum[c * M + m_out]);
                }
                apply_events(r, c, g, tile, e, in);
                clock(p, in);
                if (mac && r == rows - 1 && m_mac >= 0) psum[c * M + m_mac] = p.psum_out();
                if (load) out[(oc0 + c) * M + m_out] = read_out(p);
              }
            }
        }
        for (int64_t c = 0; c < cols; ++c)
          for (int64_t m = 0; m < M; ++m) acc[(oc0 + c) * M + m] = static_cast<int32_t>(psum[c * M + m]);
      }
  }

  void run_os(std::vector<int32_t>& acc, std::vector<int32_t>& out) {
    const int64_t M = d_.m, N = d_.n, K = d_.k, MT = ceil_div(M, R_), NT = ceil_div(N, C_);
    for (int64_t g = 0; g < d_.groups; ++g)
      for (int64_t mt = 0; mt < MT; ++mt)
        for (int64_t nt = 0; nt < NT; ++nt) {
          const int64_t rows = std::min(R_, M - mt * R_), cols = std::min(C_, N - nt * C_);
          const int64_t tile = mt * NT + nt, edges = K + rows + cols;
          for (int64_t e = 0; e < edges; ++e)
            for (int64_t r = rows - 1; r >= 0; --r)
              for (int64_t c = std::min(cols - 1, e - r); c >= std::max<int64_t>(0, e - r - K - 1); --c) {
                const int64_t k_latch = e - r - c, k_mac = k_latch - 1;
                const int64_t m = mt * R_ + r, oc = g * N + nt * C_ + c;
                accel::Pe& p = pe(r, c);
                accel::PeInputs in;
                const bool load = k_latch == K + 1;
                if (!load) {
                  in.zp = static_cast<int64_t>(zp_);
                  in.load_w = true;  // weights move down one PE per edge
                  if (r == 0) in.w_in = k_latch < K ? w(oc, k_latch) : 0;
                  else in.w_in = pe(r - 1, c).w_reg();
                  if (c == 0) in.x_in = k_latch < K ? static_cast<uint64_t>(x(g, m, k_latch)) : 0;
                  else in.x_in = pe(r, c - 1).x_out();
                  // The partial sum stays in the PE: psum_in is its own psum_out, the bias for term 0.
                  in.psum_in = k_mac == 0 ? static_cast<uint64_t>(static_cast<int64_t>(L_.bias[oc])) : p.psum_out_raw();
                } else {
                  in.load_out = true;
                  in.out_d = requantize(oc, p.psum_out());
                }
                apply_events(r, c, g, tile, e, in);
                clock(p, in);
                if (k_mac == K - 1) acc[oc * M + m] = static_cast<int32_t>(p.psum_out());
                if (load) out[oc * M + m] = read_out(p);
              }
        }
  }

  /// Output channel `oc` recomputed on the TMR lane: one fault-free PE, its partial sum fed back; the
  /// lane's result replaces the array's (every fault in the array, or in one lane copy, is masked).
  void run_lane(int64_t oc, std::vector<int32_t>& acc, std::vector<int32_t>& out) {
    const int64_t g = oc / d_.n;
    accel::Pe lane(lane_cfg_);
    for (int64_t m = 0; m < d_.m; ++m) {
      for (int64_t j = 0; j <= d_.k; ++j) {  // edge j latches term j and adds term j - 1
        accel::PeInputs in;
        in.load_w = true;
        in.w_in = j < d_.k ? w(oc, j) : 0;
        in.x_in = j < d_.k ? static_cast<uint64_t>(x(g, m, j)) : 0;
        in.zp = static_cast<int64_t>(zp_);
        in.psum_in = j == 1 ? static_cast<uint64_t>(static_cast<int64_t>(L_.bias[oc])) : lane.psum_out_raw();
        clock(lane, in);
      }
      acc[oc * d_.m + m] = static_cast<int32_t>(lane.psum_out());
      out[oc * d_.m + m] = e_.requantize(l_, oc, acc[oc * d_.m + m]);
    }
  }

  const engine::IntegerEngine& e_;
  const quant::QGraph& q_;
  const quant::QLayer& L_;
  size_t l_;
  model::GemmDims d_;
  int64_t R_, C_;
  bool ws_;
  int A_ = 8;
  bool out_signed_ = false;
  uint64_t zp_ = 0, keep_ = 0;
  accel::PeConfig lane_cfg_;
  std::vector<accel::Pe> grid_;
  std::vector<std::vector<Event>> events_;
  std::vector<char> has_events_;
  int64_t clocks_ = 0;
  std::vector<int32_t> col_;
};

}  // namespace

PeArrayReference::PeArrayReference(const engine::IntegerEngine& engine, const accel::Mapping& mapping, Shield shield)
    : e_(engine), mp_(mapping), shield_(std::move(shield)) {}

int64_t PeArrayReference::last_clocks() { return t_clocks; }

std::vector<int32_t> PeArrayReference::run(const std::vector<int32_t>& input, const FaultSet& faults,
                                           engine::Trace* trace) const {
  const auto& q = e_.qgraph();
  const int64_t R = mp_.spec.rows, C = mp_.spec.cols;
  const auto width = [&](Site s) {
    return s == Site::Acc ? q.options.accbits : s == Site::Weight ? q.options.wbits : q.options.abits;
  };
  // Stuck flops, the same physical PEs in every layer.
  std::vector<accel::PeStuck> stuck(static_cast<size_t>(R * C));
  for (const PermanentFault& p : faults.permanents) {
    if (p.r < 0 || p.r >= R || p.c < 0 || p.c >= C) bad("permanent fault outside the array");
    if (p.bit < 0 || p.bit >= width(p.site)) bad("permanent fault bit outside its register");
    accel::PeStuck& s = stuck[static_cast<size_t>(p.r * C + p.c)];
    const uint64_t m = uint64_t{1} << p.bit, v = p.value ? m : 0;
    uint64_t* mask = p.site == Site::Weight ? &s.w_mask : p.site == Site::Input ? &s.x_mask : p.site == Site::Acc ? &s.acc_mask : &s.out_mask;
    uint64_t* value = p.site == Site::Weight ? &s.w_value : p.site == Site::Input ? &s.x_value : p.site == Site::Acc ? &s.acc_value : &s.out_value;
    *mask |= m;
    *value = (*value & ~m) | v;
  }
  for (const TransientFault& t : faults.transients) {
    if (t.layer >= q.layers.size() || q.layers[t.layer].op != quant::QOp::Compute) bad("transient on a non-compute layer");
    const model::GemmDims& d = mp_.of(t.layer).dims;
    if (t.g < 0 || t.g >= d.groups || t.m < 0 || t.m >= d.m || t.n < 0 || t.n >= d.n ||
        (t.site != Site::Neuron && (t.k < 0 || t.k >= d.k)))
      bad("transient fault outside its layer's GEMM");
    if (t.bit < 0 || t.bit >= width(t.site)) bad("transient fault bit outside its register");
  }
  const bool masked = shield_.full_tmr;  // the whole array triplicated: every fault is voted away
  if (masked) std::fill(stuck.begin(), stuck.end(), accel::PeStuck{});

  t_clocks = 0;
  engine::Trace local;
  engine::Trace& t = trace ? *trace : local;
  t.values.assign(q.graph.values.size(), {});
  t.acc.assign(q.layers.size(), {});
  t.values[q.input] = input;
  for (size_t l = 0; l < q.layers.size(); ++l) {
    const quant::QLayer& L = q.layers[l];
    if (L.op != quant::QOp::Compute) {
      e_.run_layer(l, t);  // golden pooling / Add / Clamp / Reshape: no register of the array
      continue;
    }
    LayerSim sim(e_, mp_, shield_, l, t.values[L.inputs[0]], stuck);
    if (!masked)
      for (const TransientFault& f : faults.transients)
        if (f.layer == l) sim.add_transient(f);
    const std::vector<char>* prot = l < shield_.protected_channels.size() ? &shield_.protected_channels[l] : nullptr;
    sim.run(prot, t.acc[l], t.values[L.output]);
  }
  return t.values[q.output];
}

}  // namespace ftdla::fault
