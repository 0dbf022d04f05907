// SPDX-License-Identifier: MIT
// Whole tensors in files, for `ftdla run`: ONNX TensorProto (.pb, the ONNX backend test-case format:
// test_data_set_0/input_0.pb) and NumPy .npy. The format is chosen by the file name's extension.
#pragma once
#include <cstdint>
#include <string>

#include "ftdla/core/tensor.hpp"

namespace ftdla::data {

/// Bound on one tensor file (10^9 bytes would already be 250 M floats): a forged header stops here.
inline constexpr int64_t kMaxTensorBytes = int64_t{1} << 31;

/// "pb" or "npy" from the extension of `path`; throws ConfigError naming `option` and the path otherwise.
std::string tensor_format(const std::string& path, const std::string& option);

/// Read a float32 tensor from a .pb (TensorProto, raw_data or float_data) or .npy (<f4, C order) file.
/// Throws ImportError (missing, truncated or malformed file; data that does not match the dims) or
/// UnsupportedError (another element type, external data); every message names the file.
Tensor<float> read_tensor(const std::string& path);

/// Write a tensor to .pb (TensorProto named `name`, raw little-endian data) or .npy (format 1.0),
/// atomically. Throws ConfigError if the file cannot be written.
void write_tensor(const std::string& path, const Tensor<float>& t, const std::string& name);
void write_tensor(const std::string& path, const Tensor<int32_t>& t, const std::string& name);

}  // namespace ftdla::data
