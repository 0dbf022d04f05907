// Console reporter that also prints throughput ratios between benchmarks measured in the same run
// (machines are shared and noisy: only same-run ratios are meaningful).
#pragma once
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ftdla::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  /// Each pair (numerator, denominator) names benchmarks by prefix; ratio of items_per_second.
  explicit RatioReporter(std::vector<std::pair<std::string, std::string>> pairs) : pairs_(std::move(pairs)) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end() && r.run_type == Run::RT_Iteration) rate_[r.benchmark_name()] = it->second;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nRatios (items/s, same run):\n");
    for (const auto& [num, den] : pairs_) {
      const double a = find(num), b = find(den);
      if (a > 0 && b > 0) std::printf("  %-40s / %-40s = %8.2fx\n", num.c_str(), den.c_str(), a / b);
    }
  }

 private:
  double find(const std::string& prefix) const {
    for (const auto& [name, v] : rate_)
      if (name.rfind(prefix, 0) == 0) return v;
    return 0.0;
  }
  std::vector<std::pair<std::string, std::string>> pairs_;
  std::map<std::string, double> rate_;
};

}  // namespace ftdla::bench
