// Fault-injection throughput on the shipped LeNet-5 (default 32x32 weight-stationary array, 8/8/32):
// single-bit transient flips uniform over all neuron-output register bits, one fault per inference,
// golden traces of the first 100 test images cached. Measured in one run (items = faults or images):
//   BM_InjectFast/threads{1,2}  fast incremental path (Injector::run), OpenMP over a batch of faults
//   BM_GoldenInference           IntegerEngine::run of one image (what a full re-run would at least cost)
//   BM_InjectReference           plain full re-run with per-MAC simulation (Injector::run_reference)
// Issue 3 targets: fast(1) >= 5x golden, fast(1) >= 10x reference, fast(2) >= 1.7x fast(1).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/data/dataset.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/fault/campaign.hpp"
#include "ftdla/fault/injector.hpp"
#include "ftdla/fault/sampler.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ratio_reporter.hpp"

namespace {

constexpr int64_t kImages = 100;     // golden traces cached
constexpr int64_t kPool = 16384;     // pre-drawn faults, cycled through by every benchmark
constexpr int64_t kBatch = 4096;     // faults per iteration of the parallel fast-path loop (large: little tail imbalance)
constexpr uint64_t kSeed = 20240601;

struct Trial {
  ftdla::fault::FaultSet faults;
  int64_t image = 0;
};

struct Setup {
  ftdla::model::Graph g = ftdla::model::load_onnx(FTDLA_SOURCE_DIR "/models/lenet5.onnx");
  ftdla::data::Dataset test = ftdla::data::load_split(ftdla::data::kDefaultDataDir, "test", {0, 1, kImages});
  ftdla::data::Dataset train = ftdla::data::load_split(ftdla::data::kDefaultDataDir, "train", {0, 1, 512});
  ftdla::quant::QGraph q = ftdla::quant::quantize(g, train, {});  // 8/8/32, 512 calibration images
  ftdla::engine::IntegerEngine e{q};
  ftdla::accel::Mapping mp = ftdla::accel::map_network(q, {});  // 32x32 WS
  ftdla::fault::Injector inj{e, mp};
  ftdla::fault::GoldenSet golden{e, test, kImages};
  std::vector<Trial> trials;

  Setup() {
    const ftdla::fault::FaultSampler sampler(q, mp, ftdla::fault::Site::Neuron);
    trials.resize(kPool);
    for (int64_t t = 0; t < kPool; ++t) {
      ftdla::Rng rng = ftdla::Rng::derive(kSeed, static_cast<uint64_t>(t));
      trials[t].faults.transients.push_back(sampler.sample(rng));
      trials[t].image = t % kImages;
    }
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

void BM_InjectFast(benchmark::State& state, int threads) {
  Setup& s = setup();
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  int64_t next = 0, items = 0, sdc = 0, masked = 0;
  for (auto _ : state) {
    int64_t batch_sdc = 0, batch_masked = 0;
#pragma omp parallel for schedule(dynamic, 4) reduction(+ : batch_sdc, batch_masked)
    for (int64_t i = 0; i < kBatch; ++i) {
      const Trial& t = s.trials[(next + i) % kPool];
      const ftdla::fault::InjectionResult r = s.inj.run(s.golden.trace(t.image), t.faults);
      batch_sdc += r.top1 != s.golden.top1[t.image];
      batch_masked += !r.output_changed;
    }
    next = (next + kBatch) % kPool;
    items += kBatch;
    sdc += batch_sdc;
    masked += batch_masked;
  }
  omp_set_num_threads(saved);
  state.SetItemsProcessed(items);
  state.counters["sdc"] = items ? static_cast<double>(sdc) / static_cast<double>(items) : 0.0;
  state.counters["masked"] = items ? static_cast<double>(masked) / static_cast<double>(items) : 0.0;
}
BENCHMARK_CAPTURE(BM_InjectFast, threads1, 1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_InjectFast, threads2, 2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_GoldenInference(benchmark::State& state) {
  Setup& s = setup();
  ftdla::engine::Trace t;
  int64_t i = 0;
  for (auto _ : state) {
    s.e.run(s.test.image(i % kImages), t);
    benchmark::DoNotOptimize(s.e.predict(t));
    ++i;
  }
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_GoldenInference)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_InjectReference(benchmark::State& state) {
  Setup& s = setup();
  int64_t i = 0;
  for (auto _ : state) {
    const Trial& t = s.trials[i % kPool];
    benchmark::DoNotOptimize(s.inj.run_reference(s.golden.trace(t.image), t.faults));
    ++i;
  }
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_InjectReference)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("compiler", __VERSION__);
  benchmark::AddCustomContext("workload", "lenet5 int 8/8/32, 32x32 WS, 1 neuron-output bit flip per inference, 100 golden images");
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
  (void)setup();  // load, quantize, map and cache golden traces before any timing
  ftdla::bench::RatioReporter rep({{"BM_InjectFast/threads1", "BM_GoldenInference"},
                                   {"BM_InjectFast/threads1", "BM_InjectReference"},
                                   {"BM_InjectFast/threads2", "BM_InjectFast/threads1"}});
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
}
