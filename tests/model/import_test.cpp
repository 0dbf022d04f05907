#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "ftdla/core/error.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "support/onnx_builder.hpp"

namespace ftdla::model {
namespace {

using test::OnnxBuilder;
using test::ramp;

// PyTorch and our engine sum in different orders; fp32 logits agree to about 1e-5 relative.
constexpr double kLogitRelTol = 1e-4;
constexpr double kLogitAbsTol = 1e-5;

std::string fixture(const std::string& name) { return std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/" + name; }

nlohmann::json sidecar(const std::string& name) {
  std::ifstream in(fixture(name));
  return nlohmann::json::parse(in);
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], kLogitAbsTol + kLogitRelTol * std::fabs(want[i])) << "index " << i;
}

TEST(OnnxImport, GemmMatMulFixtureMatchesNumpy) {
  const Graph g = load_onnx(fixture("ops_gemm_matmul.onnx"));
  const auto j = sidecar("ops_gemm_matmul.json");
  const std::vector<float> input = j["input"];
  expect_close(FloatEngine(g).run(input.data()), j["expected_pre_softmax"].get<std::vector<float>>());
}

TEST(OnnxImport, ConvVariantsFixtureMatchesPyTorch) {
  // Strided/padded/dilated conv, grouped and depthwise conv, BN folding, Clip, Add, both pools, GAP.
  const Graph g = load_onnx(fixture("ops_conv_variants.onnx"));
  const auto j = sidecar("ops_conv_variants.json");
  const std::vector<float> input = j["input"];
  expect_close(FloatEngine(g).run(input.data()), j["expected"].get<std::vector<float>>());
}

TEST(OnnxImport, TruncatedFileIsAnImportError) {
  EXPECT_THROW(load_onnx(fixture("bad_truncated.onnx")), ImportError);
}

TEST(OnnxImport, TextFileIsAnImportError) {
  try {
    load_onnx(fixture("bad_not_onnx.onnx"));
    FAIL() << "expected ImportError";
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("bad_not_onnx.onnx"), std::string::npos);
  }
}

TEST(OnnxImport, MissingFileIsAnImportError) { EXPECT_THROW(load_onnx(fixture("nope.onnx")), ImportError); }

TEST(OnnxImport, UnsupportedOpNamesOpAndNode) {
  try {
    load_onnx(fixture("bad_unsupported_op.onnx"));
    FAIL() << "expected UnsupportedError";
  } catch (const UnsupportedError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("Sigmoid"), std::string::npos) << m;
    EXPECT_NE(m.find("my_sigmoid"), std::string::npos) << m;
  }
}

/// Naive direct convolution, [C,H,W] x [K,C/g,R,S] -> [K,OH,OW], for checking the im2col path.
std::vector<float> naive_conv(const std::vector<float>& x, int64_t c, int64_t h, int64_t w, const std::vector<float>& wt,
                              int64_t k, int64_t r, int64_t s, int64_t groups, int64_t stride, int64_t pad,
                              int64_t dil, const std::vector<float>& bias, int64_t& oh, int64_t& ow) {
  oh = (h + 2 * pad - dil * (r - 1) - 1) / stride + 1;
  ow = (w + 2 * pad - dil * (s - 1) - 1) / stride + 1;
  std::vector<float> y(static_cast<size_t>(k * oh * ow), 0.0f);
  const int64_t cg = c / groups, kg = k / groups;
  for (int64_t o = 0; o < k; ++o)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        double acc = bias[o];
        const int64_t g = o / kg;
        for (int64_t ci = 0; ci < cg; ++ci)
          for (int64_t a = 0; a < r; ++a)
            for (int64_t b = 0; b < s; ++b) {
              const int64_t yy = i * stride - pad + a * dil, xx = j * stride - pad + b * dil;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              acc += static_cast<double>(wt[((o * cg + ci) * r + a) * s + b]) * x[((g * cg + ci) * h + yy) * w + xx];
            }
        y[(o * oh + i) * ow + j] = static_cast<float>(acc);
      }
  return y;
}

struct ConvCase {
  int64_t c, h, w, k, r, groups, stride, pad, dil;
};

