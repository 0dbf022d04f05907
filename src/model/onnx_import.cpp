// SPDX-License-Identifier: MIT
// ONNX import. Operator semantics follow the ONNX operator docs (opset 7..18 for the ops we accept).
#include "ftdla/model/onnx_import.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/text.hpp"
#include "onnx/onnx_pb.h"

namespace ftdla::model {
namespace {

struct Const {
  Shape dims;
  std::vector<float> f;    // FLOAT/DOUBLE data
  std::vector<int64_t> i;  // INT64/INT32 data
};

/// Bound on the decoded initializer data of one model (as float, 4 bytes a value): above any model ftdla
/// targets, and far below what a forged shape could make it allocate.
constexpr int64_t kMaxInitializerBytes = int64_t{2} << 30;
/// Kernel, stride, dilation and pad values above this are not a real model (and would strain the int64
/// window arithmetic).
constexpr int64_t kMaxWindowAttr = int64_t{1} << 24;

Const to_const(const onnx::TensorProto& t, const std::string& where, int64_t* budget) {
  Const c;
  for (auto d : t.dims()) {
    if (d < 0) throw ImportError(where + ": negative dimension " + std::to_string(d) + " in dims");
    c.dims.push_back(d);
  }
  int64_t n = 0;
  try {
    n = numel(c.dims);
  } catch (const ValidationError&) {
    throw ImportError(where + ": dims " + to_string(c.dims) + " overflow int64");
  }
  // Declared size x element size must match the data present before anything is allocated.
  auto check_raw = [&](const std::string& raw, int64_t elem, const char* type) {
    if (n > static_cast<int64_t>(raw.size()) / elem || n * elem != static_cast<int64_t>(raw.size()))
      throw ImportError(where + ": raw " + type + " data has " + std::to_string(raw.size()) + " bytes, dims " +
                        to_string(c.dims) + " need " + (n > INT64_MAX / elem ? std::string("more") : std::to_string(n * elem)));
  };
  auto check_list = [&](int64_t have) {
    if (have != n) throw ImportError(where + ": tensor has " + std::to_string(have) + " values, dims say " + std::to_string(n));
  };
  if (budget) {
    if (n > *budget / 4) throw ImportError(where + ": initializers exceed " + std::to_string(kMaxInitializerBytes >> 30) + " GiB in all");
    *budget -= n * 4;
  }
  const std::string& raw = t.raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (!raw.empty()) {
        check_raw(raw, 4, "float");
        c.f.resize(static_cast<size_t>(n));
        std::memcpy(c.f.data(), raw.data(), raw.size());
      } else {
        check_list(t.float_data_size());
        c.f.assign(t.float_data().begin(), t.float_data().end());
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (!raw.empty()) {
        check_raw(raw, 8, "double");
        std::vector<double> d(static_cast<size_t>(n));
        std::memcpy(d.data(), raw.data(), raw.size());
        c.f.assign(d.begin(), d.end());
      } else {
        check_list(t.double_data_size());
        c.f.assign(t.double_data().begin(), t.double_data().end());
      }
      break;
    case onnx::TensorProto::INT64:
      if (!raw.empty()) {
        check_raw(raw, 8, "int64");
        c.i.resize(static_cast<size_t>(n));
        std::memcpy(c.i.data(), raw.data(), raw.size());
      } else {
        check_list(t.int64_data_size());
        c.i.assign(t.int64_data().begin(), t.int64_data().end());
      }
      break;
    case onnx::TensorProto::BOOL:  // e.g. Dropout's training_mode: one byte a value raw, else int32_data
      if (!raw.empty()) {
        check_raw(raw, 1, "bool");
        c.i.assign(raw.begin(), raw.end());
      } else {
        check_list(t.int32_data_size());
        c.i.assign(t.int32_data().begin(), t.int32_data().end());
      }
      break;
    case onnx::TensorProto::INT32:
      if (!raw.empty()) {
        check_raw(raw, 4, "int32");
        std::vector<int32_t> d(static_cast<size_t>(n));
        std::memcpy(d.data(), raw.data(), raw.size());
        c.i.assign(d.begin(), d.end());
      } else {
        check_list(t.int32_data_size());
        c.i.assign(t.int32_data().begin(), t.int32_data().end());
      }
      break;
    default:
      throw UnsupportedError(where + ": tensor data type " + std::to_string(t.data_type()) +
                             " is not supported (float, double, int32, int64, bool are)");
  }
  if (!c.i.empty() && c.f.empty()) c.f.assign(c.i.begin(), c.i.end());
  return c;
}

class Importer {
 public:
  Importer(const onnx::ModelProto& m, std::string origin) : m_(m), origin_(std::move(origin)) {
    for (const auto& op : m.opset_import())
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = op.version();
  }

