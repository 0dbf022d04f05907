// SPDX-License-Identifier: MIT
// Float graph IR: what ONNX import produces after simplification (BatchNorm folded, Identity/Dropout
// removed, MatMul+Add turned into Gemm, a trailing Softmax/LogSoftmax taken off the nodes and kept as
// Graph::final_op). Shapes are per image (no batch
// dimension): activations [C,H,W] or [F]; conv weight [K, C/groups, R, S]; gemm weight [N_out, N_in].
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ftdla/core/tensor.hpp"

namespace ftdla::model {

enum class OpKind { Conv, Gemm, Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, Add, Flatten, Reshape };

/// Lower-case op name as used in messages and JSON ("conv", "gemm", ...).
const char* op_name(OpKind op);

/// True for the ops that run on the PE array (and so carry weights and fault sites).
inline bool is_compute(OpKind op) { return op == OpKind::Conv || op == OpKind::Gemm; }

/// Geometry of a 2-D window op (Conv, MaxPool, AveragePool). Pads are {top, left, bottom, right}.
struct Window {
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  std::array<int64_t, 4> pads{0, 0, 0, 0};
  bool ceil_mode = false;           ///< pooling only: output size rounded up
  bool count_include_pad = false;   ///< AveragePool only
};

/// Output extent of a window op along one axis (ONNX formula, floor or ceil mode).
int64_t window_out_extent(int64_t in, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad_begin,
                          int64_t pad_end, bool ceil_mode);

/// How a pre-quantized model (QuantizeLinear/DequantizeLinear pairs, QLinearConv, QLinearMatMul) stores a
/// tensor: real = (q - zero_point) * scale with q an 8-bit integer, int8 when `is_signed`, else uint8.
struct TensorQuant {
  float scale = 1.0f;  ///< float32, as in the file (its arithmetic is float32 in ONNX Runtime too)
  int32_t zero_point = 0;
  bool is_signed = false;
  bool operator==(const TensorQuant&) const = default;
};

/// A Conv/Gemm's integers as a pre-quantized model gives them (symmetric weights, int32 bias).
struct NodeQuant {
  std::vector<int32_t> weight;       ///< same layout as Node::weight
  std::vector<float> weight_scale;   ///< per output channel (a per-tensor scale is repeated)
  std::vector<int32_t> bias;         ///< per output channel, scale = input scale * weight scale; empty: none given
};

struct Node {
  std::string name;            ///< ONNX node name (or "<op>_<index>" when the file has none)
  OpKind op = OpKind::Relu;
  std::vector<int> inputs;     ///< value ids (one, or two for Add)
  int output = -1;             ///< value id
  Tensor<float> weight;        ///< Conv [K, C/g, R, S]; Gemm [N_out, N_in]
  std::vector<float> bias;     ///< Conv/Gemm, one per output channel (zeros if absent)
  int64_t groups = 1;          ///< Conv
  Window window;               ///< Conv, MaxPool, AveragePool
  float clip_min = 0.0f, clip_max = 0.0f;  ///< Clip (Relu is Clip[0, +inf) but kept distinct)
  /// Conv/Gemm of a pre-quantized model: its integer weights (`weight`/`bias` hold their real values).
  std::optional<NodeQuant> quant;
};

struct Value {
  Value() = default;
  Value(std::string n, Shape s, std::optional<TensorQuant> q = std::nullopt)
      : name(std::move(n)), shape(std::move(s)), quant(q) {}
  std::string name;  ///< ONNX tensor name
  Shape shape;       ///< per image
  /// Set when the model quantizes this tensor itself (QuantizeLinear, or a QLinear op's output scale).
  /// The graph still computes real values; quant::quantize() then uses these scales instead of calibrating.
  std::optional<TensorQuant> quant;
};

/// A Softmax or LogSoftmax at the end of the ONNX graph. It is not a node: it does not change the argmax,
/// so accuracy, quantization, the integer engine and fault injection never see it (they classify on the
/// values before it, as they always did). Only where the output values themselves matter (`ftdla run`)
/// does the float engine apply it (FloatEngine::run_output).
struct FinalOp {
  enum class Kind { None, Softmax, LogSoftmax };
  Kind kind = Kind::None;
  /// ONNX axis over the batched output tensor (rank = per-image rank + 1); negative counts from the end.
  int64_t axis = -1;
  /// Opset < 13 semantics: normalize over all dimensions from `axis` on, flattened (opset 13: one axis).
  bool flatten_from_axis = false;
};

/// A DAG in topological order; values[input] is the image, values[output] the logits.
struct Graph {
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;
  int input = -1;
  int output = -1;
  FinalOp final_op;         ///< applied after values[output] where output values matter (see FinalOp)
  std::string output_name;  ///< the ONNX graph output's name (values[output] may be an earlier value)

  /// Multiply-accumulates per image of node i (0 for ops without MACs).
  int64_t macs(size_t i) const;
  int64_t total_macs() const;
  /// True when the file quantized the network itself (QDQ or QLinear ops): some value carries a TensorQuant.
  bool pre_quantized() const;
  /// Number of nodes that consume value v (the graph output counts as one extra consumer).
  int consumers(int v) const;
  /// Recompute every value shape from the input shape; throws ValidationError naming the node on mismatch.
  void infer_shapes();
  /// The output shape of `n` from the current shapes of its inputs (one step of infer_shapes, O(1) in the
  /// graph size); throws ValidationError naming the node.
  Shape output_shape(const Node& n) const;

 private:
  Shape output_shape_unchecked(const Node& n) const;
};

}  // namespace ftdla::model