TEST(OnnxImport, ConvMatchesNaiveLoop) {
  const ConvCase cases[] = {{1, 7, 7, 2, 3, 1, 1, 1, 1}, {4, 9, 8, 6, 3, 2, 2, 1, 1}, {4, 8, 8, 4, 3, 4, 1, 2, 2},
                            {3, 6, 5, 3, 1, 3, 1, 0, 1}, {2, 10, 10, 4, 5, 1, 3, 2, 1}};
  for (const ConvCase& cc : cases) {
    SCOPED_TRACE(::testing::Message() << "c=" << cc.c << " k=" << cc.k << " r=" << cc.r << " groups=" << cc.groups
                                      << " stride=" << cc.stride << " pad=" << cc.pad << " dil=" << cc.dil);
    OnnxBuilder b({1, cc.c, cc.h, cc.w});
    const auto wt = ramp(static_cast<size_t>(cc.k * (cc.c / cc.groups) * cc.r * cc.r), 3);
    const auto bias = ramp(static_cast<size_t>(cc.k), 4);
    b.init("w", {cc.k, cc.c / cc.groups, cc.r, cc.r}, wt);
    b.init("b", {cc.k}, bias);
    auto* n = b.node("Conv", {"input", "w", "b"}, "y");
    OnnxBuilder::ints(n, "strides", {cc.stride, cc.stride});
    OnnxBuilder::ints(n, "pads", {cc.pad, cc.pad, cc.pad, cc.pad});
    OnnxBuilder::ints(n, "dilations", {cc.dil, cc.dil});
    OnnxBuilder::i(n, "group", cc.groups);
    const Graph g = parse_onnx(b.finish("y"), "conv");
    const auto x = ramp(static_cast<size_t>(cc.c * cc.h * cc.w), 5);
    int64_t oh, ow;
    const auto want = naive_conv(x, cc.c, cc.h, cc.w, wt, cc.k, cc.r, cc.r, cc.groups, cc.stride, cc.pad, cc.dil, bias, oh, ow);
    EXPECT_EQ(g.values[g.output].shape, (Shape{cc.k, oh, ow}));
    expect_close(FloatEngine(g).run(x.data()), want);
    EXPECT_EQ(g.total_macs(), cc.k * oh * ow * (cc.c / cc.groups) * cc.r * cc.r);
  }
}

TEST(OnnxImport, BatchNormFoldingEqualsSeparateBatchNorm) {
  // y = BN(conv(x)) computed by hand per channel vs the folded conv.
  OnnxBuilder b({1, 2, 5, 5});
  const auto wt = ramp(3 * 2 * 3 * 3, 7);
  const auto bias = ramp(3, 8);
  const std::vector<float> scale{1.5f, -0.5f, 2.0f}, beta{0.1f, 0.2f, -0.3f}, mean{0.3f, -0.2f, 0.05f}, var{0.5f, 2.0f, 0.1f};
  b.init("w", {3, 2, 3, 3}, wt);
  b.init("b", {3}, bias);
  b.init("s", {3}, scale);
  b.init("be", {3}, beta);
  b.init("m", {3}, mean);
  b.init("v", {3}, var);
  auto* c = b.node("Conv", {"input", "w", "b"}, "c");
  OnnxBuilder::ints(c, "pads", {1, 1, 1, 1});
  auto* bn = b.node("BatchNormalization", {"c", "s", "be", "m", "v"}, "y");
  OnnxBuilder::f(bn, "epsilon", 1e-3f);
  const Graph g = parse_onnx(b.finish("y"), "bn");
  ASSERT_EQ(g.nodes.size(), 1u);  // folded: only the conv remains
  const auto x = ramp(2 * 5 * 5, 9);
  int64_t oh, ow;
  auto conv = naive_conv(x, 2, 5, 5, wt, 3, 3, 3, 1, 1, 1, 1, bias, oh, ow);
  for (int64_t o = 0; o < 3; ++o)
    for (int64_t p = 0; p < oh * ow; ++p) {
      float& v = conv[o * oh * ow + p];
      v = (v - mean[o]) / std::sqrt(var[o] + 1e-3f) * scale[o] + beta[o];
    }
  expect_close(FloatEngine(g).run(x.data()), conv);
}

