// The shipped models (models/*.onnx) against the PyTorch figures recorded beside them (models/*.json,
// written by tools/train_models.py): float logits and accuracy of our import + float engine, and the
// accuracy of the bit-exact integer engine at the default 8/8/32 quantization.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ftdla/data/dataset.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "support/models.hpp"

namespace ftdla::model {
namespace {

// PyTorch and our float engine sum in different orders: fp32 logits differ by up to a few 1e-5 (the
// depthwise dwcnn uses about 0.7 of this tolerance, LeNet-5 and rescnn under 0.2).
constexpr double kLogitRelTol = 1e-4;
constexpr double kLogitAbsTol = 1e-5;
// Float accuracy over the 10,000 test images vs PyTorch's: at most a few borderline images may flip.
constexpr double kFloatAccuracyTolPoints = 0.05;
// Integer engine (8/8/32, min/max calibration) vs the float model.
constexpr double kIntVsFloatTolPoints = 1.0;
// LeNet-5 at int8 must reach this accuracy (issue 2).
constexpr double kLenetInt8MinAccuracy = 0.87;
// Calibration images: the CLI default (`ftdla eval --calib-images`).
constexpr int64_t kCalibImages = 512;

constexpr double kPoints = 100.0;  // fraction -> percentage points

/// One shipped model, loaded, evaluated and quantized once per process.
struct Shipped {
  std::string name;
  nlohmann::json meta;  // models/<name>.json
  Graph graph;
  double float_accuracy = -1;  // our float engine, all test images (computed on first use)
  double int_accuracy = -1;    // integer engine at 8/8/32
};

const data::Dataset& full_test_set() { return test::test_set(); }  // all 10,000 images

const data::Dataset& calib_set_512() {
  static const data::Dataset ds = data::load_split(data::kDefaultDataDir, "train", {0.0f, 1.0f, kCalibImages});
  return ds;
}

Shipped& shipped(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Shipped>> cache;
  auto& slot = cache[name];
  if (!slot) {
    slot = std::make_unique<Shipped>();
    slot->name = name;
    std::ifstream in(std::string(FTDLA_SOURCE_DIR) + "/models/" + name + ".json");
    slot->meta = nlohmann::json::parse(in);
    slot->graph = load_onnx(test::model_path(name));
  }
  return *slot;
}

double float_accuracy(Shipped& s) {
  if (s.float_accuracy < 0) s.float_accuracy = engine::evaluate_float(s.graph, full_test_set()).accuracy;
  return s.float_accuracy;
}

double int_accuracy(Shipped& s) {
  if (s.int_accuracy < 0) {
    quant::QuantOptions o;  // defaults: W8 A8 P32, min/max
    o.calib_images = kCalibImages;
    const quant::QGraph q = quant::quantize(s.graph, calib_set_512(), o);
    const engine::IntegerEngine e(q);
    s.int_accuracy = engine::evaluate(e, full_test_set()).accuracy;
  }
  return s.int_accuracy;
}

class ShippedModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedModel, FloatLogitsMatchPyTorch) {
  Shipped& s = shipped(GetParam());
  const auto& want = s.meta.at("logits_first32");
  const auto& labels = s.meta.at("labels_first32");
  ASSERT_EQ(want.size(), 32u);
  const FloatEngine fe(s.graph);
  const data::Dataset& ds = full_test_set();
  double worst_abs = 0.0, worst_of_tol = 0.0;  // largest |diff| and largest |diff| / tolerance
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(ds.labels[i], labels[i].get<int>()) << "image " << i << ": dataset differs from the one trained on";
    const std::vector<float> got = fe.run(ds.image(static_cast<int64_t>(i)));
    const std::vector<float> ref = want[i].get<std::vector<float>>();
    ASSERT_EQ(got.size(), ref.size()) << "image " << i;
    for (size_t c = 0; c < ref.size(); ++c) {
      const double tol = kLogitAbsTol + kLogitRelTol * std::fabs(ref[c]);
      EXPECT_NEAR(got[c], ref[c], tol) << s.name << " image " << i << " logit " << c;
      const double diff = std::fabs(double{got[c]} - double{ref[c]});
      worst_abs = std::max(worst_abs, diff);
      worst_of_tol = std::max(worst_of_tol, diff / tol);
    }
  }
  std::printf("[ shipped ] %-7s float logits of images 0..31 vs PyTorch: max |diff| %.2e = %.3f of the tolerance\n",
              s.name.c_str(), worst_abs, worst_of_tol);
}

TEST_P(ShippedModel, FloatAccuracyEqualsPyTorch) {
  Shipped& s = shipped(GetParam());
  const double pytorch = s.meta.at("float_accuracy").get<double>();
  const double ours = float_accuracy(s);
  std::printf("[ shipped ] %-7s float accuracy %.2f%% (PyTorch %.2f%%, diff %+.3f points)\n", s.name.c_str(),
              kPoints * ours, kPoints * pytorch, kPoints * (ours - pytorch));
  EXPECT_NEAR(kPoints * ours, kPoints * pytorch, kFloatAccuracyTolPoints) << s.name;
}

TEST_P(ShippedModel, Int8AccuracyWithinOnePointOfFloat) {
  // Against the recorded PyTorch float accuracy, which FloatAccuracyEqualsPyTorch shows our float engine
  // reproduces (CTest runs each test in its own process: this avoids a second 10,000-image float pass).
  Shipped& s = shipped(GetParam());
  const double f = s.meta.at("float_accuracy").get<double>();
  const double i = int_accuracy(s);
  std::printf("[ shipped ] %-7s int 8/8/32 accuracy %.2f%% (PyTorch float %.2f%%, diff %+.2f points; calib %lld images)\n",
              s.name.c_str(), kPoints * i, kPoints * f, kPoints * (i - f), static_cast<long long>(kCalibImages));
  EXPECT_NEAR(kPoints * i, kPoints * f, kIntVsFloatTolPoints) << s.name;
}

INSTANTIATE_TEST_SUITE_P(Models, ShippedModel, ::testing::ValuesIn(std::vector<std::string>(std::begin(test::kShippedModels), std::end(test::kShippedModels))),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(ShippedLenet5, Int8AccuracyAtLeast87Percent) {
  const double i = int_accuracy(shipped("lenet5"));
  std::printf("[ shipped ] lenet5  int 8/8/32 accuracy %.2f%% (required >= %.0f%%)\n", kPoints * i, kPoints * kLenetInt8MinAccuracy);
  EXPECT_GE(i, kLenetInt8MinAccuracy);
}

}  // namespace
}  // namespace ftdla::model
