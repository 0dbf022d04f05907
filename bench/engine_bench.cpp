// Golden int8 inference throughput (images/s) of the bit-exact integer engine, against the reference
// scalar engine measured in the same run and, when bench/vs_ort.sh has just written out/ort_bench.jsonl,
// against ONNX Runtime float on the same files:
//   BM_Golden/<model>/batch{1,128}/threads{1,2}   IntegerEngine::predict_batch on the int8 kernels (threads
//                                                  cover the batch; at batch 1 they split each large layer)
//   BM_GoldenRef/<model>/batch128/threads1         the same with the scalar reference kernels
//   BM_GoldenDirect/<model>/batch128/threads1      the int8 kernels with every convolution a direct GEMM
//                                                  (no Winograd: IntegerEngine::set_winograd(false))
//   BM_GoldenUngrouped/<model>/batch128/threads1   the int8 kernels with every image run through all layers
//                                                  alone (IntegerEngine::set_group_images(1))
//   BM_Float/lenet5                                ftdla's float reference engine
// Models: models/lenet5.onnx, models/resnet18w32.onnx and, if present, out/resnet18w64.onnx (the
// full-width ResNet-18 that bench/make_resnet18 writes; random weights are fine for timing).
// Options after Google Benchmark's: --ort FILE (JSON lines from bench/ort/ort_bench.js). Environment:
// FTDLA_LAYER_PARALLEL_MACS=N sets the batch-of-one split threshold (IntegerEngine::set_layer_parallel_macs),
// FTDLA_GROUP_IMAGES=N the images per group (IntegerEngine::set_group_images), FTDLA_GROUP_PANEL_BYTES=N
// the packed input of a grouped GEMM at most (IntegerEngine::set_group_panel_bytes).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <omp.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ratio_reporter.hpp"

namespace {

struct Model {
  ftdla::model::Graph g;
  ftdla::data::Dataset test;
  ftdla::quant::QGraph q;
  std::unique_ptr<ftdla::engine::IntegerEngine> e;
};

const ftdla::data::Dataset& calib() {
  static const ftdla::data::Dataset d = ftdla::data::load_split(ftdla::data::kDefaultDataDir, "train", {0, 1, 32});
  return d;
}

std::map<std::string, std::unique_ptr<Model>>& models() {
  static std::map<std::string, std::unique_ptr<Model>> m;
  return m;
}

void load(const std::string& name, const std::string& path) {
  auto m = std::make_unique<Model>();
  m->g = ftdla::model::load_onnx(path);
  m->test = ftdla::data::load_split(ftdla::data::kDefaultDataDir, "test", {0, 1, 256});
  ftdla::quant::QuantOptions o;
  o.calib_images = 32;
  m->q = ftdla::quant::quantize(m->g, calib(), o);
  m->e = std::make_unique<ftdla::engine::IntegerEngine>(m->q);
  // FTDLA_LAYER_PARALLEL_MACS: the batch-of-one split threshold, to measure where splitting pays.
  if (const char* v = std::getenv("FTDLA_LAYER_PARALLEL_MACS")) m->e->set_layer_parallel_macs(std::atoll(v));
  if (const char* v = std::getenv("FTDLA_GROUP_IMAGES")) m->e->set_group_images(static_cast<size_t>(std::atoll(v)));
  if (const char* v = std::getenv("FTDLA_GROUP_PANEL_BYTES")) m->e->set_group_panel_bytes(std::atoll(v));
  models()[name] = std::move(m);
}

enum class Kernels { Fast, Direct, Ungrouped, Reference };

void BM_Golden(benchmark::State& state, const std::string& name, int64_t batch, int threads, Kernels kernels) {
  const Model& m = *models().at(name);
  const int saved = omp_get_max_threads();
  const auto isa = ftdla::engine::kernels::active_isa();
  if (kernels == Kernels::Reference) ftdla::engine::kernels::set_isa(ftdla::engine::kernels::Isa::Scalar);
  m.e->set_winograd(kernels != Kernels::Direct);
  const size_t group_images = m.e->group_images();
  if (kernels == Kernels::Ungrouped) m.e->set_group_images(1);
  omp_set_num_threads(threads);
  std::vector<int> top1(static_cast<size_t>(batch));
  std::vector<const float*> images(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b) images[b] = m.test.image(b % m.test.count());
  m.e->predict_batch(images.data(), top1.data(), static_cast<size_t>(batch));  // warm-up: buffers, first touch
  int64_t i = 0;
  for (auto _ : state) {
    for (int64_t b = 0; b < batch; ++b) images[b] = m.test.image((i + b) % m.test.count());
    m.e->predict_batch(images.data(), top1.data(), static_cast<size_t>(batch));
    i += batch;
  }
  omp_set_num_threads(saved);
  ftdla::engine::kernels::set_isa(isa);
  m.e->set_winograd(true);
  m.e->set_group_images(group_images);
  state.SetItemsProcessed(i);
  state.counters["macs_per_image"] = static_cast<double>(m.g.total_macs());
}

void BM_Float(benchmark::State& state) {
  const Model& m = *models().at("lenet5");
  const ftdla::model::FloatEngine fe(m.g);
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(fe.run(m.test.image(i % m.test.count())));
    ++i;
  }
  state.SetItemsProcessed(i);
}

