// SPDX-License-Identifier: MIT
// Shared CLI plumbing: default paths, model/data loading options, JSON output.
#pragma once
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "ftdla/core/error.hpp"
#include "ftdla/data/dataset.hpp"
#include "ftdla/model/graph.hpp"
#include "ftdla/quant/qgraph.hpp"
#include "output.hpp"

namespace ftdla::cli {

/// Shipped LeNet-5 (the default MODEL).
std::string default_model_path();

/// Options every model-running command shares.
struct ModelArgs {
  std::string model;
  std::string data = data::kDefaultDataDir;
  std::string labels;            ///< labels .npy, with .npy images in --data
  std::string mean = "0", std = "1";  ///< one value, or a comma list with one value per channel
  int wbits = 8, abits = 8, accbits = 32;
  std::string calib = "minmax";
  double percentile = 99.99;
  int64_t calib_images = 512;
  std::string range = "clip";
  std::string quantization = "auto";  ///< auto | model | calibrate (quant::QuantSource)
  std::string requant = "auto";       ///< auto | fixed | float (quant::RequantMode)
  /// `with_bits` false: --wbits/--abits/--accbits are rejected with a message saying where the command
  /// takes its bit widths from (`bits_from`), instead of being accepted and ignored.
  void add_to(CLI::App& app, bool with_quant = true, bool with_bits = true, std::string bits_from = "");
  /// Throws ConfigError for an option given that this command does not use (see add_to).
  void check_unused() const;
  quant::QuantOptions quant_options() const;
  /// The quantization options given on the command line (for commands that would not use them).
  std::vector<std::string> quant_options_given() const;
  std::string calib_data;        ///< .npy calibration images (--calib-data)
  data::DataSource source() const { return {data, labels, calib_data}; }
  data::DataOptions data_options(int64_t limit = 0) const;

 private:
  std::vector<CLI::Option*> unused_;
  std::vector<CLI::Option*> quant_opts_;
  std::vector<CLI::Option*> calib_opts_;
  CLI::Option* percentile_opt_ = nullptr;
  std::string bits_from_;
};

/// Parse the JSON file `path`; ConfigError "<what> <path>: not valid JSON (...)" otherwise.
nlohmann::json read_json(const std::string& path, const std::string& what);

/// The numbers of --mean / --std: "0.5" or "0.49,0.48,0.45". Throws ConfigError naming `option`.
std::vector<float> parse_float_list(const std::string& text, const std::string& option);

/// A CLI11 check that the value does not start with '-': for unsigned and count options, which
/// CLI11 would otherwise wrap ("--seed -1" = 2^64 - 1). Message: "must be >= 0 (got -3)".
extern const CLI::Validator kNonNegative;

/// A hidden, deprecated alias `old_name` of the option `new_option`, bound to the same variable: each use
/// prints a warning on stderr; giving both is an error. Callbacks test `new_option->count() + alias->count()`.
template <typename T>
CLI::Option* add_deprecated(CLI::App& app, const std::string& old_name, CLI::Option* new_option, T& variable) {
  const std::string new_name = new_option->get_name();
  // Not CLI11's excludes(): it would name the hidden alias in the new option's help.
  return app.add_option(old_name, variable)->group("")->each([old_name, new_name, new_option](const std::string&) {
    if (new_option->count() > 0) throw ConfigError(old_name + ": the deprecated name of " + new_name + "; give only one of them");
    warn_deprecated(old_name, new_name);
  });
}

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