  Graph run() {
    const onnx::GraphProto& gp = m_.graph();
    if (gp.node_size() == 0) throw ImportError(origin_ + ": not an ONNX model (no graph nodes)");
    g_.name = gp.name();
    for (const auto& t : gp.initializer()) {
      if (consts_.count(t.name())) throw ImportError(origin_ + ": initializer '" + excerpt(t.name()) + "' is defined twice");
      consts_[t.name()] = to_const(t, origin_ + ": initializer '" + excerpt(t.name()) + "'", &budget_);
    }
    for (const auto& n : gp.node()) {
      for (const auto& in : n.input()) ++uses_[in];
      for (const auto& o : n.output())
        if (!o.empty()) later_.insert(o);
    }
    for (const auto& o : gp.output()) ++uses_[o.name()];

    // The single non-initializer graph input is the image.
    for (const auto& vi : gp.input()) {
      if (consts_.count(vi.name())) continue;
      if (g_.input >= 0) throw UnsupportedError(origin_ + ": models with more than one input are not supported (second input '" + vi.name() + "')");
      const auto& tt = vi.type().tensor_type();
      if (tt.elem_type() != onnx::TensorProto::FLOAT)
        throw UnsupportedError(origin_ + ": input '" + vi.name() + "' must be float32");
      Shape s;
      const auto& dims = tt.shape().dim();
      for (int d = 1; d < dims.size(); ++d) {
        if (!dims[d].has_dim_value())
          throw UnsupportedError(origin_ + ": input '" + vi.name() + "' has a symbolic non-batch dimension");
        if (dims[d].dim_value() < 1)
          throw ImportError(origin_ + ": input '" + vi.name() + "' has dimension " + std::to_string(dims[d].dim_value()) +
                            " (expected >= 1)");
        s.push_back(dims[d].dim_value());
      }
      try {
        (void)numel(s);
      } catch (const ValidationError&) {
        throw ImportError(origin_ + ": input '" + vi.name() + "' shape " + to_string(s) + " overflows int64");
      }
      if (dims.size() < 2) throw UnsupportedError(origin_ + ": input '" + vi.name() + "' must have a batch dimension");
      declared_batch_ = dims[0].has_dim_value() ? dims[0].dim_value() : 0;
      g_.input = add_value(vi.name(), s);
    }
    if (g_.input < 0) throw ImportError(origin_ + ": the graph has no (non-initializer) input");
    if (gp.output_size() != 1) throw UnsupportedError(origin_ + ": models must have exactly one output (got " + std::to_string(gp.output_size()) + ")");
    output_name_ = gp.output(0).name();
    g_.output_name = output_name_;

    int idx = 0;
    for (const auto& n : gp.node()) {
      try {
        convert(n, idx++);
      } catch (const ValidationError& e) {
        // Size overflows (numel) do not know the node: name it.
        const std::string msg = e.what();
        if (msg.rfind(origin_, 0) == 0 || msg.rfind("node '", 0) == 0) throw;
        throw ValidationError(where(n) + ": " + e.what());
      }
    }

    auto it = ids_.find(output_name_);
    if (it == ids_.end()) throw ImportError(origin_ + ": graph output '" + output_name_ + "' is not produced by any node");
    g_.output = it->second;
    g_.infer_shapes();
    // Folding (BatchNormalization, Gemm alpha, constant Add) can overflow finite parameters.
    for (const Node& node : g_.nodes) {
      if (!is_compute(node.op)) continue;
      auto finite = [](float x) { return std::isfinite(x); };
      if (!std::all_of(node.weight.data.begin(), node.weight.data.end(), finite) ||
          !std::all_of(node.bias.begin(), node.bias.end(), finite))
        throw ValidationError(origin_ + ": node '" + node.name + "' (" + op_name(node.op) +
                              "): weights or bias are not finite after folding BatchNormalization/Add/alpha");
    }
    return std::move(g_);
  }

