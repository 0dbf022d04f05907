#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <vector>

#include "ftdla/core/error.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ftdla/quant/fixed_point.hpp"
#include "ftdla/quant/float_requant.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::quant {
namespace {

TEST(QuantizeMultiplier, NormalizesToQ31) {
  const auto half = quantize_multiplier(0.5);
  EXPECT_EQ(half.multiplier, 1 << 30);
  EXPECT_EQ(half.shift, 0);
  const auto q = quantize_multiplier(0.75);
  EXPECT_EQ(q.multiplier, 1610612736);  // round(0.75 * 2^31)
  EXPECT_EQ(q.shift, 0);
  const auto small = quantize_multiplier(0.001);  // 0.001 = 0.512 * 2^-9
  EXPECT_EQ(small.shift, -9);
  EXPECT_EQ(small.multiplier, 1099511628);  // round(0.512 * 2^31)
  EXPECT_EQ(quantize_multiplier(0.0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(1e-12).multiplier, 0);  // shift < -31 flushes to zero
  // A fraction that rounds up to 2^31 renormalizes: (1 - 2^-33) -> 2^30, shift + 1.
  const auto up = quantize_multiplier(1.0 - 1.0 / 8589934592.0);
  EXPECT_EQ(up.multiplier, 1 << 30);
  EXPECT_EQ(up.shift, 1);
}

TEST(Requantize, RoundingDivideByPotRoundsHalfAwayFromZero) {
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5
  EXPECT_EQ(rounding_divide_by_pot(3, 1), 2);    // 1.5
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);    // 1.5
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);
  EXPECT_EQ(rounding_divide_by_pot(5, 2), 1);    // 1.25
  EXPECT_EQ(rounding_divide_by_pot(-5, 2), -1);
  EXPECT_EQ(rounding_divide_by_pot(7, 2), 2);    // 1.75
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);
  EXPECT_EQ(rounding_divide_by_pot(42, 0), 42);
}

TEST(Requantize, SrdhmRoundsHalfUpAndSaturates) {
  // gemmlowp's nudge is 2^30 for ab >= 0 and 1 - 2^30 otherwise, then C division truncates: a negative
  // exact half therefore rounds toward zero (-2.5 -> -2), like ARM VQRDMULH's (ab + 2^30) >> 31.
  EXPECT_EQ(srdhm(5, 1 << 30), 3);    // 2.5 -> 3
  EXPECT_EQ(srdhm(-5, 1 << 30), -2);  // -2.5 -> -2
  EXPECT_EQ(srdhm(-7, 1 << 30), -3);  // -3.5 -> -3
  EXPECT_EQ(srdhm(4, 1 << 30), 2);
  const int32_t mn = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(srdhm(mn, mn), std::numeric_limits<int32_t>::max());
}

TEST(Requantize, MultiplyByQuantizedMultiplierHandValues) {
  const auto quarter = quantize_multiplier(0.25);  // 2^30 with shift -1
  EXPECT_EQ(multiply_by_quantized_multiplier(6, quarter), 2);    // 1.5 -> 2
  EXPECT_EQ(multiply_by_quantized_multiplier(-6, quarter), -2);  // -1.5 -> -2
  EXPECT_EQ(multiply_by_quantized_multiplier(2, quarter), 1);    // 0.5 -> 1
  EXPECT_EQ(multiply_by_quantized_multiplier(-2, quarter), -1);  // -0.5 -> -1
  // Documented double rounding (TFLite without single rounding): 1 * 0.25 = 0.25 rounds to 1, because
  // SRDHM first rounds 0.5 up to 1 and then 1/2 rounds half away from zero to 1.
  EXPECT_EQ(multiply_by_quantized_multiplier(1, quarter), 1);
  const auto three = quantize_multiplier(3.0);  // > 1: left shift
  EXPECT_EQ(multiply_by_quantized_multiplier(7, three), 21);
  // 3 = 0.75 * 2^2: the left shift of INT32_MAX saturates (instead of overflowing), then * 0.75.
  EXPECT_EQ(multiply_by_quantized_multiplier(std::numeric_limits<int32_t>::max(), three), 1610612735);
  EXPECT_EQ(rounding_divide(5, 2), 3);
  EXPECT_EQ(rounding_divide(-5, 2), -3);
  EXPECT_EQ(rounding_divide(7, 3), 2);
}