TEST(OnnxImport, BatchNormWithoutConvIsUnsupported) {
  OnnxBuilder b({1, 2, 3, 3});
  for (const char* n : {"s", "be", "m", "v"}) b.init(n, {2}, {1.0f, 1.0f});
  b.node("Relu", {"input"}, "r");
  b.node("BatchNormalization", {"r", "s", "be", "m", "v"}, "y", "bn_after_relu");
  try {
    parse_onnx(b.finish("y"), "bn");
    FAIL();
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("bn_after_relu"), std::string::npos);
  }
}

TEST(OnnxImport, PoolsClipAddFlattenReshapeSoftmaxIdentity) {
  // input -> Identity -> MaxPool(2,2) -> Clip(0.1, 0.6) ; input -> AveragePool(3, s1, p1, include pad)
  // Add(maxpool-branch upsampled? no: both branches [1,4,4]) -> GlobalAveragePool -> Reshape [1,-1] -> Dropout -> Softmax
  OnnxBuilder b({1, 1, 4, 4});
  b.node("Identity", {"input"}, "id");
  auto* mp = b.node("MaxPool", {"id"}, "mp");
  OnnxBuilder::ints(mp, "kernel_shape", {2, 2});
  OnnxBuilder::ints(mp, "strides", {2, 2});
  b.init("lo", {}, {0.1f});
  b.init("hi", {}, {0.6f});
  b.node("Clip", {"mp", "lo", "hi"}, "cl");
  auto* ap = b.node("AveragePool", {"id"}, "ap");
  OnnxBuilder::ints(ap, "kernel_shape", {3, 3});
  OnnxBuilder::ints(ap, "strides", {2, 2});
  OnnxBuilder::ints(ap, "pads", {1, 1, 1, 1});
  OnnxBuilder::i(ap, "count_include_pad", 1);
  b.node("Add", {"cl", "ap"}, "sum");
  b.node("Relu", {"sum"}, "act");
  b.node("GlobalAveragePool", {"act"}, "gap");
  b.init_i64("shape", {2}, {1, -1});
  b.node("Reshape", {"gap", "shape"}, "flat");
  b.node("Dropout", {"flat"}, "dr");
  b.node("Softmax", {"dr"}, "y");
  const Graph g = parse_onnx(b.finish("y"), "ops");
  const std::vector<float> x{0.9f, -0.2f, 0.3f, 0.05f, 0.4f, 0.5f, -0.7f, 0.8f,
                             0.0f, 0.2f,  0.1f, 0.6f,  -0.3f, 0.7f, 0.25f, -0.1f};
  // MaxPool 2x2/2: [0.9, 0.8; 0.7, 0.6] -> Clip: [0.6, 0.6; 0.6, 0.6]
  // AvgPool 3x3/2 pad 1, count_include_pad: window sums / 9.
  auto at = [&](int y, int xx) { return (y < 0 || y > 3 || xx < 0 || xx > 3) ? 0.0f : x[y * 4 + xx]; };
  float gap = 0.0f;
  for (int oy = 0; oy < 2; ++oy)
    for (int ox = 0; ox < 2; ++ox) {
      float s = 0.0f;
      for (int a = 0; a < 3; ++a)
        for (int c = 0; c < 3; ++c) s += at(oy * 2 - 1 + a, ox * 2 - 1 + c);
      gap += std::max(0.6f + s / 9.0f, 0.0f);
    }
  const auto out = FloatEngine(g).run(x.data());
  ASSERT_EQ(out.size(), 1u);  // softmax dropped: the pre-softmax value
  EXPECT_NEAR(out[0], gap / 4.0f, 1e-6);
}

