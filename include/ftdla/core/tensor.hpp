// SPDX-License-Identifier: MIT
// Dense row-major tensors. Activations are NCHW; conv weights [K, C/groups, R, S]; FC weights [N_out, N_in].
#pragma once
#include <cstdint>
#include <climits>
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

/// The dims of a tensor read from a file (an ONNX TensorProto, or any record with dims()) and their element
/// count `n`: throws ImportError naming `where` for a negative dimension or a count past int64.
template <typename Record>
Shape file_dims(const Record& t, const std::string& where, int64_t& n) {
  Shape s;
  for (const int64_t d : t.dims()) {
    if (d < 0) throw ImportError(where + ": negative dimension " + std::to_string(d) + " in dims");
    s.push_back(d);
  }
  try {
    n = numel(s);
  } catch (const ValidationError&) {
    throw ImportError(where + ": dims " + to_string(s) + " overflow int64");
  }
  return s;
}

/// Throws ImportError naming `where` and `what` unless `bytes` hold exactly n elements of `elem` bytes;
/// compared without multiplying n, so that forged dims cannot overflow the check.
inline void check_file_bytes(const std::string& where, const std::string& what, size_t bytes, int64_t n, int64_t elem,
                             const Shape& dims) {
  const int64_t have = static_cast<int64_t>(bytes);
  if (n > have / elem || n * elem != have)
    throw ImportError(where + ": " + what + " has " + std::to_string(bytes) + " bytes, dims " + to_string(dims) +
                      " need " + (n > INT64_MAX / elem ? std::string("more") : std::to_string(n * elem)));
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