TEST(QuantizeInput, EqualsRoundClampOfEveryValueIncludingTiesAndNonFinite) {
  // The inline input quantization against the scalar definition clamp(round_half_away(x / scale) + zp):
  // exact ties, values just off ties, out-of-range, huge, infinite and NaN inputs, signed and unsigned
  // registers, several scales.
  std::vector<float> xs = {0.0f, -0.0f, 1e30f, -1e30f, std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest(),
                           std::numeric_limits<float>::denorm_min()};
  for (int k = -300; k <= 300; ++k) {
    const float tie = (static_cast<float>(k) + 0.5f) / 64.0f;  // exact ties at scale 1/64
    xs.push_back(tie);
    xs.push_back(std::nextafter(tie, 1e9f));
    xs.push_back(std::nextafter(tie, -1e9f));
  }
  uint64_t state = 7;
  for (int i = 0; i < 4000; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    xs.push_back(static_cast<float>(static_cast<int64_t>(state >> 11) % 2000001 - 1000000) / 250000.0f);
  }
  QGraph q;
  q.graph.values.push_back(model::Value("x", Shape{1, 1, static_cast<int64_t>(xs.size())}));
  q.input = 0;
  q.enc.resize(1);
  for (const double scale : {1.0 / 64.0, 0.0039215686, 0.1, 3.0}) {
    for (const bool is_signed : {false, true}) {
      Encoding& e = q.enc[0];
      e.scale = scale;
      e.is_signed = is_signed;
      e.zero_point = is_signed ? -3 : 7;
      e.qmin = is_signed ? -128 : 0;
      e.qmax = is_signed ? 127 : 255;
      const std::vector<int32_t> got = q.quantize_input(xs.data());
      for (size_t i = 0; i < xs.size(); ++i) {
        constexpr int64_t kFar = int64_t{1} << 40;
        const int64_t want = std::clamp<int64_t>(round_clamp(static_cast<double>(xs[i]) / scale, -kFar, kFar) + e.zero_point,
                                                 e.qmin, e.qmax);
        ASSERT_EQ(got[i], want) << "x = " << xs[i] << " scale " << scale << (is_signed ? " signed" : " unsigned");
      }
    }
  }
}

TEST(QuantOptions, ValidateNamesTheField) {
  QuantOptions o;
  o.wbits = 1;
  try {
    o.validate();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("quant.wbits"), std::string::npos);
  }
  o = {};
  o.abits = 17;
  EXPECT_THROW(o.validate(), ConfigError);
  o = {};
  o.accbits = 40;
  EXPECT_THROW(o.validate(), ConfigError);
  o = {};
  o.k = 9;  // above A = 8
  EXPECT_THROW(o.validate(), ConfigError);
  o = {};
  o.k_per_layer["conv1"] = 1;
  EXPECT_THROW(o.validate(), ConfigError);
  o = {};
  o.k_per_layer["conv1"] = 4;
  EXPECT_EQ(o.effective_bits("conv1"), 4);
  EXPECT_EQ(o.effective_bits("fc"), 8);
}

TEST(Requantize, RoundHalfAwayEqualsStdRound) {
  // The libm-free rounding must agree with std::round everywhere, ties and near-ties included.
  const double cases[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
                          4503599627370495.5, -4503599627370495.5, 1e15 + 0.5, 123.4999, -123.5001};
  for (double x : cases) EXPECT_EQ(round_half_away(x), static_cast<int64_t>(std::round(x))) << x;
  uint64_t s = 88172645463325252ULL;
  for (int i = 0; i < 200000; ++i) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    const double x = (static_cast<double>(s >> 11) * 0x1.0p-53 - 0.5) * std::ldexp(1.0, static_cast<int>(s % 40));
    ASSERT_EQ(round_half_away(x), static_cast<int64_t>(std::round(x))) << x;
    const double tie = std::floor(x) + 0.5;
    ASSERT_EQ(round_half_away(tie), static_cast<int64_t>(std::round(tie))) << tie;
  }
}

TEST(Requantize, ShiftsOutsideTheUsualRangeSaturateInsteadOfOverflowing) {
  // A corrupted multiplier (shift 69 .. 124 came out of a flipped weight byte) must give the saturated /
  // vanishing result, not an int64 shift by >= 64 bits.
  const int32_t mx = std::numeric_limits<int32_t>::max(), mn = std::numeric_limits<int32_t>::min();
  // From shift 31 on, every nonzero x saturates before the multiply: larger shifts change nothing.
  const QuantizedMultiplier at31{1 << 30, kMaxLeftShift};
  EXPECT_EQ(multiply_by_quantized_multiplier(5, at31), 1 << 30);  // saturated 2^31 - 1, times 1/2
  EXPECT_EQ(multiply_by_quantized_multiplier(-5, at31), -(1 << 30));
  for (int shift : {32, 33, 63, 64, 69, 124, 1000}) {
    const QuantizedMultiplier big{1 << 30, shift};
    for (int32_t x : {5, -5, 1, -1, mx, mn})
      EXPECT_EQ(multiply_by_quantized_multiplier(x, big), multiply_by_quantized_multiplier(x, at31)) << shift << " " << x;
    EXPECT_EQ(multiply_by_quantized_multiplier(0, big), 0) << shift;
  }
  for (int shift : {-32, -33, -64, -124}) {
    const QuantizedMultiplier tiny{mx, shift};
    EXPECT_EQ(multiply_by_quantized_multiplier(mx, tiny), 0) << shift;
    EXPECT_EQ(multiply_by_quantized_multiplier(mn + 1, tiny), 0) << shift;
  }
  EXPECT_EQ(rounding_divide_by_pot(mn, 32), -1);  // exactly -1/2: half away from zero
  EXPECT_EQ(rounding_divide_by_pot(mn, 33), 0);
  EXPECT_EQ(rounding_divide_by_pot(mx, 40), 0);
}

