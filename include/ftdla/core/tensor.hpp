// SPDX-License-Identifier: MIT
// Dense row-major tensors. Activations are NCHW; conv weights [K, C/groups, R, S]; FC weights [N_out, N_in].
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ftdla/core/error.hpp"

namespace ftdla {

using Shape = std::vector<int64_t>;

/// "[1,6,28,28]"
inline std::string to_string(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? "," : "") + std::to_string(s[i]);
  return r + "]";
}

/// Number of elements of a shape (1 for a scalar shape {}). Shapes come from model files, so the
/// product is checked: throws ValidationError naming the shape if it overflows int64.
inline int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (const int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n)) [[unlikely]]
      throw ValidationError("shape " + to_string(s) + ": element count overflows int64");
  return n;
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
