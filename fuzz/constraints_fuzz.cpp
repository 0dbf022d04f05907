// SPDX-License-Identifier: MIT
// Constraints JSON: dse::parse_constraints; accepted constraints must round-trip through to_json.
#include "fuzz_common.hpp"
#include "ftdla/dse/evaluator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftdla::dse;
  ftdla::fuzz::accepts([&] {
    const nlohmann::json j = to_json(parse_constraints(ftdla::fuzz::parse(data, size)));
    if (to_json(parse_constraints(j)) != j) ftdla::fuzz::fail("parse_constraints(to_json(c)) != c");
  });
  return 0;
}
