// Pre-quantized models (QDQ and QOperator forms) against ONNX Runtime: ftdla's integer outputs on the
// committed fixtures (tools/make_qdq_models.py) and ONNX Runtime's outputs on the same images
// (bench/ort/qdq_reference.js, committed as <name>.ort.u8).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "support/models.hpp"
#include "support/onnx_builder.hpp"

namespace ftdla::engine {
namespace {

std::string qdq_fixture(const std::string& file) { return std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/qdq/" + file; }

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct Agreement {
  int64_t images = 0, same_argmax = 0, elements = 0, same_elements = 0, correct = 0;
};

/// ftdla's output integers (in the model file's encoding) on the first `count` test images vs ONNX Runtime's.
Agreement agree(const quant::QGraph& q, const std::vector<uint8_t>& ort, int64_t count) {
  const IntegerEngine e(q);
  const data::Dataset& ds = test::test_set();
  const quant::Encoding& out = q.enc[q.output];
  Agreement a;
  Trace t;
  for (int64_t i = 0; i < count; ++i) {
    e.run(ds.image(i), t);
    const std::vector<int32_t>& y = t.values[q.output];
    int best = 0, ort_best = 0;
    for (int c = 0; c < 10; ++c) {
      const int32_t mine = y[c] + out.file_offset, theirs = ort[i * 10 + c];
      a.same_elements += mine == theirs;
      if (y[c] > y[best]) best = c;
      if (theirs > ort[i * 10 + ort_best]) ort_best = c;
    }
    a.elements += 10;
    a.same_argmax += best == ort_best;
    a.correct += best == ds.labels[i];
    ++a.images;
  }
  return a;
}

class QdqAgreement : public ::testing::TestWithParam<std::string> {};

TEST_P(QdqAgreement, IntegerOutputsMatchOnnxRuntime) {
  const std::string name = GetParam();
  const nlohmann::json side = parse_json<ValidationError>(read_file(qdq_fixture(name + ".json")), name);
  const std::vector<uint8_t> ort = read_bytes(qdq_fixture(side["ort"]["file"].get<std::string>()));
  const int64_t count = side["ort"]["images"].get<int64_t>();
  ASSERT_EQ(static_cast<int64_t>(ort.size()), count * 10);

  const model::Graph g = model::load_onnx(qdq_fixture(name + ".onnx"));
  ASSERT_TRUE(g.pre_quantized());
  const quant::QGraph q = quant::quantize(g, test::calib_set(), quant::QuantOptions{});
  EXPECT_TRUE(q.from_model);
  EXPECT_TRUE(q.float_requant);  // the default for a model's own scales: ONNX Runtime's arithmetic
  EXPECT_EQ(q.enc[q.output].scale, side["output_scale"].get<double>());

  const Agreement a = agree(q, ort, count);
  const double argmax = static_cast<double>(a.same_argmax) / static_cast<double>(a.images);
  const double elements = static_cast<double>(a.same_elements) / static_cast<double>(a.elements);
  std::printf("%s: %lld images; argmax agrees on %.4f, output integers on %.4f; accuracy %.4f (ONNX Runtime %.4f)\n",
              name.c_str(), static_cast<long long>(a.images), argmax, elements,
              static_cast<double>(a.correct) / static_cast<double>(a.images), side["ort"]["accuracy"].get<double>());
  EXPECT_GE(argmax, 0.999);
  EXPECT_GE(elements, 0.99);

  // The fixed-point requantization on the same scales is a different arithmetic: close, but not ORT's.
  quant::QuantOptions fixed;
  fixed.requant = quant::RequantMode::FixedPoint;
  const quant::QGraph qf = quant::quantize(g, test::calib_set(), fixed);
  EXPECT_TRUE(qf.from_model);
  EXPECT_FALSE(qf.float_requant);
  const Agreement af = agree(qf, ort, std::min<int64_t>(count, 2000));
  const double fixed_argmax = static_cast<double>(af.same_argmax) / static_cast<double>(af.images);
  const double fixed_elements = static_cast<double>(af.same_elements) / static_cast<double>(af.elements);
  std::printf("%s, fixed-point requantization: argmax agrees on %.4f, output integers on %.4f\n", name.c_str(),
              fixed_argmax, fixed_elements);
  EXPECT_LT(fixed_elements, elements);  // the float mode is what makes the integers ONNX Runtime's
  EXPECT_GE(fixed_argmax, 0.95);        // same scales: the same network up to rounding
}

INSTANTIATE_TEST_SUITE_P(Fixtures, QdqAgreement, ::testing::Values("lenet5_qdq", "dwcnn_qdq", "lenet5_qop"));

TEST(QdqImport, WeightsAndBiasAreTheFilesIntegers) {
  // The integers ftdla computes with are the file's, not re-derived from dequantized reals.
  const model::Graph g = model::load_onnx(qdq_fixture("lenet5_qdq.onnx"));
  const quant::QGraph q = quant::quantize(g, test::calib_set(), quant::QuantOptions{});
  int layers = 0;
  for (size_t l : q.compute_layers()) {
    const quant::QLayer& L = q.layers[l];
    const model::Node& n = q.graph.nodes[L.node];
    ASSERT_TRUE(n.quant.has_value());
    EXPECT_EQ(L.weight, n.quant->weight);
    EXPECT_EQ(L.bias, n.quant->bias);
    for (size_t o = 0; o < L.weight_scale.size(); ++o) {
      EXPECT_EQ(L.weight_scale[o], static_cast<double>(n.quant->weight_scale[o]));
      // ONNX Runtime's multiplier: x_scale * w_scale / y_scale in float32.
      const float expect = static_cast<float>(q.enc[L.inputs[0]].scale) * n.quant->weight_scale[o] /
                           static_cast<float>(q.enc[L.output].scale);
      EXPECT_EQ(L.requant_scale[o], expect);
    }
    ++layers;
  }
  EXPECT_EQ(layers, 5);
}

TEST(QdqImport, CalibrationOptionsAndOtherBitWidthsAreRejected) {
  const model::Graph g = model::load_onnx(qdq_fixture("lenet5_qdq.onnx"));
  quant::QuantOptions o;
  o.wbits = 6;
  EXPECT_THROW(quant::quantize(g, test::calib_set(), o), ConfigError);
  o = {};
  o.calibration_given = true;
  EXPECT_THROW(quant::quantize(g, test::calib_set(), o), ConfigError);
  o = {};
  o.k = 5;
  o.range = quant::RangeMode::Rescale;
  EXPECT_THROW(quant::quantize(g, test::calib_set(), o), ConfigError);
  // Re-quantizing the dequantized network is allowed, and then calibrates.
  o = {};
  o.source = quant::QuantSource::Calibrate;
  o.wbits = 6;
  const quant::QGraph q = quant::quantize(g, test::calib_set(), o);
  EXPECT_FALSE(q.from_model);
  EXPECT_FALSE(q.float_requant);
  // A float model has no scales of its own to use.
  quant::QuantOptions m;
  m.source = quant::QuantSource::Model;
  EXPECT_THROW(quant::quantize(model::load_onnx(test::model_path("lenet5")), test::calib_set(), m), ConfigError);
}

TEST(QdqImport, RangeConstraintKeepsTheModelsStep) {
  // k < 8 on a model's scales: same step (scale), live range 2^k - 1 steps, as calibration's clip mode.
  const model::Graph g = model::load_onnx(qdq_fixture("lenet5_qdq.onnx"));
  quant::QuantOptions o;
  o.k = 5;
  const quant::QGraph q = quant::quantize(g, test::calib_set(), o);
  const quant::QGraph full = quant::quantize(g, test::calib_set(), quant::QuantOptions{});
  for (size_t l : q.compute_layers()) {
    const quant::Encoding& e = q.enc[q.layers[l].output];
    EXPECT_EQ(e.scale, full.enc[q.layers[l].output].scale);
    EXPECT_EQ(e.eff_bits, 5);
    EXPECT_EQ(e.qmax - e.qmin, 31);
    EXPECT_GE(e.zero_point, e.qmin);
    EXPECT_LE(e.zero_point, e.qmax);
  }
}

/// input [1,2] -> QuantizeLinear (0.5, uint8 10) -> QLinearMatMul (b int8 [2,3], 0.25; y 1.0, uint8 100)
/// -> DequantizeLinear: every integer can be worked out by hand.
std::string qlinear_matmul_model() {
  test::OnnxBuilder b({1, 2});
  b.init("xs", {}, {0.5f});
  b.init_int("xz", {}, onnx::TensorProto::UINT8, {10});
  b.init_int("bq", {2, 3}, onnx::TensorProto::INT8, {4, -2, 3, 4, 5, -128});
  b.init("bs", {}, {0.25f});
  b.init_int("bz", {}, onnx::TensorProto::INT8, {0});
  b.init("ys", {}, {1.0f});
  b.init_int("yz", {}, onnx::TensorProto::UINT8, {100});
  b.node("QuantizeLinear", {"input", "xs", "xz"}, "xq");
  b.node("QLinearMatMul", {"xq", "xs", "xz", "bq", "bs", "bz", "ys", "yz"}, "yq");
  b.node("DequantizeLinear", {"yq", "ys", "yz"}, "y");
  return b.finish("y");
}

std::vector<int32_t> run_file_ints(const quant::QGraph& q, const std::vector<float>& x) {
  const IntegerEngine e(q);
  Trace t;
  e.run(x.data(), t);
  std::vector<int32_t> y = t.values[q.output];
  for (int32_t& v : y) v += q.enc[q.output].file_offset;
  return y;
}

TEST(QdqImport, QLinearMatMulByHand) {
  const model::Graph g = model::parse_onnx(qlinear_matmul_model(), "qlinear_matmul");
  data::Dataset ds;
  ds.image_shape = {2};
  ds.pixels = {2.5f, 0.0f};
  ds.labels = {0};
  // x = [2.5, 0]: q = round(x / 0.5) + 10 = [15, 10]; acc = (15 - 10) * [4, -2, 3] = [20, -10, 15];
  // acc * 0.5 * 0.25 / 1.0 = [2.5, -1.25, 1.875].
  const quant::QGraph q = quant::quantize(g, ds, quant::QuantOptions{});
  ASSERT_TRUE(q.from_model);
  EXPECT_EQ(q.enc[q.input].file_offset, 128);  // uint8 with zero point 10 is held as int8 with -118
  EXPECT_EQ(q.enc[q.input].zero_point, -118);
  // ONNX Runtime: round half to even, 2.5 -> 2: [102, 99, 102].
  EXPECT_EQ(run_file_ints(q, ds.pixels), (std::vector<int32_t>{102, 99, 102}));
  // gemmlowp fixed point rounds the tie up: [103, 99, 102].
  quant::QuantOptions fixed;
  fixed.requant = quant::RequantMode::FixedPoint;
  EXPECT_EQ(run_file_ints(quant::quantize(g, ds, fixed), ds.pixels), (std::vector<int32_t>{103, 99, 102}));
  // x = [1, -2]: q = [12, 6]; acc = 2 * [4, -2, 3] - 4 * [4, 5, -128] = [-8, -24, 518]; * 0.125 =
  // [-1, -3, 64.75] -> [99, 97, 165] (the -128 weight included).
  EXPECT_EQ(run_file_ints(q, {1.0f, -2.0f}), (std::vector<int32_t>{99, 97, 165}));
}

}  // namespace
}  // namespace ftdla::engine
