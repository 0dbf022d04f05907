// SPDX-License-Identifier: MIT
#include "ftdla/engine/integer_engine.hpp"

#include <algorithm>
#include <limits>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/lowering.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::engine {

using model::Node;
using quant::QLayer;
using quant::QOp;

IntegerEngine::IntegerEngine(const quant::QGraph& q) : q_(q), pixels_(q.layers.size(), 0) {
  for (size_t l = 0; l < q.layers.size(); ++l)
    if (q.layers[l].op == QOp::Compute)
      pixels_[l] = model::gemm_dims(q.graph, q.graph.nodes[q.layers[l].node]).m;
}

void IntegerEngine::accumulate(size_t l, const std::vector<int32_t>& input, std::vector<int32_t>& acc) const {
  const QLayer& L = q_.layers[l];
  const Node& node = q_.graph.nodes[L.node];
  const model::GemmDims d = model::gemm_dims(q_.graph, node);
  const int32_t zp = q_.enc[L.inputs[0]].zero_point;
  const int pbits = q_.options.accbits;
  acc.resize(static_cast<size_t>(d.groups * d.n * d.m));
  // Products and sums in uint32: modular arithmetic is exact mod 2^32 (no signed-overflow UB), and the
  // P-bit register (P <= 32) keeps the low P bits. Scratch buffers are per thread to avoid allocations.
  thread_local std::vector<uint32_t> centered, col, sum;
  centered.resize(input.size());
  for (size_t i = 0; i < input.size(); ++i) centered[i] = static_cast<uint32_t>(input[i] - zp);
  if (node.op == model::OpKind::Gemm) {
    // M = 1: a dot product per output (vectorizes over k).
    for (int64_t n = 0; n < d.n; ++n) {
      const int32_t* w = L.weight.data() + n * d.k;
      uint32_t s = static_cast<uint32_t>(L.bias[n]);
      for (int64_t k = 0; k < d.k; ++k) s += static_cast<uint32_t>(w[k]) * centered[k];
      acc[n] = static_cast<int32_t>(wrap_signed(s, pbits));
    }
    return;
  }
  const Shape& in_shape = q_.graph.values[L.inputs[0]].shape;
  const Shape& out_shape = q_.graph.values[node.output].shape;
  col.resize(static_cast<size_t>(d.k * d.m));
  sum.resize(static_cast<size_t>(d.m));
  for (int64_t g = 0; g < d.groups; ++g) {
    model::im2col(centered.data(), in_shape, out_shape, node, g, uint32_t{0}, col.data());
    for (int64_t n = 0; n < d.n; ++n) {
      const int64_t oc = g * d.n + n;
      const int32_t* w = L.weight.data() + oc * d.k;
      std::fill(sum.begin(), sum.end(), static_cast<uint32_t>(L.bias[oc]));
      for (int64_t k = 0; k < d.k; ++k) {
        const uint32_t wk = static_cast<uint32_t>(w[k]);
        if (wk == 0) continue;
        const uint32_t* src = col.data() + k * d.m;
        uint32_t* dst = sum.data();
        for (int64_t m = 0; m < d.m; ++m) dst[m] += wk * src[m];
      }
      int32_t* out = acc.data() + oc * d.m;
      for (int64_t m = 0; m < d.m; ++m) out[m] = static_cast<int32_t>(wrap_signed(sum[m], pbits));
    }
  }
}

int32_t IntegerEngine::requantize(size_t l, int64_t channel, int32_t acc) const {
  const QLayer& L = q_.layers[l];
  const int64_t v = static_cast<int64_t>(quant::multiply_by_quantized_multiplier(acc, L.requant[channel])) +
                    q_.enc[L.output].zero_point;
  return static_cast<int32_t>(std::clamp<int64_t>(v, L.act_min, L.act_max));
}

void IntegerEngine::requantize_all(size_t l, const std::vector<int32_t>& acc, std::vector<int32_t>& out) const {
  const QLayer& L = q_.layers[l];
  const int64_t m = pixels_[l];
  const int64_t channels = static_cast<int64_t>(acc.size()) / m;
  const int64_t zp = q_.enc[L.output].zero_point;
  out.resize(acc.size());
  for (int64_t c = 0; c < channels; ++c) {
    const quant::QuantizedMultiplier qm = L.requant[c];
    for (int64_t i = c * m; i < (c + 1) * m; ++i) {
      const int64_t v = quant::multiply_by_quantized_multiplier(acc[i], qm) + zp;
      out[i] = static_cast<int32_t>(std::clamp<int64_t>(v, L.act_min, L.act_max));
    }
  }
}

void IntegerEngine::run_layer(size_t l, Trace& t) const {
  const QLayer& L = q_.layers[l];
  const std::vector<int32_t>& in = t.values[L.inputs[0]];
  std::vector<int32_t>& out = t.values[L.output];
  const Shape& is = q_.graph.values[L.inputs[0]].shape;
  const Shape& os = q_.graph.values[L.output].shape;
  switch (L.op) {
    case QOp::Compute:
      accumulate(l, in, t.acc[l]);
      requantize_all(l, t.acc[l], out);
      return;
    case QOp::Clamp:
      out.resize(in.size());
      for (size_t i = 0; i < in.size(); ++i) out[i] = std::clamp(in[i], L.act_min, L.act_max);
      return;
    case QOp::Reshape:
      out = in;
      return;
    case QOp::MaxPool:
    case QOp::AvgPool:
    case QOp::GlobalAvgPool:
      out.resize(static_cast<size_t>(numel(os)));
      for (int64_t o = 0; o < numel(os); ++o) out[o] = pool_one(l, in, o);
      return;
    case QOp::Add: {
      const std::vector<int32_t>& b = t.values[L.inputs[1]];
      out.resize(in.size());
      for (size_t i = 0; i < in.size(); ++i) out[i] = add_one(l, in[i], b[i]);
      return;
    }
  }
  (void)is;
}

