// SPDX-License-Identifier: MIT
// ONNX import from bytes: model::parse_onnx (protobuf decoding, graph checks, simplification).
#include "fuzz_common.hpp"
#include "ftdla/model/onnx_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  ftdla::fuzz::accepts([&] { (void)ftdla::model::parse_onnx(bytes, "fuzz.onnx"); });
  return 0;
}
