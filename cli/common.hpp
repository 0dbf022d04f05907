// SPDX-License-Identifier: MIT
// Shared CLI plumbing: default paths, model/data loading options, JSON output.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "ftdla/data/dataset.hpp"
#include "ftdla/model/graph.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::cli {

/// Shipped LeNet-5 (the default MODEL).
std::string default_model_path();

/// Options every model-running command shares.
struct ModelArgs {
  std::string model;
  std::string data = data::kDefaultDataDir;
  float mean = 0.0f, std = 1.0f;
  int wbits = 8, abits = 8, accbits = 32;
  std::string calib = "minmax";
  double percentile = 99.99;
  int64_t calib_images = 512;
  std::string range = "clip";
  void add_to(CLI::App& app, bool with_quant = true);
  quant::QuantOptions quant_options() const;
  data::DataOptions data_options(int64_t limit = 0) const;
};

/// Write JSON atomically (pretty-printed) to `path`; "-" prints to stdout. Only rank 0 of an MPI job
/// writes; on the other ranks this does nothing.
void write_json(const std::string& path, const nlohmann::json& j);

/// Adds how the run was parallelized: "ranks" (MPI processes, 1 without mpirun) and "threads" (OpenMP
/// threads per rank). Not part of a result's configuration: a run may resume with other counts.
void add_run_info(nlohmann::json& j);

/// Echo of the model/quantization configuration for result files.
nlohmann::json to_json(const ModelArgs& a);

}  // namespace ftdla::cli

#include <atomic>
#include <chrono>
#include <functional>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/fault/campaign.hpp"
#include <memory>

namespace ftdla::cli {

/// Accelerator options shared by commands that map the model onto the PE array.
struct AccelArgs {
  int rows = 32, cols = 32;
  std::string dataflow = "ws";
  void add_to(CLI::App& app);
  accel::ArraySpec spec() const;
};
nlohmann::json to_json(const AccelArgs& a);

/// A model ready for fault injection: quantized on the training split, mapped, golden runs cached.
struct InjectionSetup {
  model::Graph graph;
  data::Dataset test, calib;
  quant::QGraph q;
  std::unique_ptr<engine::IntegerEngine> engine;
  accel::Mapping mapping;
  std::unique_ptr<fault::Injector> injector;
  std::unique_ptr<fault::GoldenSet> golden;
};
/// Load, check, quantize, map and run the golden inferences of the first `images` test images.
std::unique_ptr<InjectionSetup> load_for_injection(const ModelArgs& m, const AccelArgs& a, int64_t images);

/// SIGINT/SIGTERM set this flag (first signal); long commands poll it, save, and exit 130.
const std::atomic<bool>& install_stop_handler();

/// A progress bar on stderr, drawn only when stderr is a terminal, and only by rank 0 of an MPI job.
class Progress {
 public:
  explicit Progress(std::string label);
  void operator()(int64_t done, int64_t total);
  void finish();

 private:
  std::string label_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace ftdla::cli