 private:
  int add_value(const std::string& name, Shape s = {}) {
    if (ids_.count(name) || consts_.count(name))
      throw ImportError(origin_ + ": value '" + excerpt(name) + "' is defined twice (duplicate node output or input)");
    g_.values.push_back({name, std::move(s)});
    const int id = static_cast<int>(g_.values.size()) - 1;
    ids_[name] = id;
    return id;
  }

  std::string where(const onnx::NodeProto& n) const {
    return origin_ + ": node '" + excerpt(n.name()) + "' (" + excerpt(n.op_type()) + ")";
  }

  /// A node output must be new: a name produced twice would silently rebind later readers.
  void define(const onnx::NodeProto& n, const std::string& name) {
    if (ids_.count(name) || consts_.count(name))
      throw ImportError(where(n) + ": output '" + excerpt(name) + "' is already defined by an earlier node, input or initializer");
  }

  int value_of(const onnx::NodeProto& n, int i) const {
    if (i >= n.input_size() || n.input(i).empty()) throw ImportError(where(n) + ": missing input " + std::to_string(i));
    auto it = ids_.find(n.input(i));
    if (it == ids_.end()) {
      if (consts_.count(n.input(i)))
        throw UnsupportedError(where(n) + ": constant operand '" + excerpt(n.input(i)) + "' where an activation is expected");
      if (later_.count(n.input(i)))
        throw ImportError(where(n) + ": input '" + excerpt(n.input(i)) +
                          "' is produced only by this or a later node (a cycle, or nodes not in topological order)");
      throw ImportError(where(n) + ": input '" + excerpt(n.input(i)) + "' is not defined (no node, input or initializer produces it)");
    }
    return it->second;
  }

  const Const* const_of(const onnx::NodeProto& n, int i) const {
    if (i >= n.input_size() || n.input(i).empty()) return nullptr;
    auto it = consts_.find(n.input(i));
    return it == consts_.end() ? nullptr : &it->second;
  }

  const Const& require_const(const onnx::NodeProto& n, int i, const char* what) const {
    const Const* c = const_of(n, i);
    if (!c) throw UnsupportedError(where(n) + ": " + what + " must be a constant initializer");
    return *c;
  }

  /// A weight-like constant (weights, biases, BatchNormalization parameters): every value finite.
  const Const& finite(const onnx::NodeProto& n, int i, const Const& c) const {
    for (size_t j = 0; j < c.f.size(); ++j)
      if (!std::isfinite(c.f[j]))
        throw ValidationError(where(n) + ": initializer '" + excerpt(n.input(i)) + "' holds a non-finite value (" +
                              (std::isnan(c.f[j]) ? "NaN" : "Inf") + ") at index " + std::to_string(j));
    return c;
  }
  const Const& require_weight(const onnx::NodeProto& n, int i, const char* what) const {
    return finite(n, i, require_const(n, i, what));
  }
  const Const* weight_of(const onnx::NodeProto& n, int i) const {
    const Const* c = const_of(n, i);
    return c ? &finite(n, i, *c) : nullptr;
  }

  static const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  static int64_t attr_i(const onnx::NodeProto& n, const char* name, int64_t def) {
    const auto* a = attr(n, name);
    return a ? a->i() : def;
  }
  static float attr_f(const onnx::NodeProto& n, const char* name, float def) {
    const auto* a = attr(n, name);
    return a ? a->f() : def;
  }
  static std::vector<int64_t> attr_ints(const onnx::NodeProto& n, const char* name) {
    const auto* a = attr(n, name);
    if (!a) return {};
    return {a->ints().begin(), a->ints().end()};
  }