TEST(Requantize, RoundClampIsDefinedForEveryDouble) {
  EXPECT_EQ(round_clamp(2.5, -10, 10), 3);
  EXPECT_EQ(round_clamp(-2.5, -10, 10), -3);
  EXPECT_EQ(round_clamp(1e300, -10, 10), 10);
  EXPECT_EQ(round_clamp(-1e300, -10, 10), -10);
  EXPECT_EQ(round_clamp(std::nan(""), -10, 10), -10);
  EXPECT_EQ(round_clamp(1e300, INT32_MIN, INT32_MAX), INT32_MAX);
}

/// One Gemm y = w0 * x0 + w1 * x1 on two features; x1 is 0 in every calibration image, so w1 does not
/// widen the output range but does set the weight scale.
model::Graph two_feature_gemm(float w1) {
  model::Graph g;
  g.values = {{"x", {2}}, {"y", {1}}};
  g.input = 0;
  g.output = 1;
  model::Node n;
  n.name = "fc_corrupt";
  n.op = model::OpKind::Gemm;
  n.inputs = {0};
  n.output = 1;
  n.weight = Tensor<float>({1, 2}, std::vector<float>{0.5f, w1});
  n.bias = {0.0f};
  g.nodes.push_back(n);
  return g;
}

data::Dataset first_feature_only() {
  data::Dataset ds;
  ds.source = "synthetic";
  ds.image_shape = {2};
  for (int i = 0; i < 16; ++i) {
    ds.pixels.push_back(static_cast<float>(i) / 16.0f);
    ds.pixels.push_back(0.0f);
    ds.labels.push_back(0);
  }
  return ds;
}

TEST(Quantize, AScaleOutsideTheFixedPointRangeIsRejectedNamingTheLayer) {
  QuantOptions o;
  o.calib_images = 16;
  // A sane second weight quantizes (the rejection below is caused by the corrupt value, not the setup).
  EXPECT_NO_THROW(quantize(two_feature_gemm(0.25f), first_feature_only(), o));
  // A flipped exponent bit makes w1 ~1e30: weight scale / output scale needs a shift of ~90 bits.
  try {
    (void)quantize(two_feature_gemm(1e30f), first_feature_only(), o);
    ADD_FAILURE() << "expected ValidationError";
  } catch (const ValidationError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("fc_corrupt"), std::string::npos) << msg;
    EXPECT_NE(msg.find("requantization scale"), std::string::npos) << msg;
  }
}

TEST(FloatRequantize, RoundsHalfToEvenAfterFloat32ScalingAndClamps) {
  // ONNX Runtime's requantization: float(acc) * scale, ties to even (2.5 -> 2, 3.5 -> 4, -2.5 -> -2).
  EXPECT_EQ(float_requantize(5, 0.5f, 0, -128, 127), 2);
  EXPECT_EQ(float_requantize(7, 0.5f, 0, -128, 127), 4);
  EXPECT_EQ(float_requantize(-5, 0.5f, 0, -128, 127), -2);
  EXPECT_EQ(float_requantize(-7, 0.5f, 3, -128, 127), -1);  // -3.5 -> -4, + 3
  // The fixed-point arithmetic rounds the same tie up: the two modes really differ.
  EXPECT_EQ(multiply_by_quantized_multiplier(5, quantize_multiplier(0.5)), 3);
  // Clamped to the register range less the zero point, before rounding.
  EXPECT_EQ(float_requantize(100000, 1.0f, 10, 0, 255), 255);
  EXPECT_EQ(float_requantize(-100000, 1.0f, 10, 0, 255), 0);
  EXPECT_EQ(float_requantize(INT32_MIN, 1.0f, 0, -128, 127), -128);
  // A float32 product: 25 * 0.1f is 2.5000000373 exactly, 2.5 in float32, then even: 2 (a double product
  // would round to 3).
  EXPECT_EQ(float_requantize(25, 0.1f, 0, -128, 127), 2);
}

TEST(FloatRequantize, AddUsesEachInputsScaleRatio) {
  // 0.5 * (10 - 2) + 0.25 * (6 - 0) = 5.5 -> 6 (even), + zero point 1 = 7; 4.5 -> 4 (even).
  EXPECT_EQ(float_add(10, 2, 0.5f, 6, 0, 0.25f, 1, -128, 127), 7);
  EXPECT_EQ(float_add(9, 2, 0.5f, 4, 0, 0.25f, 0, -128, 127), 4);
  EXPECT_EQ(float_add(127, 0, 4.0f, 127, 0, 4.0f, 0, -128, 127), 127);
}

}  // namespace
}  // namespace ftdla::quant
