// SPDX-License-Identifier: MIT
// Float reference semantics of a Graph (fp32 storage, fp32 accumulation in a fixed order).
// Used to validate import against PyTorch and to collect calibration statistics.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ftdla/model/graph.hpp"

namespace ftdla::model {

class FloatEngine {
 public:
  explicit FloatEngine(const Graph& g) : g_(g) {}
  /// Run one image (values laid out as g.values[g.input].shape). Returns every value, indexed by value id.
  std::vector<std::vector<float>> run_all(const float* image) const;
  /// Logits only: values[output], before the graph's final Softmax/LogSoftmax (what argmax reads).
  std::vector<float> run(const float* image) const;
  /// The graph output as ONNX defines it: run() with Graph::final_op applied. Throws UnsupportedError if
  /// the final op normalizes over the batch axis (it cannot be computed one image at a time).
  std::vector<float> run_output(const float* image) const;
  const Graph& graph() const { return g_; }

 private:
  const Graph& g_;
};

/// Apply `op` in place to one image's output `v` of per-image shape `shape` (no-op for Kind::None).
/// Throws UnsupportedError when its axis is the batch axis, ValidationError when it is out of range.
void apply_final_op(const FinalOp& op, const Shape& shape, std::vector<float>& v);

/// Check that `batch` is [N, <model input shape>] for the graph input; throws ValidationError naming
/// `what` (e.g. the file) and both shapes.
void check_batch(const Graph& g, const Shape& batch, const std::string& what);

/// Run every image of `batch` ([N, input shape], checked with check_batch) through FloatEngine::run_output;
/// the result is [N, output shape].
Tensor<float> run_batch(const Graph& g, const Tensor<float>& batch, const std::string& what);

/// Index of the largest element, lowest index on ties.
template <typename T>
int argmax(const T* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return static_cast<int>(best);
}

}  // namespace ftdla::model