  /// Parse kernel/strides/pads/dilations/auto_pad for a 2-D window op on input of extent (h, w).
  Window parse_window(const onnx::NodeProto& n, int64_t kh, int64_t kw, const Shape& in) const {
    Window w;
    w.kernel_h = kh;
    w.kernel_w = kw;
    auto strides = attr_ints(n, "strides");
    auto dil = attr_ints(n, "dilations");
    auto pads = attr_ints(n, "pads");
    if (!strides.empty()) {
      if (strides.size() != 2) throw UnsupportedError(where(n) + ": only 2-D windows are supported");
      w.stride_h = strides[0];
      w.stride_w = strides[1];
    }
    if (!dil.empty()) {
      if (dil.size() != 2) throw UnsupportedError(where(n) + ": only 2-D windows are supported");
      w.dilation_h = dil[0];
      w.dilation_w = dil[1];
    }
    if (!pads.empty()) {
      if (pads.size() != 4) throw UnsupportedError(where(n) + ": only 2-D windows are supported");
      w.pads = {pads[0], pads[1], pads[2], pads[3]};
    }
    if (w.stride_h <= 0 || w.stride_w <= 0 || w.dilation_h <= 0 || w.dilation_w <= 0 || kh <= 0 || kw <= 0)
      throw ValidationError(where(n) + ": kernel, strides and dilations must be positive");
    for (auto p : w.pads)
      if (p < 0) throw ValidationError(where(n) + ": negative pads");
    for (int64_t v : {kh, kw, w.stride_h, w.stride_w, w.dilation_h, w.dilation_w, w.pads[0], w.pads[1], w.pads[2], w.pads[3]})
      if (v > kMaxWindowAttr)
        throw ValidationError(where(n) + ": kernel, strides, dilations and pads must be <= " + std::to_string(kMaxWindowAttr) +
                              " (got " + std::to_string(v) + ")");
    const auto* ap = attr(n, "auto_pad");
    const std::string auto_pad = ap ? ap->s() : "NOTSET";
    if (auto_pad == "VALID") {
      w.pads = {0, 0, 0, 0};
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      if (in.size() != 3) throw ValidationError(where(n) + ": auto_pad needs a [C,H,W] input");
      auto same = [&](int64_t extent, int64_t k, int64_t s, int64_t d, int64_t& b, int64_t& e) {
        const int64_t out = (extent + s - 1) / s;
        const int64_t total = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - extent);
        b = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        e = total - b;
      };
      same(in[1], kh, w.stride_h, w.dilation_h, w.pads[0], w.pads[2]);
      same(in[2], kw, w.stride_w, w.dilation_w, w.pads[1], w.pads[3]);
    } else if (auto_pad != "NOTSET") {
      throw UnsupportedError(where(n) + ": auto_pad '" + auto_pad + "'");
    }
    return w;
  }

  void alias(const onnx::NodeProto& n, int value) {
    if (n.output_size() < 1) throw ImportError(where(n) + ": no output");
    define(n, n.output(0));
    for (int o = 1; o < n.output_size(); ++o)
      if (!n.output(o).empty() && uses_[n.output(o)] > 0)
        throw UnsupportedError(where(n) + ": secondary output '" + n.output(o) + "' is used");
    ids_[n.output(0)] = value;
  }

  Node& emit(const onnx::NodeProto& n, OpKind op, std::vector<int> inputs, int idx) {
    Node node;
    node.name = n.name().empty() ? std::string(op_name(op)) + "_" + std::to_string(idx) : n.name();
    node.op = op;
    node.inputs = std::move(inputs);
    for (int o = 1; o < n.output_size(); ++o)
      if (!n.output(o).empty() && uses_[n.output(o)] > 0)
        throw UnsupportedError(where(n) + ": secondary output '" + n.output(o) + "' is used");
    define(n, n.output(0));
    node.output = add_value(n.output(0));
    g_.nodes.push_back(std::move(node));
    producer_[g_.nodes.back().output] = g_.nodes.size() - 1;
    return g_.nodes.back();
  }

