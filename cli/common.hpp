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

/// Peak resident set size of the job in MiB: the maximum over the MPI ranks. A collective under MPI:
/// every rank must call it at the same point (e.g. before writing the final result, not on a timer).
double job_peak_rss_mb();

/// Adds how the run was parallelized and what it used: "ranks" (MPI processes, 1 without mpirun),
/// "threads" (OpenMP threads per rank) and "peak_rss_mb" (job_peak_rss_mb() or, for a checkpoint a rank
/// writes on its own, this process's peak_rss_mb()). Not a collective, and not part of a result's
/// configuration: a run may resume with other counts.
void add_run_info(nlohmann::json& j, double peak_rss_mb);

/// A byte count: a positive number with an optional binary suffix K, M, G, T (= KiB, MiB, GiB, TiB; a
/// trailing B or iB is allowed, "4G" = "4GiB" = "4GB" = 4 * 2^30), e.g. "4G", "512M", "1.5GiB", "1048576".
/// Anything else (0, negative, no number, unknown suffix, over 2^63 - 1) throws ConfigError naming `option`.
int64_t parse_bytes(const std::string& text, const std::string& option);
/// The shortest exact form parse_bytes() reads back: "4GiB", "512MiB", "1000".
std::string format_bytes(int64_t bytes);

/// --max-memory: the bound on the golden-run cache of the commands that inject faults.
struct MemoryArgs {
  std::string max_memory;
  void add_to(CLI::App& app);
  /// Parsed; throws ConfigError naming --max-memory.
  int64_t bytes() const { return parse_bytes(max_memory, "--max-memory"); }
};
/// Adds "max_memory_mb" (the bound), "golden_stored" and "golden_mb" (stored golden registers, MiB).
void add_memory_info(nlohmann::json& j, int64_t max_memory, bool golden_stored, int64_t golden_bytes);

/// Echo of the model/quantization configuration for result files.
nlohmann::json to_json(const ModelArgs& a);
/// FNV-1a 64 of the model file's bytes, as hex: a resumed run must use the same model, not just the
/// same path.
std::string model_fingerprint(const ModelArgs& a);

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
/// Load, check, quantize, map and run the golden inferences of the first `images` test images, keeping
/// their registers if they fit in half of `max_memory` bytes (fault::GoldenSet).
std::unique_ptr<InjectionSetup> load_for_injection(const ModelArgs& m, const AccelArgs& a, int64_t images,
                                                   int64_t max_memory);

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
