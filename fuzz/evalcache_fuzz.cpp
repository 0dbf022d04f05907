// SPDX-License-Identifier: MIT
// Evaluation cache files (JSON lines): dse::parse_cache_line on every line of the input. An accepted
// line's metrics are what Evaluator::evaluate() reads on a cache hit: apply_metrics must then succeed.
#include <cmath>

#include "fuzz_common.hpp"
#include "ftdla/dse/evaluator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftdla::dse;
  const std::string text(reinterpret_cast<const char*>(data), size);
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const auto entry = parse_cache_line(text.substr(at, end - at), "fuzz.cache");
    if (entry) {
      Evaluation e;
      try {
        apply_metrics(entry->second, e, "fuzz.cache");
      } catch (const ftdla::Error&) {
        ftdla::fuzz::fail("apply_metrics rejects metrics parse_cache_line accepted");
      }
      if (e.injections < 1 || !(e.faulty_accuracy >= 0.0 && e.faulty_accuracy <= 1.0) ||
          !(e.golden_fault_accuracy >= 0.0 && e.golden_fault_accuracy <= 1.0))
        ftdla::fuzz::fail("apply_metrics: figures out of range from an accepted cache line");
    }
    at = end + 1;
  }
  return 0;
}
