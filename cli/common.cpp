// SPDX-License-Identifier: MIT
#include "common.hpp"

#include <omp.h>

#include <iostream>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"

namespace ftdla::cli {

std::string default_model_path() { return std::string(FTDLA_MODELS_DIR) + "/lenet5.onnx"; }

void ModelArgs::add_to(CLI::App& app, bool with_quant) {
  model = default_model_path();
  app.add_option("model", model, "ONNX model (default: shipped LeNet-5)");
  app.add_option("--data", data, "directory with IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])");
  app.add_option("--mean", mean, "subtract from pixel/255 (for models trained with normalization outside the graph)");
  app.add_option("--std", std, "divide (pixel/255 - mean) by this");
  if (!with_quant) return;
  app.add_option("--wbits", wbits, "weight bits W [2, 16]");
  app.add_option("--abits", abits, "activation bits A [2, 16]");
  app.add_option("--accbits", accbits, "accumulator bits P [8, 32]");
  app.add_option("--calib", calib, "calibration: minmax | percentile");
  app.add_option("--percentile", percentile, "percentile for --calib percentile, in (50, 100]");
  app.add_option("--calib-images", calib_images, "training images used for calibration");
  app.add_option("--range", range, "range constraint k < A: clip (keep the A-bit step, clip the range) | rescale (MSE)");
}

quant::QuantOptions ModelArgs::quant_options() const {
  quant::QuantOptions q;
  q.wbits = wbits;
  q.abits = abits;
  q.accbits = accbits;
  if (calib == "minmax") q.calib = quant::CalibMethod::MinMax;
  else if (calib == "percentile") q.calib = quant::CalibMethod::Percentile;
  else throw ConfigError("--calib: unknown method '" + calib + "' (expected minmax or percentile)");
  q.percentile = percentile;
  q.calib_images = calib_images;
  if (range == "clip") q.range = quant::RangeMode::Clip;
  else if (range == "rescale") q.range = quant::RangeMode::Rescale;
  else throw ConfigError("--range: unknown mode '" + range + "' (expected clip or rescale)");
  q.validate();
  return q;
}

data::DataOptions ModelArgs::data_options(int64_t limit) const {
  data::DataOptions d;
  d.mean = mean;
  d.std = std;
  d.limit = limit;
  d.validate();
  return d;
}

void write_json(const std::string& path, const nlohmann::json& j) {
  if (!dist::is_root()) return;
  if (path == "-") {
    std::cout << j.dump(2) << "\n";
    return;
  }
  write_file_atomic(path, j.dump(2) + "\n");
}

void add_run_info(nlohmann::json& j) {
  j["ranks"] = dist::size();
  j["threads"] = omp_get_max_threads();
}

nlohmann::json to_json(const ModelArgs& a) {
  return {{"model", a.model}, {"data", a.data}, {"mean", a.mean}, {"std", a.std},
          {"wbits", a.wbits}, {"abits", a.abits}, {"accbits", a.accbits}, {"calib", a.calib},
          {"percentile", a.percentile}, {"calib_images", a.calib_images}, {"range", a.range}};
}

}  // namespace ftdla::cli

#include <unistd.h>

#include <csignal>

#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::cli {

void AccelArgs::add_to(CLI::App& app) {
  app.add_option("--rows", rows, "PE array rows R");
  app.add_option("--cols", cols, "PE array columns C");
  app.add_option("--dataflow", dataflow, "ws (weight-stationary) | os (output-stationary)");
}

accel::ArraySpec AccelArgs::spec() const {
  accel::ArraySpec s;
  s.rows = rows;
  s.cols = cols;
  s.dataflow = accel::parse_dataflow(dataflow);
  s.validate();
  return s;
}

nlohmann::json to_json(const AccelArgs& a) { return {{"rows", a.rows}, {"cols", a.cols}, {"dataflow", a.dataflow}}; }

std::unique_ptr<InjectionSetup> load_for_injection(const ModelArgs& m, const AccelArgs& a, int64_t images) {
  auto s = std::make_unique<InjectionSetup>();
  const quant::QuantOptions qo = m.quant_options();
  const accel::ArraySpec as = a.spec();
  s->graph = model::load_onnx(m.model);
  s->test = data::load_split(m.data, "test", m.data_options(images));
  quant::check_input_fits(s->graph, s->test);
  s->calib = data::load_split(m.data, "train", m.data_options(qo.calib_images));
  s->q = quant::quantize(s->graph, s->calib, qo);
  s->engine = std::make_unique<engine::IntegerEngine>(s->q);
  s->mapping = accel::map_network(s->q, as);
  s->injector = std::make_unique<fault::Injector>(*s->engine, s->mapping);
  s->golden = std::make_unique<fault::GoldenSet>(*s->engine, s->test, images);
  return s;
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>& install_stop_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return g_stop;
}

Progress::Progress(std::string label)
    : label_(std::move(label)), tty_(dist::is_root() && ::isatty(2) != 0), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::operator()(int64_t done, int64_t total) {
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const int width = 30, filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  const double eta = frac > 0 ? secs * (1 - frac) / frac : 0.0;
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %5.1f%% %.0fs left ", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total), 100 * frac, eta);
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace ftdla::cli
