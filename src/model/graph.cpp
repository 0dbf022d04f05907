// SPDX-License-Identifier: MIT
#include "ftdla/model/graph.hpp"

#include "ftdla/core/checked.hpp"
#include "ftdla/core/error.hpp"

namespace ftdla::model {

const char* op_name(OpKind op) {
  switch (op) {
    case OpKind::Conv: return "conv";
    case OpKind::Gemm: return "gemm";
    case OpKind::Relu: return "relu";
    case OpKind::Clip: return "clip";
    case OpKind::MaxPool: return "maxpool";
    case OpKind::AveragePool: return "avgpool";
    case OpKind::GlobalAveragePool: return "globalavgpool";
    case OpKind::Add: return "add";
    case OpKind::Flatten: return "flatten";
    case OpKind::Reshape: return "reshape";
  }
  return "?";
}

int64_t window_out_extent(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                          int64_t pad_end, bool ceil_mode) {
  // Pads and dilations come from the model file: int64-max values must not wrap into a plausible size.
  const char* what = "window extent";
  const int64_t padded = checked_add(checked_add(in, pad_begin, what), pad_end, what);
  const int64_t reach = checked_add(checked_mul(dilation, kernel - 1, what), 1, what);
  const int64_t span = checked_add(padded, -reach, what);
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? checked_add(span, stride - 1, what) / stride : span / stride) + 1;
  // ONNX/PyTorch: in ceil mode the last window must start inside the input or left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

int64_t Graph::macs(size_t i) const {
  const Node& n = nodes.at(i);
  const int64_t outs = numel(values[n.output].shape);
  if (n.op == OpKind::Conv) return outs * (numel(n.weight.shape) / n.weight.shape[0]);
  if (n.op == OpKind::Gemm) return outs * n.weight.shape[1];
  return 0;
}

int64_t Graph::total_macs() const {
  int64_t t = 0;
  for (size_t i = 0; i < nodes.size(); ++i) t += macs(i);
  return t;
}

bool Graph::pre_quantized() const {
  for (const Value& v : values)
    if (v.quant) return true;
  return false;
}

int Graph::consumers(int v) const {
  int c = (v == output) ? 1 : 0;
  for (const Node& n : nodes)
    for (int in : n.inputs) c += (in == v);
  return c;
}

Shape Graph::output_shape(const Node& n) const {
  auto fail = [](const Node& n, const std::string& what) {
    throw ValidationError("node '" + n.name + "' (" + op_name(n.op) + "): " + what);
  };
  try {
    return output_shape_unchecked(n);
  } catch (const ValidationError& e) {
    // Size overflows (numel, window arithmetic) do not know the node: name it.
    if (std::string(e.what()).rfind("node '", 0) == 0) throw;
    fail(n, e.what());
  }
  return {};
}

void Graph::infer_shapes() {
  for (Node& n : nodes) values.at(n.output).shape = output_shape(n);
}

Shape Graph::output_shape_unchecked(const Node& n) const {
  auto fail = [](const Node& n, const std::string& what) {
    throw ValidationError("node '" + n.name + "' (" + op_name(n.op) + "): " + what);
  };
  const Shape& in = values.at(n.inputs.at(0)).shape;
  Shape out;
  switch (n.op) {
    case OpKind::Conv: {
      if (in.size() != 3) fail(n, "expects a [C,H,W] input (got " + to_string(in) + ")");
      const int64_t k = n.weight.shape[0], cg = n.weight.shape[1];
      if (in[0] != checked_mul(cg, n.groups, "conv input channels"))
        fail(n, "input has " + std::to_string(in[0]) + " channels, weight expects " +
                    std::to_string(cg * n.groups));  // checked just above
      if (k % n.groups != 0) fail(n, "output channels not divisible by groups");
      const Window& w = n.window;
      const int64_t oh = window_out_extent(in[1], w.kernel_h, w.stride_h, w.dilation_h, w.pads[0], w.pads[2], false);
      const int64_t ow = window_out_extent(in[2], w.kernel_w, w.stride_w, w.dilation_w, w.pads[1], w.pads[3], false);
      if (oh <= 0 || ow <= 0) fail(n, "kernel larger than padded input " + to_string(in));
      out = {k, oh, ow};
      break;
    }
    case OpKind::Gemm:
      if (numel(in) != n.weight.shape[1] || in.size() != 1)
        fail(n, "expects a flat input of " + std::to_string(n.weight.shape[1]) + " features (got " +
                    to_string(in) + ")");
      out = {n.weight.shape[0]};
      break;
    case OpKind::MaxPool:
    case OpKind::AveragePool: {
      if (in.size() != 3) fail(n, "expects a [C,H,W] input (got " + to_string(in) + ")");
      const Window& w = n.window;
      const int64_t oh = window_out_extent(in[1], w.kernel_h, w.stride_h, w.dilation_h, w.pads[0], w.pads[2], w.ceil_mode);
      const int64_t ow = window_out_extent(in[2], w.kernel_w, w.stride_w, w.dilation_w, w.pads[1], w.pads[3], w.ceil_mode);
      if (oh <= 0 || ow <= 0) fail(n, "window larger than padded input " + to_string(in));
      out = {in[0], oh, ow};
      break;
    }
    case OpKind::GlobalAveragePool:
      if (in.size() != 3) fail(n, "expects a [C,H,W] input (got " + to_string(in) + ")");
      out = {in[0], 1, 1};
      break;
    case OpKind::Add: {
      const Shape& b = values.at(n.inputs.at(1)).shape;
      if (in != b) fail(n, "operand shapes differ (" + to_string(in) + " vs " + to_string(b) + "); broadcasting is not supported");
      out = in;
      break;
    }
    case OpKind::Flatten:
      out = {numel(in)};
      break;
    case OpKind::Reshape: {
      // The target shape was stored (per image) in weight.shape at import time.
      out = n.weight.shape;
      int64_t known = 1, infer = -1;
      for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == -1) infer = static_cast<int64_t>(i);
        else known = checked_mul(known, out[i], "reshape target");
      }
      if (infer >= 0) {
        if (known == 0 || numel(in) % known != 0) fail(n, "cannot reshape " + to_string(in));
        out[infer] = numel(in) / known;
      }
      if (numel(out) != numel(in)) fail(n, "reshape " + to_string(in) + " to " + to_string(out) + " changes the element count");
      break;
    }
    case OpKind::Relu:
    case OpKind::Clip:
      out = in;
      break;
  }
  return out;
}

}  // namespace ftdla::model
