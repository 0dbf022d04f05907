// Integer (bit-exact) vs float engine throughput on the shipped LeNet-5, images per second.
#include <benchmark/benchmark.h>

#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ratio_reporter.hpp"

namespace {

struct Setup {
  ftdla::model::Graph g = ftdla::model::load_onnx(FTDLA_SOURCE_DIR "/models/lenet5.onnx");
  ftdla::data::Dataset test = ftdla::data::load_split(ftdla::data::kDefaultDataDir, "test", {0, 1, 512});
  ftdla::data::Dataset train = ftdla::data::load_split(ftdla::data::kDefaultDataDir, "train", {0, 1, 512});
  ftdla::quant::QGraph q = ftdla::quant::quantize(g, train, {});
};

Setup& setup() {
  static Setup s;
  return s;
}

void BM_FloatEngine(benchmark::State& state) {
  const ftdla::model::FloatEngine fe(setup().g);
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(fe.run(setup().test.image(i % setup().test.count())));
    ++i;
  }
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_FloatEngine)->Unit(benchmark::kMicrosecond);

void BM_IntegerEngine(benchmark::State& state) {
  const ftdla::engine::IntegerEngine e(setup().q);
  ftdla::engine::Trace t;
  int64_t i = 0;
  for (auto _ : state) {
    e.run(setup().test.image(i % setup().test.count()), t);
    benchmark::DoNotOptimize(e.predict(t));
    ++i;
  }
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_IntegerEngine)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  ftdla::bench::RatioReporter rep(std::vector<std::pair<std::string, std::string>>{{"BM_IntegerEngine", "BM_FloatEngine"}});
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
}
