// SPDX-License-Identifier: MIT
// The integer graph: what the accelerator computes. Built from a float Graph by post-training
// quantization (calibrate.cpp). Value ids are the float graph's; activations fused into a producer
// (Relu/Clip after Conv/Gemm/Add) are skipped, and the producer writes the activation's value id.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ftdla/model/graph.hpp"
#include "ftdla/quant/fixed_point.hpp"

namespace ftdla::quant {

enum class CalibMethod { MinMax, Percentile };

/// How a range constraint k < A is applied to a layer's output.
/// Clip (default): keep the A-bit step (resolution) and clip the range to 2^k - 1 steps, so the k live bits
///   carry small values and a flip in them is a small error (the reliability gain of restricting the range).
/// Rescale: spread 2^k - 1 steps over the clip range with the least quantization MSE (best clean accuracy,
///   but the top live bit then weighs as much as the unconstrained MSB).
enum class RangeMode { Clip, Rescale };

/// Where the scales and zero points come from. Auto: the model's own when it has them (QuantizeLinear /
/// DequantizeLinear pairs, QLinearConv, QLinearMatMul: model::Graph::pre_quantized()), else calibration.
enum class QuantSource { Auto, Model, Calibrate };

/// Requantization arithmetic (Conv/Gemm outputs, Add, input quantization).
/// FixedPoint: gemmlowp/TFLite, an int32 multiplier and a shift (fixed_point.hpp).
/// Float: ONNX Runtime's, a float32 multiplier and round-half-to-even (float_requant.hpp).
/// Auto: Float for a model's own scales (so ftdla computes what ONNX Runtime computes), else FixedPoint.
enum class RequantMode { Auto, FixedPoint, Float };

/// Quantization settings. Defaults: int8 weights and activations, int32 accumulators, min/max calibration
/// on the first 512 training images.
struct QuantOptions {
  int wbits = 8;     ///< weight bits W, in [2, 16]; symmetric per output channel, range [-(2^(W-1)-1), 2^(W-1)-1]
  int abits = 8;     ///< activation register bits A, in [2, 16]; per tensor
  int accbits = 32;  ///< accumulator bits P, in [8, 32]; two's complement, wraps on overflow
  CalibMethod calib = CalibMethod::MinMax;
  double percentile = 99.99;  ///< for CalibMethod::Percentile, in (50, 100]
  int64_t calib_images = 512; ///< training images used for calibration, > 0
  /// Range constraint (algorithm layer): effective activation bits k of every compute layer's output.
  /// 0 = unconstrained (k = A). How the k-bit range is chosen at calibration: `range`.
  int k = 0;
  std::map<std::string, int> k_per_layer;  ///< per compute-layer name; overrides `k`
  RangeMode range = RangeMode::Clip;
  QuantSource source = QuantSource::Auto;
  RequantMode requant = RequantMode::Auto;
  /// Set by a front end when the user gave calibration settings (method, percentile, images): they are then
  /// rejected for a model that brings its own scales, instead of being silently unused.
  bool calibration_given = false;
  /// Throws ConfigError naming the field (e.g. "quant.wbits: must be in [2, 16] (got 1)").
  void validate() const;
  /// Effective bits of compute layer `name`.
  int effective_bits(const std::string& name) const;
};

/// How a tensor's real values map to the integers in its A-bit register: real = (q - zero_point) * scale.
struct Encoding {
  double scale = 1.0;
  int32_t zero_point = 0;
  bool is_signed = false;  ///< two's complement register; else unsigned (zero_point = 0)
  int bits = 8;            ///< register width A
  int eff_bits = 8;        ///< live bits k <= A: q fits in k bits (unsigned) or k-bit two's complement
  int32_t qmin = 0, qmax = 255;  ///< representable range after the range constraint
  /// The model file's integer is q + file_offset: a pre-quantized model's uint8 tensor with a nonzero zero
  /// point is held as int8 (q - 128, same real values), so that every register is unsigned with zero point
  /// 0 or two's complement.
  int32_t file_offset = 0;
};

enum class QOp { Compute, MaxPool, AvgPool, GlobalAvgPool, Add, Clamp, Reshape };

struct QLayer {
  std::string name;   ///< the float node's name (fused activations are not separate layers)
  QOp op = QOp::Compute;
  int node = -1;      ///< index of the float node (geometry: window, groups, weight shape)
  std::vector<int> inputs;
  int output = -1;
  // Compute (Conv/Gemm): weight [N_out, K] (K = C/g*R*S), int32 bias, per-channel requantization.
  std::vector<int32_t> weight;
  std::vector<int32_t> bias;
  std::vector<QuantizedMultiplier> requant;
  std::vector<double> weight_scale;  ///< per output channel
  std::vector<float> requant_scale;  ///< RequantMode::Float: per output channel, input scale * weight scale / output scale
  int32_t act_min = 0, act_max = 255;  ///< output clamp (register range, fused Relu/Clip)
  // Add: both inputs are brought to a common scale with `left_shift` headroom (TFLite int8 Add).
  int left_shift = 20;
  QuantizedMultiplier add_in[2];
  QuantizedMultiplier add_out;
  float add_scale[2] = {0.0f, 0.0f};  ///< RequantMode::Float: input scale / output scale, per input
};

struct QGraph {
  model::Graph graph;              ///< the float graph (shapes, geometry, names)
  QuantOptions options;
  std::vector<Encoding> enc;       ///< per value id (meaningful for values the integer graph uses)
  std::vector<QLayer> layers;      ///< topological order
  int input = -1, output = -1;
  bool from_model = false;     ///< scales from the model file (else calibrated)
  bool float_requant = false;  ///< RequantMode::Float arithmetic (else FixedPoint)

  /// Indices into `layers` of the compute layers (the PE-array layers, which carry fault sites).
  std::vector<size_t> compute_layers() const;
  /// Quantize a float image to the input register values: clamp(round(x/scale) + zp) (with float_requant,
  /// in float32 with round-half-to-even, as ONNX Runtime's QuantizeLinear).
  std::vector<int32_t> quantize_input(const float* image) const;
};

}  // namespace ftdla::quant
