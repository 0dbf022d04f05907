// SPDX-License-Identifier: MIT
// Constraints JSON: dse::parse_constraints; accepted constraints must round-trip through to_json.
#include "fuzz_common.hpp"
#include "ftdla/dse/evaluator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ftdla::fuzz::round_trips(data, size, [](const nlohmann::json& j) { return ftdla::dse::parse_constraints(j); }, "parse_constraints(to_json(c)) != c");
  return 0;
}
