// SPDX-License-Identifier: MIT
// Search-space JSON: dse::parse_space; an accepted space must round-trip through to_json.
#include "fuzz_common.hpp"
#include "ftdla/dse/cross_layer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ftdla::fuzz::round_trips(data, size, [](const nlohmann::json& j) { return ftdla::dse::parse_space(j); }, "parse_space(to_json(s)) != s");
  return 0;
}
