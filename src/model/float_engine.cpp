// SPDX-License-Identifier: MIT
#include "ftdla/model/float_engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ftdla/model/lowering.hpp"

namespace ftdla::model {
namespace {

void run_compute(const Graph& g, const Node& node, const std::vector<float>& in, std::vector<float>& out) {
  const GemmDims d = gemm_dims(g, node);
  const Shape& in_shape = g.values[node.inputs[0]].shape;
  const Shape& out_shape = g.values[node.output].shape;
  if (node.op == OpKind::Gemm) {
    for (int64_t n = 0; n < d.n; ++n) {
      const float* w = node.weight.data.data() + n * d.k;
      float s = 0.0f;
      for (int64_t k = 0; k < d.k; ++k) s += w[k] * in[k];
      out[n] = s + node.bias[n];
    }
    return;
  }
  thread_local std::vector<float> col;
  for (int64_t grp = 0; grp < d.groups; ++grp) {
    const float* x = in.data();
    if (node.op == OpKind::Conv) {
      col.resize(static_cast<size_t>(d.k * d.m));
      im2col(in.data(), in_shape, out_shape, node, grp, 0.0f, col.data());
      x = col.data();
    }
    for (int64_t n = 0; n < d.n; ++n) {
      const int64_t oc = grp * d.n + n;
      float* dst = out.data() + oc * d.m;
      const float* w = node.weight.data.data() + oc * d.k;
      std::fill(dst, dst + d.m, 0.0f);
      for (int64_t k = 0; k < d.k; ++k) {
        const float wk = w[k];
        const float* src = x + k * d.m;
        for (int64_t m = 0; m < d.m; ++m) dst[m] += wk * src[m];
      }
      for (int64_t m = 0; m < d.m; ++m) dst[m] += node.bias[oc];
    }
  }
}

}  // namespace

std::vector<std::vector<float>> FloatEngine::run_all(const float* image) const {
  std::vector<std::vector<float>> v(g_.values.size());
  const Shape& in_shape = g_.values[g_.input].shape;
  v[g_.input].assign(image, image + numel(in_shape));
  for (const Node& node : g_.nodes) {
    const std::vector<float>& in = v[node.inputs[0]];
    std::vector<float>& out = v[node.output];
    const Shape& is = g_.values[node.inputs[0]].shape;
    const Shape& os = g_.values[node.output].shape;
    out.assign(static_cast<size_t>(numel(os)), 0.0f);
    switch (node.op) {
      case OpKind::Conv:
      case OpKind::Gemm:
        run_compute(g_, node, in, out);
        break;
      case OpKind::Relu:
        for (size_t i = 0; i < in.size(); ++i) out[i] = std::max(in[i], 0.0f);
        break;
      case OpKind::Clip:
        for (size_t i = 0; i < in.size(); ++i) out[i] = std::min(std::max(in[i], node.clip_min), node.clip_max);
        break;
      case OpKind::MaxPool:
      case OpKind::AveragePool: {
        const bool is_max = node.op == OpKind::MaxPool;
        for (int64_t c = 0; c < os[0]; ++c)
          for (int64_t y = 0; y < os[1]; ++y)
            for (int64_t x = 0; x < os[2]; ++x) {
              const float* plane = in.data() + c * is[1] * is[2];
              float acc = is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
              const int64_t cnt = for_each_window_tap(node.window, is[1], is[2], y, x, [&](int64_t iy, int64_t ix) {
                const float val = plane[iy * is[2] + ix];
                acc = is_max ? std::max(acc, val) : acc + val;
              });
              out[(c * os[1] + y) * os[2] + x] = is_max ? acc : (cnt > 0 ? acc / static_cast<float>(cnt) : 0.0f);
            }
        break;
      }
      case OpKind::GlobalAveragePool: {
        const int64_t hw = is[1] * is[2];
        for (int64_t c = 0; c < is[0]; ++c) {
          float acc = 0.0f;
          for (int64_t i = 0; i < hw; ++i) acc += in[c * hw + i];
          out[c] = acc / static_cast<float>(hw);
        }
        break;
      }
      case OpKind::Add: {
        const std::vector<float>& b = v[node.inputs[1]];
        for (size_t i = 0; i < in.size(); ++i) out[i] = in[i] + b[i];
        break;
      }
      case OpKind::Flatten:
      case OpKind::Reshape:
        out = in;
        break;
    }
  }
  return v;
}

std::vector<float> FloatEngine::run(const float* image) const { return run_all(image)[g_.output]; }

std::vector<float> FloatEngine::run_output(const float* image) const {
  std::vector<float> out = run(image);
  apply_final_op(g_.final_op, g_.values[g_.output].shape, out);
  return out;
}

void apply_final_op(const FinalOp& op, const Shape& shape, std::vector<float>& v) {
  if (op.kind == FinalOp::Kind::None) return;
  const char* name = op.kind == FinalOp::Kind::Softmax ? "Softmax" : "LogSoftmax";
  const int64_t rank = static_cast<int64_t>(shape.size()) + 1;  // with the batch dimension
  const int64_t axis = op.axis < 0 ? op.axis + rank : op.axis;
  if (axis < 0 || axis >= rank)
    throw ValidationError(std::string(name) + ": axis " + std::to_string(op.axis) + " is out of range for a rank-" +
                          std::to_string(rank) + " output");
  if (axis == 0)
    throw UnsupportedError(std::string(name) + ": axis " + std::to_string(op.axis) +
                           " is the batch axis (ftdla runs one image at a time)");
  // Per image: `outer` rows of `n` values `inner` apart. Opset < 13 flattens every dimension from the axis.
  const size_t p = static_cast<size_t>(axis - 1);
  int64_t outer = 1, n = 1, inner = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < p) outer *= shape[i];
    else if (i == p || op.flatten_from_axis) n *= shape[i];
    else inner *= shape[i];
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      float* x = v.data() + o * n * inner + in;
      // Shifted by the maximum so that exp never overflows; the sum in double.
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i * inner]);
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i * inner]) - mx);
      const double log_sum = std::log(sum);
      for (int64_t i = 0; i < n; ++i) {
        const double shifted = static_cast<double>(x[i * inner]) - mx;
        x[i * inner] = static_cast<float>(op.kind == FinalOp::Kind::Softmax ? std::exp(shifted) / sum : shifted - log_sum);
      }
    }
}