bool exists(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0;
}

/// Ratios of ftdla golden int8 to ONNX Runtime float, per (model, threads, batch), from the same run.
class OrtRatioReporter : public ftdla::bench::RatioReporter {
 public:
  OrtRatioReporter(std::vector<std::pair<std::string, std::string>> pairs, std::string ort_file)
      : RatioReporter(std::move(pairs)), ort_file_(std::move(ort_file)) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      auto it = r.counters.find("items_per_second");
      if (it != r.counters.end() && r.run_type == Run::RT_Iteration) mine_[r.benchmark_name()] = it->second;
    }
    RatioReporter::ReportRuns(runs);
  }
  void Finalize() override {
    RatioReporter::Finalize();
    if (ort_file_.empty()) return;
    std::ifstream in(ort_file_);
    if (!in) {
      std::printf("\n(no ONNX Runtime results in %s: run bench/vs_ort.sh)\n", ort_file_.c_str());
      return;
    }
    std::printf("\nftdla golden int8 vs ONNX Runtime float (%s), images/s:\n", ort_file_.c_str());
    std::printf("  %-14s %7s %5s %14s %14s %8s\n", "model", "threads", "batch", "ftdla", "onnxruntime", "ratio");
    std::string line;
    while (std::getline(in, line)) {
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("images_per_s")) continue;
      std::string model = j.value("model", "");
      model = model.substr(model.find_last_of('/') + 1);
      model = model.substr(0, model.find(".onnx"));
      const std::string key = "BM_Golden/" + model + "/batch" + std::to_string(j.value("batch", 0)) + "/threads" +
                              std::to_string(j.value("threads", 0)) + "/real_time";
      const auto it = mine_.find(key);
      if (it == mine_.end()) continue;
      const double ort = j.value("images_per_s", 0.0);
      std::printf("  %-14s %7d %5d %14.1f %14.1f %7.2fx\n", model.c_str(), j.value("threads", 0), j.value("batch", 0),
                  it->second, ort, ort > 0 ? it->second / ort : 0.0);
    }
  }

 private:
  std::string ort_file_;
  std::map<std::string, double> mine_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::string ort_file;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--ort") ort_file = argv[i + 1];
  const std::string root = FTDLA_SOURCE_DIR;
  load("lenet5", root + "/models/lenet5.onnx");
  if (exists(root + "/models/resnet18w32.onnx")) load("resnet18w32", root + "/models/resnet18w32.onnx");
  if (exists(root + "/out/resnet18w64.onnx")) load("resnet18w64", root + "/out/resnet18w64.onnx");
  benchmark::AddCustomContext("isa", ftdla::engine::kernels::isa_name(ftdla::engine::kernels::active_isa()));
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& [name, m] : models()) {
    (void)m;
    for (int64_t batch : {int64_t{1}, int64_t{128}})
      for (int threads : {1, 2}) {
        const std::string id = "BM_Golden/" + name + "/batch" + std::to_string(batch) + "/threads" + std::to_string(threads);
        benchmark::RegisterBenchmark(id.c_str(), BM_Golden, name, batch, threads, Kernels::Fast)->UseRealTime()->Unit(benchmark::kMillisecond);
      }
    const std::string ref = "BM_GoldenRef/" + name + "/batch128/threads1";
    benchmark::RegisterBenchmark(ref.c_str(), BM_Golden, name, int64_t{128}, 1, Kernels::Reference)->UseRealTime()->Unit(benchmark::kMillisecond);
    const std::string direct = "BM_GoldenDirect/" + name + "/batch128/threads1";
    benchmark::RegisterBenchmark(direct.c_str(), BM_Golden, name, int64_t{128}, 1, Kernels::Direct)->UseRealTime()->Unit(benchmark::kMillisecond);
    pairs.push_back({"BM_Golden/" + name + "/batch128/threads1", direct});
    const std::string ungrouped = "BM_GoldenUngrouped/" + name + "/batch128/threads1";
    benchmark::RegisterBenchmark(ungrouped.c_str(), BM_Golden, name, int64_t{128}, 1, Kernels::Ungrouped)->UseRealTime()->Unit(benchmark::kMillisecond);
    pairs.push_back({"BM_Golden/" + name + "/batch128/threads1", ungrouped});
    pairs.push_back({"BM_Golden/" + name + "/batch128/threads1", ref});
    pairs.push_back({"BM_Golden/" + name + "/batch128/threads2", "BM_Golden/" + name + "/batch128/threads1"});
    pairs.push_back({"BM_Golden/" + name + "/batch1/threads2", "BM_Golden/" + name + "/batch1/threads1"});
  }
  benchmark::RegisterBenchmark("BM_Float/lenet5", BM_Float)->UseRealTime()->Unit(benchmark::kMicrosecond);
  pairs.push_back({"BM_Golden/lenet5/batch1/threads1", "BM_Float/lenet5"});
  OrtRatioReporter rep(pairs, ort_file);
  benchmark::RunSpecifiedBenchmarks(&rep);
  benchmark::Shutdown();
}
