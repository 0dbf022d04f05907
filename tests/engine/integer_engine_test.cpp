#include "ftdla/engine/integer_engine.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "support/onnx_builder.hpp"

namespace ftdla::engine {
namespace {

std::string fixture(const std::string& name) { return std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/" + name; }

/// Deterministic pseudo-images in [0, 1] of the given per-image shape.
data::Dataset synthetic_images(Shape shape, int64_t count, uint32_t seed) {
  data::Dataset ds;
  ds.image_shape = shape;
  const auto r = test::ramp(static_cast<size_t>(numel(shape) * count), seed);
  for (float x : r) ds.pixels.push_back((x + 1.0f) / 2.0f);
  ds.labels.assign(static_cast<size_t>(count), 0);
  return ds;
}

/// Naive integer direct convolution for one output: bias + sum (x - zp) * w over the window.
int64_t naive_conv_acc(const quant::QGraph& q, const quant::QLayer& L, const std::vector<int32_t>& in, int64_t oc,
                       int64_t y, int64_t x) {
  const model::Node& n = q.graph.nodes[L.node];
  const Shape& is = q.graph.values[L.inputs[0]].shape;
  const int64_t cg = n.weight.shape[1], r = n.weight.shape[2], s = n.weight.shape[3];
  const int64_t kg = n.weight.shape[0] / n.groups, g = oc / kg;
  const int32_t zp = q.enc[L.inputs[0]].zero_point;
  int64_t acc = L.bias[oc];
  for (int64_t c = 0; c < cg; ++c)
    for (int64_t a = 0; a < r; ++a)
      for (int64_t b = 0; b < s; ++b) {
        const int64_t iy = y * n.window.stride_h - n.window.pads[0] + a * n.window.dilation_h;
        const int64_t ix = x * n.window.stride_w - n.window.pads[1] + b * n.window.dilation_w;
        if (iy < 0 || iy >= is[1] || ix < 0 || ix >= is[2]) continue;
        acc += static_cast<int64_t>(in[((g * cg + c) * is[1] + iy) * is[2] + ix] - zp) * L.weight[((oc * cg + c) * r + a) * s + b];
      }
  return acc;
}

TEST(IntegerEngine, ConvAccumulatorsMatchNaiveLoop) {
  // Strided, padded, dilated, grouped and depthwise convs from the fixture; every accumulator checked.
  const model::Graph g = model::load_onnx(fixture("ops_conv_variants.onnx"));
  const data::Dataset ds = synthetic_images({1, 28, 28}, 8, 11);
  for (int pbits : {32, 12}) {
    quant::QuantOptions o;
    o.accbits = pbits;
    o.calib_images = 8;
    const quant::QGraph q = quant::quantize(g, ds, o);
    const IntegerEngine e(q);
    Trace t;
    e.run(ds.image(3), t);
    int checked = 0;
    for (size_t l : q.compute_layers()) {
      const quant::QLayer& L = q.layers[l];
      if (q.graph.nodes[L.node].op != model::OpKind::Conv) continue;
      const Shape& os = q.graph.values[L.output].shape;
      for (int64_t oc = 0; oc < os[0]; ++oc)
        for (int64_t y = 0; y < os[1]; ++y)
          for (int64_t x = 0; x < os[2]; ++x) {
            const int64_t want = wrap_signed(naive_conv_acc(q, L, t.values[L.inputs[0]], oc, y, x), pbits);
            ASSERT_EQ(t.acc[l][(oc * os[1] + y) * os[2] + x], want) << L.name << " P=" << pbits;
            ++checked;
          }
    }
    EXPECT_GT(checked, 1000);
  }
}

TEST(IntegerEngine, RequantizeSaturatesAtBothEnds) {
  test::OnnxBuilder b({1, 4});
  b.init("B", {4, 2}, {1, -1, 0.5f, 0.25f, -1, 1, -0.5f, 0.1f});
  b.node("MatMul", {"input", "B"}, "y");
  const model::Graph g = model::parse_onnx(b.finish("y"), "mm");
  const data::Dataset ds = synthetic_images({4}, 16, 3);
  quant::QuantOptions o;
  o.calib_images = 16;
  const quant::QGraph q = quant::quantize(g, ds, o);
  const IntegerEngine e(q);
  const size_t l = q.compute_layers().at(0);
  EXPECT_TRUE(q.enc[q.output].is_signed);
  EXPECT_EQ(e.requantize(l, 0, 1 << 30), 127);
  EXPECT_EQ(e.requantize(l, 0, -(1 << 30)), -128);
  EXPECT_EQ(e.requantize(l, 1, 0), q.enc[q.output].zero_point);
}

TEST(IntegerEngine, ResultsIndependentOfThreadCount) {
  const model::Graph g = model::load_onnx(fixture("ops_conv_variants.onnx"));
  const data::Dataset ds = synthetic_images({1, 28, 28}, 40, 5);
  quant::QuantOptions o;
  o.calib_images = 16;
  const quant::QGraph q = quant::quantize(g, ds, o);
  const IntegerEngine e(q);
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const EvalResult one = evaluate(e, ds);
  omp_set_num_threads(2);
  const EvalResult two = evaluate(e, ds);
  omp_set_num_threads(saved);
  EXPECT_EQ(one.predictions, two.predictions);
}

TEST(IntegerEngine, InputShapeMismatchIsAValidationError) {
  const model::Graph g = model::load_onnx(fixture("bad_input_shape.onnx"));
  const data::Dataset ds = synthetic_images({1, 28, 28}, 4, 5);
  EXPECT_THROW(quant::quantize(g, ds, {}), ValidationError);
}

TEST(IntegerEngine, RangeConstraintKeepsOutputsInKBits) {
  const model::Graph g = model::load_onnx(fixture("ops_conv_variants.onnx"));
  const data::Dataset ds = synthetic_images({1, 28, 28}, 16, 7);
  quant::QuantOptions o;
  o.calib_images = 16;
  o.k = 4;
  const quant::QGraph q = quant::quantize(g, ds, o);
  const IntegerEngine e(q);
  Trace t;
  for (int64_t i = 0; i < ds.count(); ++i) {
    e.run(ds.image(i), t);
    for (size_t l : q.compute_layers()) {
      const quant::Encoding& enc = q.enc[q.layers[l].output];
      EXPECT_EQ(enc.eff_bits, 4);
      for (int32_t v : t.values[q.layers[l].output]) {
        if (enc.is_signed) {
          EXPECT_GE(v, -8);
          EXPECT_LE(v, 7);
        } else {
          EXPECT_GE(v, 0);
          EXPECT_LE(v, 15);
        }
      }
    }
  }
}

}  // namespace
}  // namespace ftdla::engine
