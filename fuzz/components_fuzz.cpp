// SPDX-License-Identifier: MIT
// Component cost table JSON: cost::ComponentTable::from_json. An accepted table must give finite,
// non-negative costs over a range of widths and round-trip through to_json.
#include <cmath>

#include "fuzz_common.hpp"
#include "ftdla/cost/component_table.hpp"

namespace {
void check(const ftdla::cost::ComponentCost& c) {
  if (!std::isfinite(c.area_um2) || !std::isfinite(c.energy_pj) || c.area_um2 < 0 || c.energy_pj < 0)
    ftdla::fuzz::fail("ComponentTable: a non-finite or negative cost from an accepted table");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ftdla::cost::ComponentTable;
  ftdla::fuzz::accepts([&] {
    const ComponentTable t = ComponentTable::from_json(ftdla::fuzz::parse(data, size));
    for (const int w : {1, 2, 8, 12, 16, 24, 32, 48, 64}) {
      check(t.adder(w));
      check(t.multiplier(w, 8));
      check(t.comparator(w));
      check(t.shifter(w));
      check(t.register_bits(w));
      check(t.voter_bits(w));
      check(t.hardened_bits(w));
      check(t.range_corrector_bits(w, w % 2 == 0));
      check(t.requantizer(w));
    }
    const nlohmann::json j = t.to_json();
    if (ComponentTable::from_json(j).to_json() != j) ftdla::fuzz::fail("from_json(to_json(t)) != t");
  });
  return 0;
}
