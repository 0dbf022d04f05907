// SPDX-License-Identifier: MIT
// Design JSON: protect::parse_design; an accepted design must round-trip through to_json.
#include "fuzz_common.hpp"
#include "ftdla/protect/design.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftdla::protect;
  ftdla::fuzz::accepts([&] {
    const DesignPoint d = parse_design(ftdla::fuzz::parse(data, size));
    if (!(parse_design(to_json(d)) == d)) ftdla::fuzz::fail("parse_design(to_json(d)) != d");
  });
  return 0;
}