int32_t IntegerEngine::add_one(size_t l, int32_t a, int32_t b) const {
  // TFLite reference int8 Add: both operands to a common scale with left_shift headroom, sum, rescale.
  const QLayer& L = q_.layers[l];
  const int32_t z1 = q_.enc[L.inputs[0]].zero_point, z2 = q_.enc[L.inputs[1]].zero_point;
  const int32_t s1 = quant::multiply_by_quantized_multiplier((a - z1) * (1 << L.left_shift), L.add_in[0]);
  const int32_t s2 = quant::multiply_by_quantized_multiplier((b - z2) * (1 << L.left_shift), L.add_in[1]);
  const int64_t r = static_cast<int64_t>(quant::multiply_by_quantized_multiplier(s1 + s2, L.add_out)) +
                    q_.enc[L.output].zero_point;
  return static_cast<int32_t>(std::clamp<int64_t>(r, L.act_min, L.act_max));
}

int32_t IntegerEngine::pool_one(size_t l, const std::vector<int32_t>& in, int64_t o) const {
  const QLayer& L = q_.layers[l];
  const Shape& is = q_.graph.values[L.inputs[0]].shape;
  const Shape& os = q_.graph.values[L.output].shape;
  const int32_t zp = q_.enc[L.inputs[0]].zero_point;
  if (L.op == QOp::GlobalAvgPool) {
    const int64_t hw = is[1] * is[2];
    int64_t acc = 0;
    for (int64_t i = 0; i < hw; ++i) acc += in[o * hw + i] - zp;
    return static_cast<int32_t>(quant::rounding_divide(acc, hw) + zp);
  }
  const Node& node = q_.graph.nodes[L.node];
  const bool is_max = L.op == QOp::MaxPool;
  const int64_t c = o / (os[1] * os[2]), y = (o / os[2]) % os[1], x = o % os[2];
  const int32_t* plane = in.data() + c * is[1] * is[2];
  int64_t acc = is_max ? std::numeric_limits<int64_t>::min() : 0;
  // Average pooling of (q - zp): padding taps are real zeros, so they add nothing (but may count).
  const int64_t cnt = model::for_each_window_tap(node.window, is[1], is[2], y, x, [&](int64_t iy, int64_t ix) {
    const int64_t v = plane[iy * is[2] + ix];
    acc = is_max ? std::max(acc, v) : acc + (v - zp);
  });
  if (is_max) return static_cast<int32_t>(acc == std::numeric_limits<int64_t>::min() ? zp : acc);
  return static_cast<int32_t>(cnt > 0 ? quant::rounding_divide(acc, cnt) + zp : zp);
}

void IntegerEngine::run_layers(size_t from, Trace& t) const {
  for (size_t l = from; l < q_.layers.size(); ++l) run_layer(l, t);
}

void IntegerEngine::run(const float* image, Trace& t) const {
  t.values.resize(q_.graph.values.size());
  t.acc.resize(q_.layers.size());
  t.values[q_.input] = q_.quantize_input(image);
  run_layers(0, t);
}

int IntegerEngine::predict(const Trace& t) const {
  const auto& v = t.values[q_.output];
  return model::argmax(v.data(), v.size());
}

EvalResult evaluate(const IntegerEngine& e, const data::Dataset& ds, int64_t limit) {
  quant::check_input_fits(e.qgraph().graph, ds);
  EvalResult r;
  r.images = limit > 0 ? std::min(limit, ds.count()) : ds.count();
  r.predictions.assign(static_cast<size_t>(r.images), -1);
#pragma omp parallel
  {
    Trace t;
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = 0; i < r.images; ++i) {
      e.run(ds.image(i), t);
      r.predictions[i] = e.predict(t);
    }
  }
  for (int64_t i = 0; i < r.images; ++i) r.correct += r.predictions[i] == ds.labels[i];
  r.accuracy = r.images ? static_cast<double>(r.correct) / static_cast<double>(r.images) : 0.0;
  return r;
}

EvalResult evaluate_float(const model::Graph& g, const data::Dataset& ds, int64_t limit) {
  quant::check_input_fits(g, ds);
  const model::FloatEngine fe(g);
  EvalResult r;
  r.images = limit > 0 ? std::min(limit, ds.count()) : ds.count();
  r.predictions.assign(static_cast<size_t>(r.images), -1);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < r.images; ++i) {
    const std::vector<float> logits = fe.run(ds.image(i));
    r.predictions[i] = model::argmax(logits.data(), logits.size());
  }
  for (int64_t i = 0; i < r.images; ++i) r.correct += r.predictions[i] == ds.labels[i];
  r.accuracy = r.images ? static_cast<double>(r.correct) / static_cast<double>(r.images) : 0.0;
  return r;
}

}  // namespace ftdla::engine