void check_batch(const Graph& g, const Shape& batch, const std::string& what) {
  const Value& in = g.values[g.input];
  Shape want{-1};
  want.insert(want.end(), in.shape.begin(), in.shape.end());
  const bool fits = batch.size() == want.size() && std::equal(batch.begin() + 1, batch.end(), want.begin() + 1);
  if (!fits) {
    std::string w = "[N";
    for (const int64_t d : in.shape) w += "," + std::to_string(d);
    throw ValidationError(what + ": shape " + to_string(batch) + " does not fit model input '" + in.name + "' " + w +
                          "] (the first dimension is the batch)");
  }
}

Tensor<float> run_batch(const Graph& g, const Tensor<float>& batch, const std::string& what) {
  check_batch(g, batch.shape, what);
  const int64_t n = batch.shape[0];
  const int64_t per_in = numel(g.values[g.input].shape), per_out = numel(g.values[g.output].shape);
  if (static_cast<int64_t>(batch.data.size()) != n * per_in)
    throw InternalError("run_batch: tensor data does not match its shape " + to_string(batch.shape));
  Shape out_shape{n};
  out_shape.insert(out_shape.end(), g.values[g.output].shape.begin(), g.values[g.output].shape.end());
  Tensor<float> out(out_shape);
  const FloatEngine e(g);
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<float> y = e.run_output(batch.data.data() + i * per_in);
    std::copy(y.begin(), y.end(), out.data.begin() + i * per_out);
  }
  return out;
}

}  // namespace ftdla::model
