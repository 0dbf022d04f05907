// SPDX-License-Identifier: MIT
#include "common.hpp"

#include <iostream>

#include "ftdla/core/atomic_file.hpp"
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
  if (path == "-") {
    std::cout << j.dump(2) << "\n";
    return;
  }
  write_file_atomic(path, j.dump(2) + "\n");
}

nlohmann::json to_json(const ModelArgs& a) {
  return {{"model", a.model}, {"data", a.data}, {"mean", a.mean}, {"std", a.std},
          {"wbits", a.wbits}, {"abits", a.abits}, {"accbits", a.accbits}, {"calib", a.calib},
          {"percentile", a.percentile}, {"calib_images", a.calib_images}};
}

}  // namespace ftdla::cli
