// SPDX-License-Identifier: MIT
#include "ftdla/quant/calibrate.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "ftdla/core/error.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/quant/float_requant.hpp"

namespace ftdla::quant {
namespace {

using model::Graph;
using model::Node;
using model::OpKind;

constexpr int kHistBins = 2048;

struct Stats {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  std::vector<uint64_t> hist;  // kHistBins over [lo, hi] (second pass)
  double bin_value(int b) const { return lo + (hi - lo) * (b + 0.5) / kHistBins; }
};

void check_range(const char* key, int v, int lo, int hi) {
  if (v < lo || v > hi) {
    std::ostringstream os;
    os << "quant." << key << ": must be in [" << lo << ", " << hi << "] (got " << v << ")";
    throw ConfigError(os.str());
  }
}

/// Percentile value of a histogram (fraction q in [0, 1]).
double hist_quantile(const Stats& s, double q) {
  uint64_t total = 0;
  for (auto c : s.hist) total += c;
  if (total == 0) return s.lo;
  const double target = q * static_cast<double>(total);
  uint64_t run = 0;
  for (int b = 0; b < kHistBins; ++b) {
    run += s.hist[b];
    if (static_cast<double>(run) >= target) return s.lo + (s.hi - s.lo) * (b + 1.0) / kHistBins;
  }
  return s.hi;
}

/// Quantization MSE of the histogram for range [lo, hi] with `levels` steps (clipping + rounding noise).
double clip_mse(const Stats& s, double lo, double hi, int levels) {
  const double step = (hi - lo) / levels;
  double e = 0.0;
  for (int b = 0; b < kHistBins; ++b) {
    if (!s.hist[b]) continue;
    const double x = s.bin_value(b);
    double d = 0.0;
    if (x > hi) d = (x - hi) * (x - hi);
    else if (x < lo) d = (lo - x) * (lo - x);
    else d = step * step / 12.0;
    e += static_cast<double>(s.hist[b]) * d;
  }
  return e;
}

Encoding make_encoding(double lo, double hi, bool nonneg, int bits, int k) {
  Encoding e;
  e.bits = bits;
  e.eff_bits = k;
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (nonneg) {
    e.is_signed = false;
    e.qmin = 0;
    e.qmax = (1 << k) - 1;
    e.scale = hi > 0 ? hi / e.qmax : 1.0;
    e.zero_point = 0;
  } else {
    e.is_signed = true;
    e.qmin = -(1 << (k - 1));
    e.qmax = (1 << (k - 1)) - 1;
    e.scale = hi > lo ? (hi - lo) / (e.qmax - e.qmin) : 1.0;
    const double zp = e.qmin - lo / e.scale;
    e.zero_point = static_cast<int32_t>(round_clamp(zp, e.qmin, e.qmax));
  }
  return e;
}

/// The register encoding of a tensor the model quantized itself, with k live bits of 8. uint8 with zero
/// point 0 stays unsigned; int8, and uint8 with another zero point (held as int8: q - 128), are two's
/// complement. k < 8 keeps the step and narrows the range about real 0, as calibration's clip mode does.
Encoding model_encoding(const model::TensorQuant& tq, int k) {
  Encoding e;
  e.bits = 8;
  e.eff_bits = k;
  e.scale = tq.scale;
  if (!tq.is_signed && tq.zero_point == 0) {
    e.is_signed = false;
    e.qmin = 0;
    e.qmax = (1 << k) - 1;
    e.zero_point = 0;
    return e;
  }
  e.is_signed = true;
  e.file_offset = tq.is_signed ? 0 : 128;
  e.qmin = -(1 << (k - 1));
  e.qmax = (1 << (k - 1)) - 1;
  const int32_t zp = tq.zero_point - e.file_offset;  // in [-128, 127]
  e.zero_point = k == 8 ? zp
                        : static_cast<int32_t>(round_clamp(e.qmin + (zp + 128) * (static_cast<double>((1 << k) - 1) / 255.0),
                                                           e.qmin, e.qmax));
  return e;
}

/// Quantized value of real x in encoding e, clamped only to +-2^40 (far beyond any register, and within
/// int64 whatever x is).
int64_t quantize_real(double x, const Encoding& e) {
  constexpr int64_t kFar = int64_t{1} << 40;
  return round_clamp(x / e.scale, -kFar, kFar) + e.zero_point;
}

/// The fixed-point form of a real rescaling factor `m` of layer `layer`. A factor that is not finite and
/// >= 0, or needs a left shift past kMaxLeftShift, comes from absurd scales (a corrupted weight or bias,
/// a degenerate calibration): no integer result would mean anything, so the layer is rejected.
QuantizedMultiplier checked_multiplier(double m, const std::string& layer, const char* what) {
  const QuantizedMultiplier q = std::isfinite(m) && m >= 0.0 ? quantize_multiplier(m) : QuantizedMultiplier{0, kMaxLeftShift + 1};
  if (q.shift > kMaxLeftShift) {
    std::ostringstream os;
    os << "layer '" << layer << "': " << what << " " << m
       << " is outside the representable range [0, 2^31) (absurd weight, bias or activation scales)";
    throw ValidationError(os.str());
  }
  return q;
}

/// Output clamp [act_min, act_max] of layer L: the register range of `e`, narrowed by activation `act`
/// (Relu = [0, inf), Clip = [min, max]) when there is one.
void set_clamp(QLayer& L, const Encoding& e, const Node* act) {
  int64_t lo = e.qmin, hi = e.qmax;
  if (act) {
    const double amin = act->op == OpKind::Relu ? 0.0 : act->clip_min;
    const double amax = act->op == OpKind::Relu ? std::numeric_limits<double>::infinity() : act->clip_max;
    if (std::isfinite(amin)) lo = std::max<int64_t>(lo, quantize_real(amin, e));
    if (std::isfinite(amax)) hi = std::min<int64_t>(hi, quantize_real(amax, e));
  }
  // A clip bound outside the register range clamps to it (the int32 conversion must not wrap).
  lo = std::clamp<int64_t>(lo, e.qmin, e.qmax);
  hi = std::clamp<int64_t>(hi, e.qmin, e.qmax);
  L.act_min = static_cast<int32_t>(lo);
  L.act_max = static_cast<int32_t>(std::max(lo, hi));
}

}  // namespace

void QuantOptions::validate() const {
  check_range("wbits", wbits, 2, 16);
  check_range("abits", abits, 2, 16);
  check_range("accbits", accbits, 8, 32);
  if (!(percentile > 50.0 && percentile <= 100.0)) {
    std::ostringstream os;
    os << "quant.percentile: must be in (50, 100] (got " << percentile << ")";
    throw ConfigError(os.str());
  }
  if (calib_images <= 0) throw ConfigError("quant.calib_images: must be > 0 (got " + std::to_string(calib_images) + ")");
  if (k != 0) check_range("k", k, 2, abits);
  for (const auto& [name, kl] : k_per_layer) {
    if (kl < 2 || kl > abits)
      throw ConfigError("quant.k_per_layer." + name + ": must be in [2, " + std::to_string(abits) + "] (got " + std::to_string(kl) + ")");
  }
}

int QuantOptions::effective_bits(const std::string& name) const {
  auto it = k_per_layer.find(name);
  if (it != k_per_layer.end()) return it->second;
  return k == 0 ? abits : k;
}

std::vector<size_t> QGraph::compute_layers() const {
  std::vector<size_t> r;
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].op == QOp::Compute) r.push_back(i);
  return r;
}