TEST(OnnxImport, GemmAttributesAndMatMulAddFold) {
  OnnxBuilder b({1, 3});
  b.init("B", {2, 3}, {1, 2, 3, 4, 5, 6});  // transB=1: out = alpha * x B^T + beta * C
  b.init("C", {2}, {0.5f, -1.0f});
  auto* gm = b.node("Gemm", {"input", "B", "C"}, "g");
  OnnxBuilder::i(gm, "transB", 1);
  OnnxBuilder::f(gm, "alpha", 2.0f);
  OnnxBuilder::f(gm, "beta", 3.0f);
  b.init("M", {2, 2}, {1, 0, 1, 1});
  b.node("MatMul", {"g", "M"}, "mm");
  b.init("bias", {2}, {10.0f, 20.0f});
  b.node("Add", {"mm", "bias"}, "y");
  const Graph g = parse_onnx(b.finish("y"), "gemm");
  ASSERT_EQ(g.nodes.size(), 2u);  // the Add folded into the MatMul's bias
  const std::vector<float> x{1, 2, 3};
  // g = 2*[14, 32] + 3*[0.5, -1] = [29.5, 61]; mm = [29.5 + 61, 61] ; y = [100.5, 81]
  const auto out = FloatEngine(g).run(x.data());
  EXPECT_NEAR(out[0], 100.5f, 1e-4);
  EXPECT_NEAR(out[1], 81.0f, 1e-4);
}

TEST(OnnxImport, SoftmaxInTheMiddleIsUnsupported) {
  OnnxBuilder b({1, 3});
  b.node("Softmax", {"input"}, "s", "mid_softmax");
  b.node("Relu", {"s"}, "y");
  EXPECT_THROW(parse_onnx(b.finish("y"), "sm"), UnsupportedError);
}

TEST(OnnxImport, ShapeMismatchIsAValidationError) {
  OnnxBuilder b({1, 3});
  b.init("B", {4, 2}, ramp(8));
  b.node("MatMul", {"input", "B"}, "y");
  EXPECT_THROW(parse_onnx(b.finish("y"), "mm"), Error);
}

// --- Bad-input checks (one-line errors naming the node / initializer) -------------------------------------

