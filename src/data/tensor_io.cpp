// SPDX-License-Identifier: MIT
#include "ftdla/data/tensor_io.hpp"

#include <sys/stat.h>

#include <cstring>
#include <type_traits>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/data/dataset.hpp"
#include "onnx/onnx_pb.h"

namespace ftdla::data {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The file exists, is a regular file and is not larger than kMaxTensorBytes (checked before reading it).
void check_file(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw ImportError(path + ": file not found");
  if (!S_ISREG(st.st_mode)) throw ImportError(path + ": not a regular file");
  if (st.st_size > kMaxTensorBytes)
    throw ImportError(path + ": " + std::to_string(st.st_size) + " bytes, more than the " +
                      std::to_string(kMaxTensorBytes >> 30) + " GiB a tensor file may have");
}

Tensor<float> read_pb(const std::string& path) {
  const std::string bytes = read_file(path);
  if (bytes.empty()) throw ImportError(path + ": empty file (expected an ONNX TensorProto)");
  onnx::TensorProto t;
  if (!t.ParseFromString(bytes))
    throw ImportError(path + ": not a valid ONNX TensorProto (protobuf parse failed: truncated or not a tensor)");
  if (t.data_location() == onnx::TensorProto::EXTERNAL)
    throw UnsupportedError(path + ": tensor data stored in an external file is not supported");
  if (t.data_type() != onnx::TensorProto::FLOAT) {
    const std::string type = onnx::TensorProto::DataType_IsValid(t.data_type())
                                 ? onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(t.data_type()))
                                 : std::to_string(t.data_type());
    throw UnsupportedError(path + ": element type " + type + " (expected FLOAT, float32)");
  }
  Tensor<float> out;
  int64_t n = 0;
  out.shape = file_dims(t, path, n);
  const std::string& raw = t.raw_data();
  if (!raw.empty() || t.float_data_size() == 0) {
    check_file_bytes(path, "tensor data", raw.size(), n, 4, out.shape);
    out.data.resize(static_cast<size_t>(n));
    if (n > 0) std::memcpy(out.data.data(), raw.data(), raw.size());
  } else {
    if (t.float_data_size() != n)
      throw ImportError(path + ": tensor has " + std::to_string(t.float_data_size()) + " values, dims " +
                        to_string(out.shape) + " need " + std::to_string(n));
    out.data.assign(t.float_data().begin(), t.float_data().end());
  }
  return out;
}

Tensor<float> read_npy_tensor(const std::string& path) {
  const NpyArray a = read_npy(path);
  if (a.dtype != "float32") throw UnsupportedError(path + ": dtype " + a.dtype + " (expected float32, '<f4')");
  Tensor<float> out;
  out.shape = a.dims;
  out.data.resize(a.bytes.size() / 4);
  if (!a.bytes.empty()) std::memcpy(out.data.data(), a.bytes.data(), a.bytes.size());
  return out;
}

template <typename T>
void write_any(const std::string& path, const Tensor<T>& t, const std::string& name) {
  constexpr bool is_float = std::is_same_v<T, float>;
  static_assert(is_float || std::is_same_v<T, int32_t>);
  if (static_cast<int64_t>(t.data.size()) != numel(t.shape))
    throw InternalError("write_tensor: data does not match shape " + to_string(t.shape));
  const std::string format = tensor_format(path, "output");
  std::string payload(t.data.size() * sizeof(T), '\0');
  if (!payload.empty()) std::memcpy(payload.data(), t.data.data(), payload.size());  // little-endian host
  if (format == "pb") {
    onnx::TensorProto p;
    p.set_name(name);
    p.set_data_type(is_float ? onnx::TensorProto::FLOAT : onnx::TensorProto::INT32);
    for (const int64_t d : t.shape) p.add_dims(d);
    p.set_raw_data(payload);
    write_file_atomic(path, p.SerializeAsString());
    return;
  }
  std::string shape = "(";
  for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
  shape += t.shape.size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + (is_float ? "<f4" : "<i4") + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // NPY 1.0: magic, version, 2-byte header length; the header padded with spaces to a multiple of 64, ending '\n'.
  const size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out += payload;
  write_file_atomic(path, out);
}

}  // namespace

std::string tensor_format(const std::string& path, const std::string& option) {
  if (ends_with(path, ".pb")) return "pb";
  if (ends_with(path, ".npy")) return "npy";
  throw ConfigError(option + " " + path + ": unknown tensor format (expected a .pb ONNX TensorProto or a .npy file)");
}

Tensor<float> read_tensor(const std::string& path) {
  const std::string format = tensor_format(path, "input");
  check_file(path);
  return format == "pb" ? read_pb(path) : read_npy_tensor(path);
}

void write_tensor(const std::string& path, const Tensor<float>& t, const std::string& name) { write_any(path, t, name); }
void write_tensor(const std::string& path, const Tensor<int32_t>& t, const std::string& name) { write_any(path, t, name); }

}  // namespace ftdla::data
