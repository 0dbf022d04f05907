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

/// The integers behind a constant that a DequantizeLinear made real: real = (q - zero_point) * scale, per
/// tensor or along `axis`.
struct ConstQuant {
  std::vector<int32_t> q;
  std::vector<float> scale;     ///< one, or one per index of `axis`
  std::vector<int32_t> zero_point;
  int64_t axis = 0;
  int32_t type = 0;             ///< onnx::TensorProto data type of q (INT8, UINT8, INT32)
};

struct Const {
  Shape dims;
  std::vector<float> f;    // FLOAT/DOUBLE data (and the values of integer data)
  std::vector<int64_t> i;  // INT64/INT32/INT8/UINT8 data
  int32_t type = 0;        // onnx::TensorProto data type
  std::optional<ConstQuant> quant;  // set on the output of DequantizeLinear of an integer constant
};

/// Bound on the decoded initializer data of one model (as float, 4 bytes a value): above any model ftdla
/// targets, and far below what a forged shape could make it allocate.
constexpr int64_t kMaxInitializerBytes = int64_t{2} << 30;
/// Kernel, stride, dilation and pad values above this are not a real model (and would strain the int64
/// window arithmetic).
constexpr int64_t kMaxWindowAttr = int64_t{1} << 24;

Const to_const(const onnx::TensorProto& t, const std::string& where, int64_t* budget) {
  Const c;
  int64_t n = 0;
  c.dims = file_dims(t, where, n);
  // Declared size x element size must match the data present before anything is allocated.
  auto check_raw = [&](const std::string& raw, int64_t elem, const char* type) {
    check_file_bytes(where, std::string("raw ") + type + " data", raw.size(), n, elem, c.dims);
  };
  auto check_list = [&](int64_t have) {
    if (have != n) throw ImportError(where + ": tensor has " + std::to_string(have) + " values, dims say " + std::to_string(n));
  };
  if (budget) {
    if (n > *budget / 4) throw ImportError(where + ": initializers exceed " + std::to_string(kMaxInitializerBytes >> 30) + " GiB in all");
    *budget -= n * 4;
  }
  const std::string& raw = t.raw_data();
  c.type = t.data_type();
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
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
      // 8-bit integers (quantized weights, zero points): one byte each in raw_data, else in int32_data.
      if (!raw.empty()) {
        check_raw(raw, 1, "8-bit");
        c.i.resize(static_cast<size_t>(n));
        for (int64_t j = 0; j < n; ++j)
          c.i[j] = t.data_type() == onnx::TensorProto::INT8 ? static_cast<int64_t>(static_cast<int8_t>(raw[j]))
                                                             : static_cast<int64_t>(static_cast<uint8_t>(raw[j]));
      } else {
        check_list(t.int32_data_size());
        const int64_t lo = t.data_type() == onnx::TensorProto::INT8 ? -128 : 0, hi = lo + 255;
        for (int32_t v : t.int32_data()) {
          if (v < lo || v > hi) throw ImportError(where + ": 8-bit tensor holds " + std::to_string(v));
          c.i.push_back(v);
        }
      }
      break;
    default:
      throw UnsupportedError(where + ": tensor data type " + std::to_string(t.data_type()) +
                             " is not supported (float, double, int8, uint8, int32, int64, bool are)");
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

  /// Scale (input `scale_i`) and zero point (input `zp_i`, optional: uint8 0) of a quantization operand.
  struct QParams {
    std::vector<float> scale;
    std::vector<int32_t> zero_point;
    int32_t type = onnx::TensorProto::UINT8;  ///< the integer type (that of the zero point)
  };
  QParams qparams(const onnx::NodeProto& n, int scale_i, int zp_i, const std::string& what) const {
    const Const& s = require_const(n, scale_i, (what + " scale").c_str());
    if (s.type != onnx::TensorProto::FLOAT) throw UnsupportedError(where(n) + ": " + what + " scale must be float32");
    if (s.f.empty() || s.dims.size() > 1) throw ValidationError(where(n) + ": " + what + " scale must be a scalar or a 1-D tensor");
    QParams p;
    p.scale = s.f;
    for (float v : p.scale)
      if (!(std::isfinite(v) && v > 0.0f))
        throw ValidationError(where(n) + ": " + what + " scale must be positive and finite (got " + std::to_string(v) + ")");
    if (zp_i < n.input_size() && !n.input(zp_i).empty()) {
      const Const& z = require_const(n, zp_i, (what + " zero point").c_str());
      if (z.type != onnx::TensorProto::INT8 && z.type != onnx::TensorProto::UINT8 && z.type != onnx::TensorProto::INT32)
        throw UnsupportedError(where(n) + ": " + what + " zero point must be int8, uint8 or int32 (8-bit quantization)");
      // A single zero point with per-axis scales applies to every index (ONNX Runtime accepts it).
      if (z.i.size() != p.scale.size() && z.i.size() != 1)
        throw ValidationError(where(n) + ": " + what + " zero point has " + std::to_string(z.i.size()) + " values, its scale " +
                              std::to_string(p.scale.size()));
      p.type = z.type;
      p.zero_point.assign(p.scale.size(), 0);
      for (size_t j = 0; j < p.scale.size(); ++j) p.zero_point[j] = static_cast<int32_t>(z.i[z.i.size() == 1 ? 0 : j]);
    } else {
      p.zero_point.assign(p.scale.size(), 0);
    }
    return p;
  }

  /// The per-tensor quantization of an activation (8-bit, one scale).
  TensorQuant activation_quant(const onnx::NodeProto& n, const QParams& p, const std::string& what) const {
    if (p.scale.size() != 1)
      throw UnsupportedError(where(n) + ": " + what + " is quantized per axis; activations must be quantized per tensor");
    if (p.type != onnx::TensorProto::INT8 && p.type != onnx::TensorProto::UINT8)
      throw UnsupportedError(where(n) + ": " + what + " must be quantized to int8 or uint8");
    return TensorQuant{p.scale[0], p.zero_point[0], p.type == onnx::TensorProto::INT8};
  }

  /// Records how value v is quantized. A QuantizeLinear sets it (the last one wins: ops folded away
  /// between two of them, such as a bias Add, leave the later scale as the value's); a QLinear op's input
  /// must agree with what produced it.
  void set_quant(int v, const TensorQuant& tq) { g_.values[v].quant = tq; }
  void expect_quant(const onnx::NodeProto& n, int v, const TensorQuant& tq, const std::string& what) {
    auto& have = g_.values[v].quant;
    if (!have) {
      have = tq;
      return;
    }
    if (!(*have == tq))
      throw ValidationError(where(n) + ": " + what + " scale/zero point (" + std::to_string(tq.scale) + ", " +
                            std::to_string(tq.zero_point) + ") differ from those of '" + excerpt(g_.values[v].name) +
                            "' (" + std::to_string(have->scale) + ", " + std::to_string(have->zero_point) + ")");
  }

  /// A per-axis quantization's axis (ONNX: negative counts from the end).
  static int64_t norm_axis(int64_t axis, size_t rank, const std::string& at) {
    const int64_t r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= std::max<int64_t>(r, 1)) throw ValidationError(at + ": axis " + std::to_string(axis) + " is out of range");
    return axis < 0 ? axis + r : axis;
  }

  /// Index along `axis` of flat element j of a tensor with dims d (for per-axis scales).
  static int64_t axis_index(const Shape& d, int64_t axis, int64_t j) {
    int64_t inner = 1;
    for (size_t k = static_cast<size_t>(axis) + 1; k < d.size(); ++k) inner *= d[k];
    return (j / inner) % d[static_cast<size_t>(axis)];
  }

  /// Checks the per-axis parameters of constant `c` fit it: one scale, or one per index of `axis`.
  void check_axis_params(const onnx::NodeProto& n, const Const& c, const QParams& p, int64_t axis) const {
    if (p.scale.size() == 1) return;
    if (c.dims.empty() || static_cast<int64_t>(p.scale.size()) != c.dims[static_cast<size_t>(axis)])
      throw ValidationError(where(n) + ": " + std::to_string(p.scale.size()) + " scales for axis " + std::to_string(axis) +
                            " of a tensor with dims " + to_string(c.dims));
  }

  /// Copies a weight constant's integers into a Conv/Gemm node (`transpose`: B of MatMul or Gemm transB=0,
  /// [in, out], becomes [out, in]); `channel_axis` is the constant's output-channel axis.
  void set_weight_quant(const onnx::NodeProto& n, Node& node, const Const& w, bool transpose, int64_t channel_axis) const {
    const ConstQuant& cq = *w.quant;
    if (cq.type != onnx::TensorProto::INT8)
      throw UnsupportedError(where(n) + ": quantized weights must be int8 (symmetric); got " +
                             (cq.type == onnx::TensorProto::UINT8 ? std::string("uint8") : std::string("int32")));
    for (int32_t z : cq.zero_point)
      if (z != 0) throw UnsupportedError(where(n) + ": weight zero point " + std::to_string(z) + ": only symmetric weights (zero point 0) are supported");
    if (cq.scale.size() != 1 && cq.axis != channel_axis)
      throw UnsupportedError(where(n) + ": weights are quantized along axis " + std::to_string(cq.axis) +
                             "; only per-tensor or per-output-channel (axis " + std::to_string(channel_axis) + ") scales are supported");
    const int64_t nout = node.weight.shape[0], per = numel(node.weight.shape) / nout;
    NodeQuant nq;
    nq.weight.resize(static_cast<size_t>(nout * per));
    for (int64_t o = 0; o < nout; ++o)
      for (int64_t i = 0; i < per; ++i) nq.weight[o * per + i] = transpose ? cq.q[i * nout + o] : cq.q[o * per + i];
    nq.weight_scale.resize(static_cast<size_t>(nout));
    for (int64_t o = 0; o < nout; ++o) nq.weight_scale[o] = cq.scale[cq.scale.size() == 1 ? 0 : o];
    node.quant = std::move(nq);
  }

  /// An int32 bias from DequantizeLinear (scale = input scale * weight scale, zero point 0) kept exact.
  void set_bias_quant(const onnx::NodeProto& n, Node& node, const Const& b) const {
    if (!node.quant || !b.quant) return;
    if (b.quant->type != onnx::TensorProto::INT32) throw UnsupportedError(where(n) + ": a quantized bias must be int32");
    for (int32_t z : b.quant->zero_point)
      if (z != 0) throw UnsupportedError(where(n) + ": bias zero point must be 0");
    node.quant->bias = b.quant->q;
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

  /// A Conv node of input x with weight constant w (from a DequantizeLinear: its integers too); zero bias.
  Node& conv_node(const onnx::NodeProto& n, int idx, int x, const Const& w) {
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
    if (w.quant) set_weight_quant(n, node, w, false, 0);
    return node;
  }

  /// Integer constant (`type`) of the quantized values of float constant c: ONNX QuantizeLinear,
  /// saturate(round_half_even(x / scale) + zero_point), in float32 as ONNX Runtime computes it.
  Const quantize_const(const onnx::NodeProto& n, const Const& c, const QParams& p, int64_t axis) const {
    check_axis_params(n, c, p, axis);
    const int64_t lo = p.type == onnx::TensorProto::INT8 ? -128 : p.type == onnx::TensorProto::UINT8 ? 0 : INT32_MIN;
    const int64_t hi = p.type == onnx::TensorProto::INT8 ? 127 : p.type == onnx::TensorProto::UINT8 ? 255 : INT32_MAX;
    Const q;
    q.dims = c.dims;
    q.type = p.type;
    q.i.resize(c.f.size());
    for (size_t j = 0; j < c.f.size(); ++j) {
      const size_t a = p.scale.size() == 1 ? 0 : static_cast<size_t>(axis_index(c.dims, axis, static_cast<int64_t>(j)));
      const float r = std::nearbyint(c.f[j] / p.scale[a]);
      const double v = static_cast<double>(r) + p.zero_point[a];
      q.i[j] = static_cast<int64_t>(std::clamp<double>(v, static_cast<double>(lo), static_cast<double>(hi)));
    }
    q.f.assign(q.i.begin(), q.i.end());
    return q;
  }

  /// The real values of an integer constant with its quantization (a QLinear op's weight), as DequantizeLinear.
  Const dequantize_const(const onnx::NodeProto& n, const Const& c, const QParams& p, int64_t axis) const {
    if (p.type != c.type) throw ValidationError(where(n) + ": the zero point's type differs from the data's");
    check_axis_params(n, c, p, axis);
    Const r;
    r.dims = c.dims;
    r.type = onnx::TensorProto::FLOAT;
    ConstQuant cq{std::vector<int32_t>(c.i.begin(), c.i.end()), p.scale, p.zero_point, axis, c.type};
    r.f.resize(c.i.size());
    for (size_t j = 0; j < c.i.size(); ++j) {
      const size_t a = p.scale.size() == 1 ? 0 : static_cast<size_t>(axis_index(c.dims, axis, static_cast<int64_t>(j)));
      r.f[j] = static_cast<float>(c.i[j] - p.zero_point[a]) * p.scale[a];
    }
    r.quant = std::move(cq);
    return r;
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
      Node& node = conv_node(n, idx, x, w);
      if (const Const* b = weight_of(n, 2)) {
        if (static_cast<int64_t>(b->f.size()) != w.dims[0]) throw ValidationError(where(n) + ": bias size does not match output channels");
        node.bias = b->f;
        set_bias_quant(n, node, *b);
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
      if (b.quant) {
        if (alpha != 1.0f) throw UnsupportedError(where(n) + ": alpha != 1 with quantized weights");
        set_weight_quant(n, node, b, !trans_b, trans_b ? 0 : 1);
      }
      if (t == "Gemm") {
        if (const Const* c = weight_of(n, 2)) {
          const int64_t cn = numel(c->dims);
          if (!(cn == nout || cn == 1)) throw UnsupportedError(where(n) + ": C must be a vector of " + std::to_string(nout) + " or a scalar");
          for (int64_t o = 0; o < nout; ++o) node.bias[o] = beta * c->f[cn == 1 ? 0 : o];
          if (c->quant && node.quant) {
            if (beta != 1.0f || cn != nout) throw UnsupportedError(where(n) + ": a quantized C must be one int32 per output with beta = 1");
            set_bias_quant(n, node, *c);
          }
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
      if (p->quant) throw UnsupportedError(where(n) + ": BatchNormalization after a Conv/Gemm with quantized weights (fold it before quantizing)");
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
      if (node.op == OpKind::MaxPool) pass_quant(node);
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
        if (p->quant) p->quant->bias.clear();  // the summed bias is real: quantized from it, in the producer's scales
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
      pass_quant(g_.nodes.back());
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
      pass_quant(node);
    } else if (t == "QuantizeLinear") {
      if (attr(n, "output_dtype") || attr(n, "saturate") || attr(n, "block_size"))
        throw UnsupportedError(where(n) + ": output_dtype, saturate and block_size are not supported (8-bit QuantizeLinear only)");
      const QParams p = qparams(n, 1, 2, "QuantizeLinear");
      if (const Const* c = const_of(n, 0)) {
        // Weights quantized in the graph (Q -> DQ on a float initializer): fold to integers.
        if (c->type != onnx::TensorProto::FLOAT && c->type != onnx::TensorProto::DOUBLE)
          throw UnsupportedError(where(n) + ": QuantizeLinear of a non-float constant");
        const int64_t axis = p.scale.size() > 1 ? norm_axis(attr_i(n, "axis", 1), c->dims.size(), where(n)) : 0;
        define(n, n.output(0));
        consts_[n.output(0)] = quantize_const(n, *c, p, axis);
      } else {
        const int x = value_of(n, 0);
        set_quant(x, activation_quant(n, p, "QuantizeLinear output"));
        alias(n, x);
      }
    } else if (t == "DequantizeLinear") {
      if (attr(n, "block_size")) throw UnsupportedError(where(n) + ": block_size is not supported");
      const QParams p = qparams(n, 1, 2, "DequantizeLinear");
      if (const Const* c = const_of(n, 0)) {
        // A quantized weight or bias: its real values for the float graph, its integers kept for quantize().
        if (c->type != onnx::TensorProto::INT8 && c->type != onnx::TensorProto::UINT8 && c->type != onnx::TensorProto::INT32)
          throw UnsupportedError(where(n) + ": DequantizeLinear of a constant needs int8, uint8 or int32 data");
        QParams typed = p;
        if (n.input_size() < 3 || n.input(2).empty()) typed.type = c->type;  // no zero point: 0 of the data's type
        const int64_t axis = p.scale.size() > 1 ? norm_axis(attr_i(n, "axis", 1), c->dims.size(), where(n)) : 0;
        Const r = dequantize_const(n, *c, typed, axis);
        define(n, n.output(0));
        consts_[n.output(0)] = std::move(r);
      } else {
        const int x = value_of(n, 0);
        const TensorQuant tq = activation_quant(n, p, "DequantizeLinear input");
        if (!g_.values[x].quant)
          throw UnsupportedError(where(n) + ": input '" + excerpt(n.input(0)) +
                                 "' is not produced by a QuantizeLinear or QLinear op (integer model inputs are not supported)");
        expect_quant(n, x, tq, "DequantizeLinear");
        alias(n, x);
      }
    } else if (t == "QLinearConv") {
      const int x = value_of(n, 0);
      const TensorQuant xq = activation_quant(n, qparams(n, 1, 2, "x"), "x");
      expect_quant(n, x, xq, "x");
      const Const& wq = require_const(n, 3, "QLinearConv w");
      if (wq.type != onnx::TensorProto::INT8 && wq.type != onnx::TensorProto::UINT8)
        throw UnsupportedError(where(n) + ": QLinearConv w must be int8");
      const QParams wp = qparams(n, 4, 5, "w");
      const Const w = dequantize_const(n, wq, wp, 0);
      Node& node = conv_node(n, idx, x, w);
      const QParams yp = qparams(n, 6, 7, "y");
      if (const Const* b = const_of(n, 8)) {
        if (b->type != onnx::TensorProto::INT32) throw UnsupportedError(where(n) + ": QLinearConv B must be int32");
        if (static_cast<int64_t>(b->i.size()) != w.dims[0]) throw ValidationError(where(n) + ": bias size does not match output channels");
        node.quant->bias.assign(b->i.begin(), b->i.end());
        for (int64_t o = 0; o < w.dims[0]; ++o) node.bias[o] = static_cast<float>(b->i[o]) * (xq.scale * node.quant->weight_scale[o]);
      } else if (n.input_size() > 8 && !n.input(8).empty()) {
        throw UnsupportedError(where(n) + ": QLinearConv B must be a constant initializer");
      }
      shape_now(node);
      set_quant(node.output, activation_quant(n, yp, "y"));
    } else if (t == "QLinearMatMul") {
      const int x = value_of(n, 0);
      expect_quant(n, x, activation_quant(n, qparams(n, 1, 2, "a"), "a"), "a");
      const Const& bq = require_const(n, 3, "QLinearMatMul b");
      if (bq.type != onnx::TensorProto::INT8) throw UnsupportedError(where(n) + ": QLinearMatMul b must be int8");
      if (bq.dims.size() != 2 || bq.dims[0] == 0 || bq.dims[1] == 0)
        throw UnsupportedError(where(n) + ": b must be a non-empty 2-D constant");
      const QParams bp = qparams(n, 4, 5, "b");
      const Const b = dequantize_const(n, bq, bp, 1);
      const Shape& xs = g_.values[x].shape;
      if (xs.size() != 1 || xs[0] != b.dims[0])
        throw UnsupportedError(where(n) + ": a must be [N, " + std::to_string(b.dims[0]) + "] (got per-image shape " + to_string(xs) + ")");
      const int64_t nin = b.dims[0], nout = b.dims[1];
      Node& node = emit(n, OpKind::Gemm, {x}, idx);
      node.weight = Tensor<float>({nout, nin});
      for (int64_t o = 0; o < nout; ++o)
        for (int64_t i = 0; i < nin; ++i) node.weight.data[o * nin + i] = b.f[i * nout + o];
      node.bias.assign(static_cast<size_t>(nout), 0.0f);
      set_weight_quant(n, node, b, true, 1);
      node.quant->bias.assign(static_cast<size_t>(nout), 0);
      shape_now(node);
      set_quant(node.output, activation_quant(n, qparams(n, 6, 7, "y"), "y"));
    } else {
      throw UnsupportedError(where(n) + ": unsupported op '" + t + "' (opset " + std::to_string(opset_) +
                             "); supported: Conv, Gemm, MatMul, Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, "
                             "Add, Flatten, Reshape, BatchNormalization, Softmax, LogSoftmax, Identity, Dropout, Constant, "
                             "QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul");
    }
  }

  /// MaxPool, Flatten and Reshape are defined on 8-bit integers too (QOperator models run them on
  /// quantized tensors): their output keeps the input's quantization unless a QuantizeLinear says otherwise.
  void pass_quant(const Node& node) {
    if (g_.values[node.inputs[0]].quant) g_.values[node.output].quant = g_.values[node.inputs[0]].quant;
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
