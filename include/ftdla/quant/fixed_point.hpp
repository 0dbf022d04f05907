// SPDX-License-Identifier: MIT
// gemmlowp/TFLite fixed-point requantization: a real multiplier M is stored as a Q0.31
// int32 `multiplier` in [2^30, 2^31) and a power-of-two `shift`, M = multiplier / 2^31 * 2^shift.
// Rounding: SRDHM rounds to nearest with ties toward +inf (gemmlowp's nudge + truncating division: -2.5 -> -2,
// +2.5 -> 3; a common gloss is "away from zero", which the code does not do for negative ties),
// then RoundingDivideByPOT rounds half away from zero ("double rounding", TFLite without TFLITE_SINGLE_ROUNDING).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace ftdla::quant {

struct QuantizedMultiplier {
  int32_t multiplier = 0;  ///< Q0.31, in [2^30, 2^31) or 0
  int shift = 0;           ///< left shift if > 0, right shift if < 0
};

/// TFLite QuantizeMultiplier: frexp, round (ties away from zero), renormalize 2^31, flush tiny to 0.
inline QuantizedMultiplier quantize_multiplier(double m) {
  QuantizedMultiplier q;
  if (m == 0.0) return q;
  int shift = 0;
  const double frac = std::frexp(m, &shift);
  int64_t fixed = static_cast<int64_t>(std::round(frac * static_cast<double>(int64_t{1} << 31)));
  if (fixed == (int64_t{1} << 31)) {
    fixed /= 2;
    ++shift;
  }
  if (shift < -31) return q;  // too small to represent: multiplier 0
  q.multiplier = static_cast<int32_t>(fixed);
  q.shift = shift;
  return q;
}

/// SaturatingRoundingDoublingHighMul (gemmlowp fixedpoint.h): a*b / 2^31 rounded to nearest, ties toward +inf.
inline int32_t srdhm(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // C++ division truncates toward zero
}

/// Largest left shift a multiplier may carry (M < 2^31): quantize() rejects a layer whose scales need
/// more. Shifts outside [-31, kMaxLeftShift] never come out of quantize(); the arithmetic below is
/// still defined for them (saturating), so a corrupted QGraph cannot cause undefined behaviour.
inline constexpr int kMaxLeftShift = 31;

/// A shift quantize() can produce, [-31, kMaxLeftShift]: the range the vector requantization kernels take
/// (anything else goes to the scalar arithmetic below).
inline bool shift_in_quantize_range(QuantizedMultiplier qm) { return qm.shift >= -31 && qm.shift <= kMaxLeftShift; }

/// RoundingDivideByPOT (gemmlowp): x / 2^e rounded half away from zero, e >= 0.
inline int32_t rounding_divide_by_pot(int32_t x, int e) {
  // |x| <= 2^31: from e = 32 on the quotient is within [-1/2, 1/2], nonzero after rounding only at -2^31 / 2^32.
  if (e >= 32) [[unlikely]] return (e == 32 && x == std::numeric_limits<int32_t>::min()) ? -1 : 0;
  const int32_t mask = static_cast<int32_t>((int64_t{1} << e) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> e) + (remainder > threshold ? 1 : 0);
}

/// MultiplyByQuantizedMultiplier: x * M. A left shift that would overflow int32 saturates
/// (TFLite leaves it undefined; we define it so the golden model never has UB).
inline int32_t multiply_by_quantized_multiplier(int32_t x, QuantizedMultiplier qm) {
  // Past 32 bits every nonzero x saturates anyway; capping keeps the int64 product exact and defined.
  const int left = qm.shift > 0 ? (qm.shift < 32 ? qm.shift : 32) : 0;
  const int right = qm.shift > 0 ? 0 : -qm.shift;
  int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << left);
  if (shifted > std::numeric_limits<int32_t>::max()) shifted = std::numeric_limits<int32_t>::max();
  if (shifted < std::numeric_limits<int32_t>::min()) shifted = std::numeric_limits<int32_t>::min();
  return rounding_divide_by_pot(srdhm(static_cast<int32_t>(shifted), qm.multiplier), right);
}

/// clamp(multiply_by_quantized_multiplier(acc, qm) + zp, lo, hi): a compute layer's output register (the
/// fixed-point counterpart of float_requantize in float_requant.hpp).
inline int32_t requantize_clamped(int32_t acc, QuantizedMultiplier qm, int32_t zp, int32_t lo, int32_t hi) {
  const int64_t v = static_cast<int64_t>(multiply_by_quantized_multiplier(acc, qm)) + zp;
  return static_cast<int32_t>(v < lo ? lo : v > hi ? hi : v);
}

/// TFLite's reference int8 Add: both operands to a common scale with `left_shift` (0..31) bits of headroom,
/// each rescaled, summed, rescaled to the output and clamped. The centring, shift and sum are uint32 steps:
/// for in-range registers the int32 values TFLite computes, and defined (wrapping) for any input.
inline int32_t add_requantized(int32_t a, int32_t z1, int32_t b, int32_t z2, int left_shift, QuantizedMultiplier in1,
                               QuantizedMultiplier in2, QuantizedMultiplier out, int32_t zp, int32_t lo, int32_t hi) {
  const auto scaled = [&](int32_t x, int32_t z) {
    return static_cast<int32_t>((static_cast<uint32_t>(x) - static_cast<uint32_t>(z)) << left_shift);
  };
  const int32_t s1 = multiply_by_quantized_multiplier(scaled(a, z1), in1);
  const int32_t s2 = multiply_by_quantized_multiplier(scaled(b, z2), in2);
  return requantize_clamped(static_cast<int32_t>(static_cast<uint32_t>(s1) + static_cast<uint32_t>(s2)), out, zp, lo, hi);
}

/// Round half away from zero to the nearest integer (TFLite's TfLiteRound / std::round).
inline int64_t round_half_away(double x) {
  // Same result as std::round, without the libm call: x - trunc(x) is exact, so the tie test is exact.
  const double t = std::trunc(x), f = x - t;
  return static_cast<int64_t>(t) + (f >= 0.5 ? 1 : f <= -0.5 ? -1 : 0);
}

/// round_half_away(x) clamped to [lo, hi] (integral bounds), defined for every x: out-of-range values
/// (which would overflow the int64 conversion) clamp, NaN gives lo.
inline int64_t round_clamp(double x, int64_t lo, int64_t hi) {
  if (!(x >= static_cast<double>(lo))) return lo;
  if (x >= static_cast<double>(hi)) return hi;
  const int64_t r = round_half_away(x);
  return r < lo ? lo : r > hi ? hi : r;
}

/// Integer division of a by b > 0, rounded half away from zero (average pooling).
inline int64_t rounding_divide(int64_t a, int64_t b) {
  return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

}  // namespace ftdla::quant
