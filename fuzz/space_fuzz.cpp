// SPDX-License-Identifier: MIT
// Search-space JSON: dse::parse_space; an accepted space must round-trip through to_json.
#include "fuzz_common.hpp"
#include "ftdla/dse/cross_layer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftdla::dse;
  ftdla::fuzz::accepts([&] {
    const nlohmann::json j = to_json(parse_space(ftdla::fuzz::parse(data, size)));
    if (to_json(parse_space(j)) != j) ftdla::fuzz::fail("parse_space(to_json(s)) != s");
  });
  return 0;
}