void check_input_fits(const Graph& g, const data::Dataset& ds) {
  if (g.values[g.input].shape != ds.image_shape)
    throw ValidationError("model input '" + g.values[g.input].name + "' has shape " + to_string(g.values[g.input].shape) +
                          " per image, but the dataset's images are " + to_string(ds.image_shape));
  // No images would make every accuracy 0/0, reported as 0 (and a design "feasible" on nothing).
  if (ds.count() == 0) throw ValidationError(ds.source + ": the dataset has no images");
}

void check_labels(const Graph& g, const data::Dataset& ds) {
  // A label outside the model's classes can never be predicted: the data does not belong to this model.
  const int64_t classes = numel(g.values[g.output].shape);
  for (int64_t i = 0; i < ds.count(); ++i)
    if (ds.labels[i] < 0 || ds.labels[i] >= classes)
      throw ValidationError(ds.source + ": label " + std::to_string(ds.labels[i]) + " of image " + std::to_string(i) +
                            " is outside the model's " + std::to_string(classes) + " classes [0, " +
                            std::to_string(classes - 1) + "] (its output '" + g.values[g.output].name + "' has " +
                            std::to_string(classes) + " values)");
}

FloatRanges measure_ranges(const Graph& g, const data::Dataset& calib, int64_t images) {
  check_input_fits(g, calib);
  images = std::min<int64_t>(images, calib.count());
  const model::FloatEngine fe(g);
  const int64_t per = numel(calib.image_shape);
  const int threads = omp_get_max_threads();
  std::vector<std::vector<Stats>> local(threads, std::vector<Stats>(g.values.size()));
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < images; ++i) {
    auto vals = fe.run_all(calib.pixels.data() + i * per);
    auto& ls = local[omp_get_thread_num()];
    for (size_t v = 0; v < vals.size(); ++v)
      for (float x : vals[v]) {
        ls[v].lo = std::min(ls[v].lo, static_cast<double>(x));
        ls[v].hi = std::max(ls[v].hi, static_cast<double>(x));
      }
  }
  FloatRanges r;
  r.images = images;
  r.lo.assign(g.values.size(), std::numeric_limits<double>::infinity());
  r.hi.assign(g.values.size(), -std::numeric_limits<double>::infinity());
  for (auto& ls : local)
    for (size_t v = 0; v < ls.size(); ++v) {
      r.lo[v] = std::min(r.lo[v], ls[v].lo);
      r.hi[v] = std::max(r.hi[v], ls[v].hi);
    }
  return r;
}