/// parse_onnx(bytes) must throw E with every one of `parts` in its message.
template <typename E>
void expect_import_error(const std::string& bytes, std::initializer_list<std::string> parts) {
  try {
    parse_onnx(bytes, "m.onnx");
    ADD_FAILURE() << "expected an error";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

/// A one-Conv model (weight W [2,1,3,3], bias Bc) whose ModelProto `edit` may change before import.
std::string conv_model(const std::function<void(onnx::ModelProto&)>& edit) {
  OnnxBuilder b({1, 1, 8, 8});
  b.init("W", {2, 1, 3, 3}, ramp(18));
  b.init("Bc", {2}, {0.1f, -0.2f});
  b.node("Conv", {"input", "W", "Bc"}, "y", "conv_a");
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(b.finish("y")));
  edit(m);
  return m.SerializeAsString();
}

onnx::TensorProto& initializer(onnx::ModelProto& m, const std::string& name) {
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    if (t.name() == name) return t;
  throw std::logic_error("no initializer " + name);
}

TEST(OnnxImportChecks, TheUneditedConvModelImports) {
  EXPECT_NO_THROW(parse_onnx(conv_model([](onnx::ModelProto&) {}), "m.onnx"));
}

TEST(OnnxImportChecks, NonFiniteWeightsAndBiasesNameTheInitializer) {
  expect_import_error<ValidationError>(conv_model([](onnx::ModelProto& m) { initializer(m, "W").set_float_data(4, NAN); }),
                                       {"conv_a", "initializer 'W'", "NaN", "index 4"});
  expect_import_error<ValidationError>(
      conv_model([](onnx::ModelProto& m) { initializer(m, "Bc").set_float_data(1, INFINITY); }),
      {"initializer 'Bc'", "Inf", "index 1"});
  OnnxBuilder b({1, 3});
  b.init("B", {3, 2}, {1, 2, 3, NAN, 5, 6});
  b.node("MatMul", {"input", "B"}, "y", "mm");
  expect_import_error<ValidationError>(b.finish("y"), {"mm", "initializer 'B'", "NaN"});
}

TEST(OnnxImportChecks, DeclaredShapeMustMatchTheDataPresent) {
  // Raw data shorter than dims x 4 bytes.
  expect_import_error<ImportError>(conv_model([](onnx::ModelProto& m) {
                                     auto& t = initializer(m, "W");
                                     t.clear_float_data();
                                     t.set_raw_data(std::string(17 * 4, '\0'));
                                   }),
                                   {"initializer 'W'", "68 bytes", "need 72"});
  // Dims whose product overflows int64, and negative dims: refused before anything is allocated.
  expect_import_error<ImportError>(conv_model([](onnx::ModelProto& m) {
                                     auto& t = initializer(m, "W");
                                     t.clear_dims();
                                     for (int i = 0; i < 4; ++i) t.add_dims(int64_t{1} << 20);
                                     t.clear_float_data();
                                     t.set_raw_data("abcd");
                                   }),
                                   {"initializer 'W'", "overflow"});
  expect_import_error<ImportError>(conv_model([](onnx::ModelProto& m) { initializer(m, "W").set_dims(0, -2); }),
                                   {"initializer 'W'", "negative dimension"});
  // Dims that fit int64 but declare more than the total limit (no data needed to trigger it).
  expect_import_error<ImportError>(conv_model([](onnx::ModelProto& m) {
                                     auto& t = initializer(m, "W");
                                     t.set_dims(0, int64_t{1} << 40);
                                     t.clear_float_data();
                                   }),
                                   {"initializer 'W'", "GiB"});
}

TEST(OnnxImportChecks, HugePadsAndStridesAreRejectedNamingTheNode) {
  for (const char* attr : {"pads", "dilations", "strides"}) {
    SCOPED_TRACE(attr);
    const int64_t big = INT64_MAX;
    expect_import_error<ValidationError>(conv_model([&](onnx::ModelProto& m) {
                                           auto* n = m.mutable_graph()->mutable_node(0);
                                           OnnxBuilder::ints(n, attr, std::string(attr) == "pads" ? std::vector<int64_t>{big, 0, big, 0}
                                                                                                  : std::vector<int64_t>{big, 1});
                                         }),
                                         {"conv_a", "must be <="});
  }
  // Below the attribute cap the window arithmetic still runs checked (no wrap into a plausible size).
  EXPECT_THROW((void)window_out_extent(INT64_MAX, 3, 1, 1, INT64_MAX, 0, false), ValidationError);
  EXPECT_THROW((void)window_out_extent(8, INT64_MAX, 1, INT64_MAX, 0, 0, false), ValidationError);
  EXPECT_EQ(window_out_extent(8, 3, 1, 1, 1, 1, false), 8);
}

TEST(OnnxImportChecks, InputDimensionsMustBePositive) {
  OnnxBuilder b({1, 0, 4});
  b.node("Relu", {"input"}, "y");
  expect_import_error<ImportError>(b.finish("y"), {"input 'input'", "dimension 0"});
}

TEST(OnnxImportChecks, GraphStructureErrorsNameTheNode) {
  {  // an input nothing defines
    OnnxBuilder b({1, 4});
    b.node("Relu", {"nowhere"}, "y", "r1");
    expect_import_error<ImportError>(b.finish("y"), {"r1", "'nowhere'", "not defined"});
  }
  {  // a cycle: r1 reads r2's output, r2 reads r1's
    OnnxBuilder b({1, 4});
    b.node("Relu", {"b"}, "a", "r1");
    b.node("Relu", {"a"}, "b", "r2");
    expect_import_error<ImportError>(b.finish("b"), {"r1", "'b'", "cycle"});
  }
  {  // two nodes writing the same value
    OnnxBuilder b({1, 4});
    b.node("Relu", {"input"}, "a", "r1");
    b.node("Relu", {"a"}, "a", "r2");
    expect_import_error<ImportError>(b.finish("a"), {"r2", "output 'a'", "already defined"});
  }
  {  // a node output shadowing an initializer
    OnnxBuilder b({1, 3});
    b.init("B", {3, 2}, ramp(6));
    b.node("Relu", {"input"}, "B", "r1");
    expect_import_error<ImportError>(b.finish("B"), {"r1", "output 'B'"});
  }
}

TEST(OnnxImportChecks, LongChainImportsInLinearTime) {
  // Import copied the whole value table once per node (40k nodes took 42 s). A 20k-node chain of
  // Relu/Identity must import and keep every node; the time is printed, not asserted.
  constexpr int kNodes = 20000;
  OnnxBuilder b({1, 16});
  std::string prev = "input";
  for (int i = 0; i < kNodes; ++i) {
    const std::string out = "v" + std::to_string(i);
    b.node(i % 2 ? "Identity" : "Relu", {prev}, out, "n" + std::to_string(i));
    prev = out;
  }
  const std::string bytes = b.finish(prev);
  const auto t0 = std::chrono::steady_clock::now();
  const Graph g = parse_onnx(bytes, "chain");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ INFO     ] %d-node chain imported in %.3f s\n", kNodes, secs);
  EXPECT_EQ(g.nodes.size(), static_cast<size_t>(kNodes / 2));  // Identity nodes are aliases
  EXPECT_EQ(g.values[g.output].shape, (Shape{16}));
  EXPECT_EQ(g.nodes.back().name, "n" + std::to_string(kNodes - 2));
}

