// SPDX-License-Identifier: MIT
// Bit-exact integer inference: the golden model of the accelerator datapath. Every compute layer
// exposes its P-bit accumulators (psum registers at the end of accumulation) and its A-bit outputs
// (output neuron registers); the fault injector reads and overrides exactly these.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ftdla/data/dataset.hpp"
#include "ftdla/engine/kernels.hpp"
#include "ftdla/engine/winograd.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::engine {

/// All registers of one inference. values: per value id, NCHW order. acc: per layer index (compute
/// layers only), layout [out_channel][pixel], already wrapped to P bits and sign-extended.
struct Trace {
  std::vector<std::vector<int32_t>> values;
  std::vector<std::vector<int32_t>> acc;
};

/// One value's registers as the golden ones with some entries replaced (the fault injector's sparse faulty
/// copy): entry i is patch[i] where stamp[i] == epoch, else golden[i]. Without a patch, the golden value.
struct PatchedValue {
  const int32_t* golden = nullptr;
  const int32_t* patch = nullptr;
  const uint32_t* stamp = nullptr;
  uint32_t epoch = 0;
  int32_t operator[](int64_t i) const { return stamp != nullptr && stamp[i] == epoch ? patch[i] : golden[i]; }
};

class IntegerEngine {
 public:
  explicit IntegerEngine(const quant::QGraph& q);
  const quant::QGraph& qgraph() const { return q_; }

  /// Quantize `image` and run every layer.
  void run(const float* image, Trace& t) const;
  /// Run `n` images (traces[i] for images[i]). Threads cover the batch in groups of images that go through
  /// the layers together (set_group_images); a batch of one is parallelized inside its larger layers.
  /// Bit-identical to run() on each image.
  void run_batch(const float* const* images, Trace* traces, size_t n) const;
  /// MACs from which a batch of one splits a layer over the threads (default 2^18: below it the fork and join cost more than the split saves on 2 cores; tests lower it).
  void set_layer_parallel_macs(int64_t macs) { layer_parallel_macs_ = macs; }
  /// Whether 3x3 stride-1 convolutions may run as Winograd F(2x2, 3x3) where it pays (default on; the same
  /// registers either way: off measures the direct GEMM in benchmarks).
  void set_winograd(bool on) { winograd_ = on; }
  /// Predicted classes of `n` images (top1[i] for images[i]); like run_batch, but each thread reuses one
  /// group's traces, so memory does not grow with the batch.
  void predict_batch(const float* const* images, int* top1, size_t n) const;
  /// Re-run layers [from, end) from the values already in `t` (used after overriding registers).
  void run_layers(size_t from, Trace& t) const;
  /// Run one layer: compute layers fill t.acc[l] then t.values[output].
  void run_layer(size_t l, Trace& t) const;
  /// run_layer on each of `n` traces; a grouped layer computes them in one GEMM (same registers).
  void run_layer_group(size_t l, Trace* traces, size_t n) const;
  /// True when compute layer l runs several images in one GEMM (run_layer_group, and run_batch /
  /// predict_batch in groups of images): an int8 layer, ungrouped, not Winograd, whose maps have at most
  /// kGroupMaxPixels pixels (fully connected layers: one).
  bool grouped_layer(size_t l) const;
  static constexpr int64_t kGroupMaxPixels = 256;
  /// Images that run_batch and predict_batch run through the layers together, at most (default 8; 1 runs
  /// every image through all layers alone, which benchmarks compare against).
  void set_group_images(size_t n) { group_images_ = std::max<size_t>(n, 1); }
  size_t group_images() const { return group_images_; }
  /// Images per group when `threads` threads each hold a group's traces: set_group_images, but fewer where
  /// the traces of all groups would pass kGroupTraceBytes (a group's traces hold every register of every
  /// image), and at least one.
  size_t images_per_group(int threads) const;
  static constexpr int64_t kGroupTraceBytes = int64_t{512} << 20;
  /// Bytes of one image's Trace (every value and accumulator as int32).
  int64_t trace_bytes() const { return trace_bytes_; }
  /// Bytes of packed input per GEMM of a grouped layer at most (default 192 KiB, so that the panel every
  /// block of weight rows streams stays in L2; tests lower it): larger groups go in chunks of images.
  void set_group_panel_bytes(int64_t bytes) { group_panel_bytes_ = bytes; }

