// SPDX-License-Identifier: MIT
// ONNX -> float Graph. The only code in ftdla that reads ONNX models (data/tensor_io reads tensor files).
#pragma once
#include <string>

#include "ftdla/model/graph.hpp"

namespace ftdla::model {

/// Load and simplify an ONNX model. Throws ImportError (unreadable, truncated, not ONNX; initializer
/// dims that do not match its data or exceed 2 GiB in all; a value defined twice; an undefined input or
/// a cycle), UnsupportedError (op/attribute we do not implement: names op type and node) or
/// ValidationError (inconsistent shapes, NaN/Inf weights, attribute values out of range).
Graph load_onnx(const std::string& path);

/// Same, from serialized bytes; `origin` names the source in messages.
Graph parse_onnx(const std::string& bytes, const std::string& origin);

}  // namespace ftdla::model