void set_axis(onnx::NodeProto* n, int64_t axis) { test::OnnxBuilder::i(n, "axis", axis); }

/// A one-Conv QDQ model: input -> Q/DQ -> Conv (DQ int8 weight [2,1,1,1], DQ int32 bias) -> Q/DQ.
std::string qdq_conv_model(const std::vector<int32_t>& weight_zero_points = {0, 0}) {
  test::OnnxBuilder b({1, 1, 2, 2});
  b.init("s_in", {}, {0.5f});
  b.init_int("z_in", {}, onnx::TensorProto::UINT8, {0});
  b.init_int("wq", {2, 1, 1, 1}, onnx::TensorProto::INT8, {3, -128});
  b.init("ws", {2}, {0.25f, 0.125f});
  b.init_int("wz", {2}, onnx::TensorProto::INT8, weight_zero_points);
  b.init_int("bq", {2}, onnx::TensorProto::INT32, {7, -9});
  b.init("bs", {2}, {0.125f, 0.0625f});
  b.init("s_out", {}, {0.75f});
  b.init_int("z_out", {}, onnx::TensorProto::UINT8, {128});
  b.node("QuantizeLinear", {"input", "s_in", "z_in"}, "xq");
  b.node("DequantizeLinear", {"xq", "s_in", "z_in"}, "x");
  set_axis(b.node("DequantizeLinear", {"wq", "ws", "wz"}, "w"), 0);
  set_axis(b.node("DequantizeLinear", {"bq", "bs"}, "bias"), 0);
  b.node("Conv", {"x", "w", "bias"}, "c");
  b.node("QuantizeLinear", {"c", "s_out", "z_out"}, "cq");
  b.node("DequantizeLinear", {"cq", "s_out", "z_out"}, "y");
  return b.finish("y");
}

TEST(OnnxImport, QdqConvKeepsTheFilesIntegersAndScales) {
  const Graph g = parse_onnx(qdq_conv_model(), "qdq");
  ASSERT_TRUE(g.pre_quantized());
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& n = g.nodes[0];
  ASSERT_TRUE(n.quant.has_value());
  EXPECT_EQ(n.quant->weight, (std::vector<int32_t>{3, -128}));
  EXPECT_EQ(n.quant->weight_scale, (std::vector<float>{0.25f, 0.125f}));
  EXPECT_EQ(n.quant->bias, (std::vector<int32_t>{7, -9}));
  // The float graph holds the real values: DequantizeLinear's (q - zp) * scale.
  EXPECT_EQ(n.weight.data, (std::vector<float>{0.75f, -16.0f}));
  EXPECT_EQ(n.bias, (std::vector<float>{0.875f, -0.5625f}));
  ASSERT_TRUE(g.values[g.input].quant.has_value());
  EXPECT_EQ(g.values[g.input].quant->scale, 0.5f);
  ASSERT_TRUE(g.values[n.output].quant.has_value());
  EXPECT_EQ(g.values[n.output].quant->zero_point, 128);
  EXPECT_FALSE(g.values[n.output].quant->is_signed);
  // A float model has none of this.
  EXPECT_FALSE(load_onnx(std::string(FTDLA_SOURCE_DIR) + "/models/lenet5.onnx").pre_quantized());
}