bool uses_model_scales(const Graph& g, const QuantOptions& opt) {
  return opt.source == QuantSource::Model || (opt.source == QuantSource::Auto && g.pre_quantized());
}

QGraph quantize(const Graph& g, const data::Dataset& calib, const QuantOptions& opt, const FloatRanges* ranges) {
  opt.validate();
  check_input_fits(g, calib);
  for (const auto& entry : opt.k_per_layer) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 cannot capture those
    const bool found = std::any_of(g.nodes.begin(), g.nodes.end(),
                                   [&](const Node& n) { return n.name == name && model::is_compute(n.op); });
    if (!found) throw ConfigError("quant.k_per_layer: no compute layer named '" + name + "'");
  }
  const int64_t images = std::min<int64_t>(opt.calib_images, calib.count());
  if (images <= 0) throw ValidationError("calibration: the dataset has no images");

  // 1. Fusion: a Relu/Clip whose input comes only from a Conv/Gemm/Add is folded into that producer.
  const size_t nn = g.nodes.size();
  std::vector<int> producer(g.values.size(), -1);
  for (size_t i = 0; i < nn; ++i) producer[g.nodes[i].output] = static_cast<int>(i);
  std::vector<int> fused_act(nn, -1);  // producer node -> activation node
  std::vector<bool> skipped(nn, false);
  for (size_t i = 0; i < nn; ++i) {
    const Node& n = g.nodes[i];
    if (n.op != OpKind::Relu && n.op != OpKind::Clip) continue;
    const int p = producer[n.inputs[0]];
    if (p < 0 || fused_act[p] >= 0) continue;
    const OpKind pk = g.nodes[p].op;
    if ((model::is_compute(pk) || pk == OpKind::Add) && g.consumers(n.inputs[0]) == 1) {
      fused_act[p] = static_cast<int>(i);
      skipped[i] = true;
    }
  }

  const bool use_model = uses_model_scales(g, opt);
  if (opt.source == QuantSource::Model && !g.pre_quantized())
    throw ConfigError("quantization: model, but the model has no scales of its own (no QuantizeLinear/DequantizeLinear "
                      "or QLinear ops); calibrate it instead");
  if (use_model) {
    if (opt.wbits != 8 || opt.abits != 8)
      throw ConfigError("quant.wbits/abits: the model's own quantization is 8-bit (got W=" + std::to_string(opt.wbits) +
                        ", A=" + std::to_string(opt.abits) + "); to change bit widths re-quantize it (quantization: calibrate)");
    if (opt.calibration_given)
      throw ConfigError("calibration options (--calib, --percentile, --calib-images) do not apply to a model that brings its "
                        "own scales; drop them, or re-quantize it (--quantization calibrate)");
    if (opt.range == RangeMode::Rescale)
      throw ConfigError("quant.range: rescale picks a new scale by calibration; a model with its own scales takes range clip");
  }
  const bool float_requant = opt.requant == RequantMode::Float || (opt.requant == RequantMode::Auto && use_model);

  // 2. Structural non-negativity of each value.
  model::FloatEngine fe(g);
  std::vector<Stats> st(g.values.size());
  const int64_t per = numel(calib.image_shape);
  // Pass 1: min/max per value (or the ranges the caller measured once); none with the model's own scales,
  // which decide the encodings below without ranges or signedness.
  if (!use_model) {
    FloatRanges measured;
    const FloatRanges* r = ranges;
    if (!r || r->images != images || r->lo.size() != g.values.size()) {
      measured = measure_ranges(g, calib, images);
      r = &measured;
    }
    for (size_t v = 0; v < st.size(); ++v) {
      st[v].lo = r->lo[v];
      st[v].hi = r->hi[v];
    }
  }
  std::vector<bool> nonneg(g.values.size(), false);
  nonneg[g.input] = st[g.input].lo >= 0.0;
  for (const Node& n : g.nodes) {
    bool nn_out = false;
    switch (n.op) {
      case OpKind::Relu: nn_out = true; break;
      case OpKind::Clip: nn_out = n.clip_min >= 0.0f || nonneg[n.inputs[0]]; break;
      case OpKind::Add: nn_out = nonneg[n.inputs[0]] && nonneg[n.inputs[1]]; break;
      case OpKind::Conv: case OpKind::Gemm: nn_out = false; break;
      default: nn_out = nonneg[n.inputs[0]]; break;
    }
    nonneg[n.output] = nn_out;
  }

  // Encoding roots: the image, the (post-activation) outputs of Conv/Gemm/Add.
  struct Root { int value; int pre; int k; };  // pre: the value before a fused activation
  std::vector<Root> roots{{g.input, g.input, opt.abits}};
  for (size_t i = 0; i < nn; ++i) {
    const Node& n = g.nodes[i];
    if (!model::is_compute(n.op) && n.op != OpKind::Add) continue;
    const int out = fused_act[i] >= 0 ? g.nodes[fused_act[i]].output : n.output;
    roots.push_back({out, n.output, model::is_compute(n.op) ? opt.effective_bits(n.name) : opt.abits});
  }
  // Pass 2: histograms where a percentile or MSE clip is needed.
  std::vector<bool> want_hist(g.values.size(), false);
  for (const Root& r : roots)
    want_hist[r.value] = !use_model && (opt.calib == CalibMethod::Percentile || (r.k < opt.abits && opt.range == RangeMode::Rescale)) &&
                         st[r.value].hi > st[r.value].lo;
  if (std::any_of(want_hist.begin(), want_hist.end(), [](bool b) { return b; })) {
    const int threads = omp_get_max_threads();
    std::vector<std::vector<std::vector<uint64_t>>> local(threads, std::vector<std::vector<uint64_t>>(g.values.size()));
    for (auto& l : local)
      for (size_t v = 0; v < l.size(); ++v)
        if (want_hist[v]) l[v].assign(kHistBins, 0);
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < images; ++i) {
      auto vals = fe.run_all(calib.pixels.data() + i * per);
      auto& lh = local[omp_get_thread_num()];
      for (size_t v = 0; v < vals.size(); ++v) {
        if (!want_hist[v]) continue;
        const double lo = st[v].lo, w = (st[v].hi - st[v].lo) / kHistBins;
        for (float x : vals[v]) ++lh[v][std::clamp<int>(static_cast<int>((x - lo) / w), 0, kHistBins - 1)];
      }
    }
    for (size_t v = 0; v < st.size(); ++v) {
      if (!want_hist[v]) continue;
      st[v].hist.assign(kHistBins, 0);
      for (auto& l : local)
        for (int b = 0; b < kHistBins; ++b) st[v].hist[b] += l[v][b];
    }
  }

  QGraph q;
  q.graph = g;
  q.options = opt;
  q.enc.assign(g.values.size(), Encoding{});
  q.input = g.input;
  q.from_model = use_model;
  q.float_requant = float_requant;
  for (const Root& r : roots) {
    if (use_model) {
      // After a fused activation the activation's own quantization, else its producer's.
      const auto& tq = g.values[r.value].quant ? g.values[r.value].quant : g.values[r.pre].quant;
      if (!tq)
        throw ValidationError("value '" + g.values[r.value].name +
                              "' is not quantized in the model (no QuantizeLinear): a pre-quantized model must quantize its "
                              "input and every Conv, Gemm, MatMul and Add output (or re-quantize it: --quantization calibrate)");
      q.enc[r.value] = model_encoding(*tq, r.k);
      continue;
    }
    const Stats& s = st[r.value];
    double lo = std::isfinite(s.lo) ? s.lo : 0.0, hi = std::isfinite(s.hi) ? s.hi : 0.0;
    if (!s.hist.empty() && r.k < opt.abits && opt.range == RangeMode::Rescale) {
      // Constrained range, rescaled: the clip (a fraction of the observed range) minimizing MSE at k bits.
      const int levels = (1 << r.k) - 1;
      double best = std::numeric_limits<double>::infinity(), best_a = 1.0;
      for (int j = 100; j >= 5; --j) {
        const double a = j / 100.0;
        const double e = clip_mse(s, nonneg[r.value] ? 0.0 : std::min(lo, 0.0) * a, std::max(hi, 0.0) * a, levels);
        if (e < best) { best = e; best_a = a; }
      }
      lo *= best_a;
      hi *= best_a;
    } else {
      if (!s.hist.empty()) {
        const double p = opt.percentile / 100.0;
        hi = std::min(hi, hist_quantile(s, p));
        lo = std::max(lo, hist_quantile(s, 1.0 - p));
      }
      if (r.k < opt.abits) {
        // Constrained range, clipped: keep the A-bit step and keep only 2^k - 1 steps of range.
        const double a = static_cast<double>((1 << r.k) - 1) / static_cast<double>((1 << opt.abits) - 1);
        lo *= a;
        hi *= a;
      }
    }
    q.enc[r.value] = make_encoding(lo, hi, nonneg[r.value], opt.abits, r.k);
  }

  const int wmax = (1 << (opt.wbits - 1)) - 1;
  for (size_t i = 0; i < nn; ++i) {
    if (skipped[i]) continue;
    const Node& n = g.nodes[i];
    QLayer L;
    L.name = n.name;
    L.node = static_cast<int>(i);
    L.inputs = n.inputs;
    L.output = fused_act[i] >= 0 ? g.nodes[fused_act[i]].output : n.output;
    // Clamp bounds of a fused activation, in the output encoding.
    const Node* fused = fused_act[i] >= 0 ? &g.nodes[fused_act[i]] : nullptr;
    auto fused_bounds = [&](const Encoding& e) { set_clamp(L, e, fused); };
    switch (n.op) {
      case OpKind::Conv:
      case OpKind::Gemm: {
        L.op = QOp::Compute;
        const Encoding& ein = q.enc[n.inputs[0]];
        const Encoding& eout = q.enc[L.output];
        const int64_t nout = n.weight.shape[0];
        const int64_t kk = numel(n.weight.shape) / nout;
        L.weight.resize(static_cast<size_t>(nout * kk));
        L.bias.resize(static_cast<size_t>(nout));
        L.requant.resize(static_cast<size_t>(nout));
        L.weight_scale.resize(static_cast<size_t>(nout));
        if (use_model && !n.quant)
          throw ValidationError("layer '" + n.name + "': its weights are not quantized in the model (no DequantizeLinear on "
                                "them); quantize every Conv/Gemm/MatMul weight, or re-quantize it (--quantization calibrate)");
        if (float_requant) L.requant_scale.resize(static_cast<size_t>(nout));
        for (int64_t o = 0; o < nout; ++o) {
          double sw = 1.0;
          if (use_model) {
            // The file's integers and scales, exactly (symmetric int8, checked at import).
            sw = n.quant->weight_scale[o];
            for (int64_t j = 0; j < kk; ++j) L.weight[o * kk + j] = n.quant->weight[o * kk + j];
          } else {
            double amax = 0.0;
            for (int64_t j = 0; j < kk; ++j) amax = std::max(amax, std::fabs(static_cast<double>(n.weight.data[o * kk + j])));
            sw = amax > 0 ? amax / wmax : 1.0;
            for (int64_t j = 0; j < kk; ++j)
              L.weight[o * kk + j] = static_cast<int32_t>(round_clamp(n.weight.data[o * kk + j] / sw, -wmax, wmax));
          }
          L.weight_scale[o] = sw;
          const double sb = ein.scale * sw;
          L.bias[o] = use_model && !n.quant->bias.empty()
                          ? n.quant->bias[o]
                          : static_cast<int32_t>(round_clamp(n.bias[o] / sb, std::numeric_limits<int32_t>::min(),
                                                             std::numeric_limits<int32_t>::max()));
          L.requant[o] = checked_multiplier(sb / eout.scale, n.name, "requantization scale");
          // ONNX Runtime's order: x_scale * w_scale / y_scale, each step in float32.
          if (float_requant)
            L.requant_scale[o] = static_cast<float>(ein.scale) * static_cast<float>(sw) / static_cast<float>(eout.scale);
        }
        fused_bounds(eout);
        break;
      }
      case OpKind::Add: {
        L.op = QOp::Add;
        const Encoding& e1 = q.enc[n.inputs[0]];
        const Encoding& e2 = q.enc[n.inputs[1]];
        const Encoding& eout = q.enc[L.output];
        // TFLite reference Add: inputs scaled to 2*max(s1,s2) with `left_shift` bits of headroom.
        L.left_shift = std::min(20, 30 - (opt.abits + 1));
        const double twice_max = 2.0 * std::max(e1.scale, e2.scale);
        L.add_in[0] = checked_multiplier(e1.scale / twice_max, n.name, "input scale");
        L.add_in[1] = checked_multiplier(e2.scale / twice_max, n.name, "input scale");
        L.add_out = checked_multiplier(twice_max / (static_cast<double>(int64_t{1} << L.left_shift) * eout.scale), n.name,
                                       "output scale");
        if (float_requant) {
          L.add_scale[0] = static_cast<float>(e1.scale) / static_cast<float>(eout.scale);
          L.add_scale[1] = static_cast<float>(e2.scale) / static_cast<float>(eout.scale);
        }
        fused_bounds(eout);
        break;
      }
      case OpKind::Relu:
      case OpKind::Clip: {
        // A standalone activation (not after Conv/Gemm/Add): clamp in the input's encoding.
        L.op = QOp::Clamp;
        const Encoding& e = q.enc[n.inputs[0]];
        q.enc[L.output] = e;
        set_clamp(L, e, &n);
        break;
      }
      case OpKind::MaxPool: L.op = QOp::MaxPool; q.enc[L.output] = q.enc[n.inputs[0]]; break;
      case OpKind::AveragePool: L.op = QOp::AvgPool; q.enc[L.output] = q.enc[n.inputs[0]]; break;
      case OpKind::GlobalAveragePool: L.op = QOp::GlobalAvgPool; q.enc[L.output] = q.enc[n.inputs[0]]; break;
      case OpKind::Flatten:
      case OpKind::Reshape: L.op = QOp::Reshape; q.enc[L.output] = q.enc[n.inputs[0]]; break;
    }
    if (use_model && L.op != QOp::Compute && L.op != QOp::Add) {
      // These ops keep their input's integers; a model that rescales at them is not what ftdla computes.
      const auto& tq = g.values[L.output].quant;
      const Encoding& e = q.enc[L.output];
      if (tq && (static_cast<double>(tq->scale) != e.scale || tq->zero_point != e.zero_point + e.file_offset))
        throw UnsupportedError("layer '" + n.name + "' (" + model::op_name(n.op) +
                               "): the model gives its output other scales than its input's; ftdla keeps the input's "
                               "integers through pooling, reshapes and standalone activations");
    }
    q.layers.push_back(std::move(L));
  }
  q.output = g.output;
  // The graph output may be a fused activation's value: it is produced by its producer's layer.
  return q;
}

}  // namespace ftdla::quant