  /// Compute layer l's accumulators (bias + sum of (x - zp) * w, wrapped to P bits) from its input.
  /// Uses the int8 kernels (kernels.hpp) when W, A <= 8 and the active ISA is not scalar; else the reference.
  void accumulate(size_t l, const std::vector<int32_t>& input, std::vector<int32_t>& acc) const;
  /// The reference: today's scalar loops (uint32 products, im2col), any W, A <= 16.
  void accumulate_ref(size_t l, const std::vector<int32_t>& input, std::vector<int32_t>& acc) const;
  /// True when compute layer l runs on the int8 kernels.
  bool fast_layer(size_t l) const { return l < fast_.size() && !fast_[l].init.empty(); }
  /// True when compute layer l, a 3x3 stride-1 convolution, runs as Winograd F(2x2, 3x3) on the AVX2 ISA.
  bool winograd_layer(size_t l) const { return l < fast_.size() && fast_[l].wino_alone; }
  /// True when run_layer_group of `images` images runs compute layer l as Winograd on the images side by
  /// side in one map (a 3x3 stride-1 convolution with padding 1, on maps too small for Winograd alone).
  bool winograd_stacks(size_t l, size_t images) const;
  /// Stacked Winograd only for transformed weights of at most this many bytes: a group's 40 tiles of 4x4
  /// maps pay for 2 MiB (256 channels: 1.2-1.4x over the grouped GEMM) but not for 8 MiB (512 channels:
  /// 5-11% slower, the weights streamed from memory on every pass).
  static constexpr int64_t kStackedWinogradWeightBytes = int64_t{4} << 20;
  /// Columns of `images` maps of `cols` columns side by side with one separator column between them.
  static int64_t stacked_cols(int64_t cols, size_t images) { return (cols + 1) * static_cast<int64_t>(images) - 1; }
  /// Requantize one accumulator of output channel `channel` of compute layer l (fused clamp included).
  int32_t requantize(size_t l, int64_t channel, int32_t acc) const;
  /// out[i] = requantize(l, channel[i], acc[i]) for i < n: many outputs of one layer at once, vectorized
  /// across channels (the fault injector's changed outputs).
  void requantize_channels(size_t l, const int32_t* acc, const int32_t* channel, int64_t n, int32_t* out) const;
  /// Requantize all accumulators of compute layer l into `out` (vectorized unless the ISA is scalar).
  void requantize_all(size_t l, const std::vector<int32_t>& acc, std::vector<int32_t>& out) const;
  void requantize_all_ref(size_t l, const std::vector<int32_t>& acc, std::vector<int32_t>& out) const;

  /// One output of an Add layer from its two input register values.
  int32_t add_one(size_t l, int32_t a, int32_t b) const;
  /// Output index `o` of a MaxPool / AvgPool / GlobalAvgPool layer, from the whole input (a dense vector
  /// or a PatchedValue; instantiated for both).
  template <typename Input>
  int32_t pool_one(size_t l, const Input& input, int64_t o) const;

  /// Predicted class: argmax of the output register values, lowest index on ties.
  int predict(const Trace& t) const;
  /// Pixels per output channel of compute layer l (M of the GEMM view).
  int64_t pixels(size_t l) const { return pixels_[l]; }

 private:
  /// Per compute layer on the int8 path: packed weights and init[oc] = bias - (zp + off) * sum_k w (mod 2^32),
  /// where activations enter the kernels as unsigned bytes x + off.
  struct FastLayer {
    kernels::PackedWeights w;
    std::vector<int32_t> init;
    int32_t off = 0;
    kernels::WinogradWeights wino;  ///< 3x3 stride-1 convolutions where F(2x2, 3x3) pays (else empty)
    bool wino_alone = false;        ///< it pays on one image (else only on a group's stacked images)
  };
  void requantize_all_impl(size_t l, const std::vector<int32_t>& acc, std::vector<int32_t>& out, bool threaded) const;
  void pool_layer(size_t l, const std::vector<int32_t>& in, std::vector<int32_t>& out) const;
  void run_layer_impl(size_t l, Trace& t, bool threaded) const;
  /// Run `n` images layer by layer (grouped layers for all at once).
  void run_group(const float* const* images, Trace* traces, size_t n) const;
  /// Images per group for a batch of n (every thread one group at least).
  size_t group_size(size_t n) const;
  /// Quantize and run every layer; `threaded` splits large layers over the threads (a batch of one).
  void run_image(const float* image, Trace& t, bool threaded) const;
  /// One image's registers of a compute layer: its input, its accumulators and (or null) its outputs.
  struct LayerIo {
    const int32_t* in;
    int32_t* acc;
    int32_t* out;
  };
  /// Accumulators of `images` images (sized by the caller); with `out`, also their requantization (a
  /// convolution band by band, in the same pass). Several images: a grouped layer, one GEMM per chunk.
  void accumulate_fast(size_t l, const LayerIo* io, size_t images, bool threaded) const;
  /// out[i] = requantize(l, c, acc[i]) for i < n, one channel's run of outputs (vectorized).
  void requantize_span(size_t l, int64_t c, const int32_t* acc, int64_t n, int32_t* out) const;

  /// Per compute layer: each channel's multiplier and shift (empty: the scalar path only).
  struct Lanes {
    std::vector<int32_t> mult, shift;
  };

  const quant::QGraph& q_;
  std::vector<int64_t> pixels_;
  std::vector<FastLayer> fast_;
  std::vector<Lanes> lanes_;
  int64_t layer_parallel_macs_ = int64_t{1} << 18;
  int64_t group_panel_bytes_ = 192 * 1024;
  size_t group_images_ = 8;
  int64_t trace_bytes_ = 0;
  bool winograd_ = true;
};

/// Accuracy of a classifier over a dataset.
struct EvalResult {
  int64_t images = 0;
  int64_t correct = 0;
  double accuracy = 0.0;         ///< fraction in [0, 1]
  std::vector<int> predictions;  ///< per image
};

/// Integer inference over the first `limit` images (0 = all), OpenMP over images; deterministic.
EvalResult evaluate(const IntegerEngine& e, const data::Dataset& ds, int64_t limit = 0);

/// Float reference inference over the first `limit` images (0 = all).
EvalResult evaluate_float(const model::Graph& g, const data::Dataset& ds, int64_t limit = 0);

}  // namespace ftdla::engine