TEST(OnnxImport, WeightsQuantizedInTheGraphAreFoldedToTheirIntegers) {
  // PyTorch's exporter may keep float weights and quantize them in the graph: Q -> DQ on the initializer.
  // QuantizeLinear rounds half to even (0.25 / 0.1 = 2.5 -> 2) and saturates (-7 / 0.05 = -140 -> -128).
  test::OnnxBuilder b({1, 1, 2, 2});
  b.init("s_in", {}, {0.5f});
  b.init_int("z_in", {}, onnx::TensorProto::UINT8, {0});
  b.init("wf", {2, 1, 1, 1}, {0.25f, -7.0f});
  b.init("ws", {2}, {0.1f, 0.05f});
  b.init_int("wz", {2}, onnx::TensorProto::INT8, {0, 0});
  b.node("QuantizeLinear", {"input", "s_in", "z_in"}, "xq");
  b.node("DequantizeLinear", {"xq", "s_in", "z_in"}, "x");
  set_axis(b.node("QuantizeLinear", {"wf", "ws", "wz"}, "wq"), 0);
  set_axis(b.node("DequantizeLinear", {"wq", "ws", "wz"}, "w"), 0);
  b.node("Conv", {"x", "w"}, "c");
  b.node("QuantizeLinear", {"c", "s_in", "z_in"}, "cq");
  b.node("DequantizeLinear", {"cq", "s_in", "z_in"}, "y");
  const Graph g = parse_onnx(b.finish("y"), "qdq_float_weights");
  ASSERT_EQ(g.nodes.size(), 1u);
  ASSERT_TRUE(g.nodes[0].quant.has_value());
  EXPECT_EQ(g.nodes[0].quant->weight, (std::vector<int32_t>{2, -128}));
  EXPECT_TRUE(g.nodes[0].quant->bias.empty());  // no bias given: quantize() derives it from the real one (0)
}