  /// The Conv/Gemm node producing value v, if v has no other consumer (so we may rewrite it in place).
  Node* foldable_producer(const onnx::NodeProto& n, int input_index) {
    auto it = producer_.find(value_of(n, input_index));
    if (it == producer_.end()) return nullptr;
    Node& p = g_.nodes[it->second];
    if (!is_compute(p.op)) return nullptr;
    if (uses_[n.input(input_index)] != 1) return nullptr;
    return &p;
  }

  void convert(const onnx::NodeProto& n, int idx) {
    const std::string& t = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      throw UnsupportedError(where(n) + ": unsupported op domain '" + n.domain() + "'");
    if (n.output_size() < 1) throw ImportError(where(n) + ": node has no output");

    if (t == "Constant") {
      const auto* a = attr(n, "value");
      if (!a || !a->has_t()) throw UnsupportedError(where(n) + ": only the 'value' form of Constant is supported");
      define(n, n.output(0));
      consts_[n.output(0)] = to_const(a->t(), where(n), &budget_);
    } else if (t == "Identity" || t == "Dropout") {
      // Inference-mode Dropout is the identity; training_mode (opset 12+) would make it random.
      if (t == "Dropout" && n.input_size() > 2 && !n.input(2).empty()) {
        const Const& tm = require_const(n, 2, "Dropout training_mode");
        if (std::any_of(tm.f.begin(), tm.f.end(), [](float v) { return v != 0.0f; }))
          throw UnsupportedError(where(n) + ": training_mode=1 (random dropout) is not supported");
      }
      if (const Const* c = const_of(n, 0)) {
        define(n, n.output(0));
        consts_[n.output(0)] = *c;
      } else {
        alias(n, value_of(n, 0));
      }
    } else if (t == "Softmax" || t == "LogSoftmax") {
      // Monotonic per row: argmax is unchanged, so a final Softmax is taken off the nodes and kept as
      // Graph::final_op, which only FloatEngine::run_output applies (its axis is checked there, so models
      // that import today still do).
      if (n.output(0) != output_name_)
        throw UnsupportedError(where(n) + ": " + t + " is supported only as the last op (it is dropped for argmax)");
      output_name_ = n.input(0);
      g_.final_op.kind = t == "Softmax" ? FinalOp::Kind::Softmax : FinalOp::Kind::LogSoftmax;
      g_.final_op.flatten_from_axis = opset_ < 13;
      g_.final_op.axis = attr_i(n, "axis", opset_ < 13 ? 1 : -1);
    } else if (t == "Conv") {
      const int x = value_of(n, 0);
      const Const& w = require_weight(n, 1, "Conv weight");
      if (w.dims.size() != 4) throw UnsupportedError(where(n) + ": only 2-D convolution is supported");
      if (std::find(w.dims.begin(), w.dims.end(), 0) != w.dims.end())
        throw ValidationError(where(n) + ": weight has an empty dimension " + to_string(w.dims));
      Node& node = emit(n, OpKind::Conv, {x}, idx);
      node.weight = Tensor<float>(w.dims, w.f);
      node.groups = attr_i(n, "group", 1);
      if (node.groups <= 0) throw ValidationError(where(n) + ": group must be positive");
      auto ks = attr_ints(n, "kernel_shape");
      if (!ks.empty() && (ks.size() != 2 || ks[0] != w.dims[2] || ks[1] != w.dims[3]))
        throw ValidationError(where(n) + ": kernel_shape does not match the weight");
      node.window = parse_window(n, w.dims[2], w.dims[3], g_.values[x].shape);
      node.bias.assign(static_cast<size_t>(w.dims[0]), 0.0f);
      if (const Const* b = weight_of(n, 2)) {
        if (static_cast<int64_t>(b->f.size()) != w.dims[0]) throw ValidationError(where(n) + ": bias size does not match output channels");
        node.bias = b->f;
      } else if (n.input_size() > 2 && !n.input(2).empty()) {
        throw UnsupportedError(where(n) + ": Conv bias must be a constant initializer");
      }
      shape_now(node);
    } else if (t == "Gemm" || t == "MatMul") {
      const int x = value_of(n, 0);
      const Const& b = require_weight(n, 1, t == "Gemm" ? "Gemm B" : "MatMul B");
      if (b.dims.size() != 2) throw UnsupportedError(where(n) + ": B must be 2-D");
      if (b.dims[0] == 0 || b.dims[1] == 0) throw ValidationError(where(n) + ": B has an empty dimension " + to_string(b.dims));
      bool trans_b = false;
      float alpha = 1.0f, beta = 1.0f;
      if (t == "Gemm") {
        if (attr_i(n, "transA", 0) != 0) throw UnsupportedError(where(n) + ": transA=1 is not supported");
        trans_b = attr_i(n, "transB", 0) != 0;
        alpha = attr_f(n, "alpha", 1.0f);
        beta = attr_f(n, "beta", 1.0f);
        if (!std::isfinite(alpha) || !std::isfinite(beta)) throw ValidationError(where(n) + ": alpha and beta must be finite");
      }
      const int64_t nin = trans_b ? b.dims[1] : b.dims[0];
      const int64_t nout = trans_b ? b.dims[0] : b.dims[1];
      const Shape& xs = g_.values[x].shape;
      if (xs.size() != 1) throw UnsupportedError(where(n) + ": input must be [N, features] (got per-image shape " + to_string(xs) + "); add a Flatten");
      Node& node = emit(n, OpKind::Gemm, {x}, idx);
      node.weight = Tensor<float>({nout, nin});
      for (int64_t o = 0; o < nout; ++o)
        for (int64_t i = 0; i < nin; ++i)
          node.weight.data[o * nin + i] = alpha * (trans_b ? b.f[o * nin + i] : b.f[i * nout + o]);
      node.bias.assign(static_cast<size_t>(nout), 0.0f);
      if (t == "Gemm") {
        if (const Const* c = weight_of(n, 2)) {
          const int64_t cn = numel(c->dims);
          if (!(cn == nout || cn == 1)) throw UnsupportedError(where(n) + ": C must be a vector of " + std::to_string(nout) + " or a scalar");
          for (int64_t o = 0; o < nout; ++o) node.bias[o] = beta * c->f[cn == 1 ? 0 : o];
        } else if (n.input_size() > 2 && !n.input(2).empty()) {
          throw UnsupportedError(where(n) + ": Gemm C must be a constant initializer");
        }
      }
      shape_now(node);
    } else if (t == "BatchNormalization") {
      if (attr_i(n, "training_mode", 0) != 0) throw UnsupportedError(where(n) + ": training_mode=1 is not supported");
      const int x = value_of(n, 0);
      Node* p = foldable_producer(n, 0);
      if (!p) throw UnsupportedError(where(n) + ": BatchNormalization must directly follow a Conv or Gemm whose output has no other use (it is folded)");
      const Const& scale = require_weight(n, 1, "scale");
      const Const& bias = require_weight(n, 2, "bias");
      const Const& mean = require_weight(n, 3, "mean");
      const Const& var = require_weight(n, 4, "var");
      const float eps = attr_f(n, "epsilon", 1e-5f);
      if (!(eps >= 0.0f) || !std::isfinite(eps)) throw ValidationError(where(n) + ": epsilon must be finite and >= 0");
      const int64_t k = p->weight.shape[0];
      for (const Const* c : {&scale, &bias, &mean, &var})
        if (static_cast<int64_t>(c->f.size()) != k) throw ValidationError(where(n) + ": parameter size does not match " + std::to_string(k) + " channels");
      const int64_t per = numel(p->weight.shape) / k;
      for (int64_t o = 0; o < k; ++o) {
        // y = (x - mean) * scale / sqrt(var + eps) + bias, folded into the producer's weight and bias.
        const double f = static_cast<double>(scale.f[o]) / std::sqrt(static_cast<double>(var.f[o]) + eps);
        for (int64_t i = 0; i < per; ++i) p->weight.data[o * per + i] = static_cast<float>(p->weight.data[o * per + i] * f);
        p->bias[o] = static_cast<float>((p->bias[o] - mean.f[o]) * f + bias.f[o]);
      }
      alias(n, x);
    } else if (t == "Relu") {
      emit(n, OpKind::Relu, {value_of(n, 0)}, idx);
      shape_now(g_.nodes.back());
    } else if (t == "Clip") {
      const int x = value_of(n, 0);
      float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
      if (opset_ < 11) {
        lo = attr_f(n, "min", lo);
        hi = attr_f(n, "max", hi);
      } else {
        for (int i : {1, 2}) {
          if (i < n.input_size() && !n.input(i).empty()) {
            const Const& c = require_const(n, i, i == 1 ? "Clip min" : "Clip max");
            if (c.f.size() != 1) throw UnsupportedError(where(n) + ": Clip bounds must be scalars");
            (i == 1 ? lo : hi) = c.f[0];
          }
        }
      }
      if (lo > hi) throw ValidationError(where(n) + ": Clip min > max");
      Node& node = emit(n, OpKind::Clip, {x}, idx);
      node.clip_min = lo;
      node.clip_max = hi;
      shape_now(node);
    } else if (t == "MaxPool" || t == "AveragePool") {
      const int x = value_of(n, 0);
      auto ks = attr_ints(n, "kernel_shape");
      if (ks.size() != 2) throw UnsupportedError(where(n) + ": only 2-D pooling is supported");
      if (attr_i(n, "storage_order", 0) != 0) throw UnsupportedError(where(n) + ": storage_order=1");
      Node& node = emit(n, t == "MaxPool" ? OpKind::MaxPool : OpKind::AveragePool, {x}, idx);
      node.window = parse_window(n, ks[0], ks[1], g_.values[x].shape);
      node.window.ceil_mode = attr_i(n, "ceil_mode", 0) != 0;
      node.window.count_include_pad = attr_i(n, "count_include_pad", 0) != 0;
      if (node.op == OpKind::AveragePool && (node.window.dilation_h != 1 || node.window.dilation_w != 1))
        throw UnsupportedError(where(n) + ": dilated AveragePool");
      shape_now(node);
    } else if (t == "GlobalAveragePool") {
      emit(n, OpKind::GlobalAveragePool, {value_of(n, 0)}, idx);
      shape_now(g_.nodes.back());
    } else if (t == "Add") {
      const Const* c0 = const_of(n, 0);
      const Const* c1 = const_of(n, 1);
      if (c0 && c1) throw UnsupportedError(where(n) + ": Add of two constants");
      if (c0 || c1) {
        const int x = value_of(n, c0 ? 1 : 0);
        const Const& c = finite(n, c0 ? 0 : 1, c0 ? *c0 : *c1);
        Node* p = foldable_producer(n, c0 ? 1 : 0);
        if (!p) throw UnsupportedError(where(n) + ": Add with a constant is supported only right after Conv/Gemm/MatMul (folded into the bias)");
        const int64_t k = p->weight.shape[0];
        const int64_t cn = numel(c.dims);
        if (!(cn == k || cn == 1)) throw UnsupportedError(where(n) + ": constant operand must be per output channel (" + std::to_string(k) + " values) or a scalar");
        for (int64_t o = 0; o < k; ++o) p->bias[o] += c.f[cn == 1 ? 0 : o];
        alias(n, x);
      } else {
        emit(n, OpKind::Add, {value_of(n, 0), value_of(n, 1)}, idx);
        shape_now(g_.nodes.back());
      }
    } else if (t == "Flatten") {
      const int x = value_of(n, 0);
      // A negative axis counts from the end of the batched tensor (per-image rank + 1).
      const int64_t axis = attr_i(n, "axis", 1);
      const int64_t rank = static_cast<int64_t>(g_.values[x].shape.size()) + 1;
      if ((axis < 0 ? axis + rank : axis) != 1)
        throw UnsupportedError(where(n) + ": only axis=1 is supported (got " + std::to_string(axis) + " on a rank-" +
                               std::to_string(rank) + " input; other axes mix the batch into the rows)");
      emit(n, OpKind::Flatten, {x}, idx);
      shape_now(g_.nodes.back());
    } else if (t == "Reshape") {
      const int x = value_of(n, 0);
      const Const& s = require_const(n, 1, "Reshape shape");
      if (s.i.empty()) throw UnsupportedError(where(n) + ": shape must be an int64 constant");
      Shape full = {1};
      for (auto d : g_.values[x].shape) full.push_back(d);
      Shape target = s.i;
      const bool allowzero = attr_i(n, "allowzero", 0) != 0;
      for (size_t i = 0; i < target.size(); ++i)
        if (target[i] == 0 && !allowzero) {
          if (i >= full.size()) throw ValidationError(where(n) + ": shape copies a dimension the input lacks");
          target[i] = full[i];
        }
      // The batch stays the first dimension: 1 or -1, or the fixed batch size the model input declares (a
      // model exported at batch N writes N there).
      if (target.empty() || !(target[0] == 1 || target[0] == -1 || (declared_batch_ > 1 && target[0] == declared_batch_)))
        throw UnsupportedError(where(n) + ": the first (batch) dimension must stay 1 or -1 (got " + to_string(s.i) + ")");
      Shape per(target.begin() + 1, target.end());
      if (target[0] != 1) {
        const bool inferred = std::find(per.begin(), per.end(), -1) != per.end();
        if (inferred && target[0] == -1) throw UnsupportedError(where(n) + ": two inferred dimensions");
        if (!inferred && numel(per) != numel(g_.values[x].shape))
          throw UnsupportedError(where(n) + ": reshape would change the batch size");
      }
      Node& node = emit(n, OpKind::Reshape, {x}, idx);
      node.weight.shape = per;  // per-image target shape (may contain one -1)
      shape_now(node);
    } else {
      throw UnsupportedError(where(n) + ": unsupported op '" + t + "' (opset " + std::to_string(opset_) +
                             "); supported: Conv, Gemm, MatMul, Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, "
                             "Add, Flatten, Reshape, BatchNormalization, Softmax, LogSoftmax, Identity, Dropout, Constant");
    }
  }

