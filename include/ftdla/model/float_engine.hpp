// SPDX-License-Identifier: MIT
// Float reference semantics of a Graph (fp32 storage, fp32 accumulation in a fixed order).
// Used to validate import against PyTorch and to collect calibration statistics.
#pragma once
#include <functional>
#include <vector>

#include "ftdla/model/graph.hpp"

namespace ftdla::model {

class FloatEngine {
 public:
  explicit FloatEngine(const Graph& g) : g_(g) {}
  /// Run one image (values laid out as g.values[g.input].shape). Returns every value, indexed by value id.
  std::vector<std::vector<float>> run_all(const float* image) const;
  /// Logits only.
  std::vector<float> run(const float* image) const;
  const Graph& graph() const { return g_; }

 private:
  const Graph& g_;
};

/// Index of the largest element, lowest index on ties.
template <typename T>
int argmax(const T* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return static_cast<int>(best);
}

}  // namespace ftdla::model