TEST(OnnxImport, QdqModelsThatFtdlaCannotComputeAreRejectedByName) {
  auto rejects = [](const std::string& bytes, const std::string& needle) {
    try {
      (void)parse_onnx(bytes, "qdq");
      ADD_FAILURE() << "accepted; expected an error mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // Asymmetric weights.
  rejects(qdq_conv_model({0, 3}), "only symmetric weights");
  {
    test::OnnxBuilder b({1, 2, 2});
    b.init("s", {}, {0.5f});
    b.init_int("z", {}, onnx::TensorProto::UINT8, {0});
    b.init("s2", {}, {0.25f});
    // DequantizeLinear with other parameters than the QuantizeLinear that produced the tensor.
    b.node("QuantizeLinear", {"input", "s", "z"}, "q");
    b.node("DequantizeLinear", {"q", "s2", "z"}, "y");
    rejects(b.finish("y"), "differ");
  }
  {
    test::OnnxBuilder b({1, 2, 2});
    b.init("s", {}, {-0.5f});
    b.node("QuantizeLinear", {"input", "s"}, "q");
    b.node("DequantizeLinear", {"q", "s"}, "y");
    rejects(b.finish("y"), "positive and finite");
  }
  {
    test::OnnxBuilder b({1, 2, 2});
    b.init("s", {2}, {0.5f, 0.25f});
    b.node("QuantizeLinear", {"input", "s"}, "q");
    rejects(b.finish("q"), "per axis");
  }
  {
    // An integer tensor that no quantization op produced.
    test::OnnxBuilder b({1, 2, 2});
    b.init("s", {}, {0.5f});
    b.node("DequantizeLinear", {"input", "s"}, "y");
    rejects(b.finish("y"), "not produced by a QuantizeLinear");
  }
}

// --- The final Softmax/LogSoftmax, and the axes and batch sizes that exported models carry -------------

TEST(OnnxImport, FinalSoftmaxIsKeptOffTheNodesAndAppliedByRunOutput) {
  OnnxBuilder b({1, 2, 3});
  auto* sm = b.node("LogSoftmax", {"input"}, "y");
  OnnxBuilder::i(sm, "axis", 1);  // opset 13: over the 2 rows of each column
  const Graph g = parse_onnx(b.finish("y"), "sm");
  EXPECT_TRUE(g.nodes.empty());
  EXPECT_EQ(g.output, g.input);
  EXPECT_EQ(g.output_name, "y");
  EXPECT_EQ(g.final_op.kind, FinalOp::Kind::LogSoftmax);
  const std::vector<float> x{0, 1, 2, 3, 5, 7};
  const FloatEngine e(g);
  EXPECT_EQ(e.run(x.data()), x);  // what argmax, calibration and the integer engine see: unchanged
  const std::vector<float> y = e.run_output(x.data());
  for (int c = 0; c < 3; ++c) {
    const double l = std::log(std::exp(x[c]) + std::exp(x[3 + c]));
    EXPECT_NEAR(y[c], x[c] - l, 1e-6);
    EXPECT_NEAR(y[3 + c], x[3 + c] - l, 1e-6);
  }
}

TEST(OnnxImport, FinalSoftmaxOverTheBatchAxisFailsOnlyWhenItsValuesAreNeeded) {
  OnnxBuilder b({1, 4});
  auto* sm = b.node("Softmax", {"input"}, "y");
  OnnxBuilder::i(sm, "axis", 0);
  const Graph g = parse_onnx(b.finish("y"), "sm");  // imports as before (argmax does not need it)
  const std::vector<float> x{1, 2, 3, 4};
  EXPECT_EQ(FloatEngine(g).run(x.data()), x);
  EXPECT_THROW(FloatEngine(g).run_output(x.data()), UnsupportedError);
}

TEST(OnnxImport, FlattenTakesANegativeAxisThatMeansOne) {
  OnnxBuilder b({1, 2, 3, 4});
  auto* f = b.node("Flatten", {"input"}, "y");
  OnnxBuilder::i(f, "axis", -3);
  const Graph g = parse_onnx(b.finish("y"), "flatten");
  EXPECT_EQ(g.values[g.output].shape, (Shape{24}));
  OnnxBuilder b2({1, 2, 3, 4});
  OnnxBuilder::i(b2.node("Flatten", {"input"}, "y"), "axis", -2);
  EXPECT_THROW(parse_onnx(b2.finish("y"), "flatten"), UnsupportedError);
}

TEST(OnnxImport, ReshapeMayNameTheDeclaredBatchSize) {
  // A model exported at batch 2 writes 2 as the first dimension of its Reshape shapes.
  OnnxBuilder b({2, 3, 4});
  b.init_i64("shape", {3}, {2, 4, 3});
  b.node("Reshape", {"input", "shape"}, "y");
  const Graph g = parse_onnx(b.finish("y"), "reshape");
  EXPECT_EQ(g.values[g.output].shape, (Shape{4, 3}));
  OnnxBuilder b2({2, 3, 4});
  b2.init_i64("shape", {2}, {2, 24});  // merges the batch into the rows
  b2.node("Reshape", {"input", "shape"}, "y");
  EXPECT_THROW(parse_onnx(b2.finish("y"), "reshape"), UnsupportedError);
  OnnxBuilder b3({1, 3, 4});
  b3.init_i64("shape", {3}, {3, 2, 2});  // 3 is not the declared batch (1)
  b3.node("Reshape", {"input", "shape"}, "y");
  EXPECT_THROW(parse_onnx(b3.finish("y"), "reshape"), UnsupportedError);
}

TEST(OnnxImport, DropoutInTrainingModeIsUnsupported) {
  for (const bool training : {false, true}) {
    OnnxBuilder b({1, 4});
    b.init("ratio", {}, {0.5f});
    onnx::ModelProto m;
    b.node("Dropout", {"input", "ratio", "training_mode"}, "y");
    std::string bytes = b.finish("y");
    ASSERT_TRUE(m.ParseFromString(bytes));
    auto* t = m.mutable_graph()->add_initializer();  // a BOOL scalar, one raw byte
    t->set_name("training_mode");
    t->set_data_type(onnx::TensorProto::BOOL);
    t->set_raw_data(std::string(1, training ? '\1' : '\0'));
    bytes = m.SerializeAsString();
    if (training) {
      EXPECT_THROW(parse_onnx(bytes, "dropout"), UnsupportedError);
    } else {
      const Graph g = parse_onnx(bytes, "dropout");
      EXPECT_EQ(g.output, g.input);
    }
  }
}

}  // namespace
}  // namespace ftdla::model