  /// Shapes are needed during import (auto_pad, Gemm checks), so infer them node by node (in O(1) each:
  /// copying the value table per node made import quadratic in the node count).
  void shape_now(Node& node) { g_.values[node.output].shape = g_.output_shape(node); }

  const onnx::ModelProto& m_;
  std::string origin_;
  int64_t opset_ = 0;
  int64_t declared_batch_ = 0;  ///< the input's fixed batch size, 0 if symbolic
  Graph g_;
  std::map<std::string, Const> consts_;
  std::map<std::string, int> ids_;
  std::map<std::string, int> uses_;
  std::set<std::string> later_;  ///< every node output of the file (tells a forward reference from an undefined name)
  int64_t budget_ = kMaxInitializerBytes;
  std::map<int, size_t> producer_;
  std::string output_name_;
};

}  // namespace

Graph parse_onnx(const std::string& bytes, const std::string& origin) {
  onnx::ModelProto m;
  if (bytes.empty() || !m.ParseFromString(bytes))
    throw ImportError(origin + ": not a valid ONNX model (protobuf parse failed: truncated or not ONNX)");
  if (!m.has_graph() || m.ir_version() <= 0)
    throw ImportError(origin + ": not an ONNX model (no ir_version or graph)");
  return Importer(m, origin).run();
}

Graph load_onnx(const std::string& path) {
  return parse_onnx(read_file(path), path);
}

}  // namespace ftdla::model
