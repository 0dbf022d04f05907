// SPDX-License-Identifier: MIT
// Dense row-major tensors. Activations are NCHW; conv weights [K, C/groups, R, S]; FC weights [N_out, N_in].
#pragma once
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace ftdla {

using Shape = std::vector<int64_t>;

/// Number of elements of a shape (1 for a scalar shape {}).
inline int64_t numel(const Shape& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, [](int64_t a, int64_t b) { return a * b; });
}

/// "[1,6,28,28]"
inline std::string to_string(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

template <typename T>
struct Tensor {
  Shape shape;
  std::vector<T> data;
  Tensor() = default;
  explicit Tensor(Shape s, T fill = T{}) : shape(std::move(s)), data(static_cast<size_t>(numel(shape)), fill) {}
  Tensor(Shape s, std::vector<T> d) : shape(std::move(s)), data(std::move(d)) {}
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

}  // namespace ftdla
