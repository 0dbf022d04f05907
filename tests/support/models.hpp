// Shared test setup: shipped models quantized on real Fashion-MNIST data (cached per process).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <sys/stat.h>

#include "ftdla/data/dataset.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::test {

inline std::string model_path(const std::string& name) { return std::string(FTDLA_SOURCE_DIR) + "/models/" + name + ".onnx"; }

inline bool have_model(const std::string& name) {
  struct stat st{};
  return ::stat(model_path(name).c_str(), &st) == 0;
}

inline const data::Dataset& test_set() {
  static const data::Dataset ds = data::load_split(data::kDefaultDataDir, "test");
  return ds;
}
inline const data::Dataset& calib_set() {
  static const data::Dataset ds = data::load_split(data::kDefaultDataDir, "train", {0.0f, 1.0f, 256});
  return ds;
}

/// A shipped model, quantized with the given options, with its engine; cached per (model, k).
struct Quantized {
  model::Graph graph;
  quant::QGraph q;
  std::unique_ptr<engine::IntegerEngine> engine;
};

inline const Quantized& quantized(const std::string& name, int k = 0) {
  static std::map<std::pair<std::string, int>, std::unique_ptr<Quantized>> cache;
  auto& slot = cache[{name, k}];
  if (!slot) {
    slot = std::make_unique<Quantized>();
    slot->graph = model::load_onnx(model_path(name));
    quant::QuantOptions o;
    o.calib_images = 256;
    o.k = k;
    slot->q = quant::quantize(slot->graph, calib_set(), o);
    slot->engine = std::make_unique<engine::IntegerEngine>(slot->q);
  }
  return *slot;
}

inline const char* const kShippedModels[] = {"lenet5", "rescnn", "dwcnn"};

}  // namespace ftdla::test
