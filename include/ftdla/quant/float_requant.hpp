// SPDX-License-Identifier: MIT
// ONNX Runtime's requantization (MLAS MlasRequantizeOutput, QLinearAdd, QuantizeLinear): the int32 sum is
// converted to float32, multiplied by a float32 scale, clamped to the output range less the zero point,
// rounded half to even and offset by the zero point. Every step is IEEE float32, so a vector version that
// uses the same operations (cvtdq2ps, mulps, min/max, the round-to-nearest-even conversion) gives the same
// integers.
#pragma once
#include <cmath>
#include <cstdint>

namespace ftdla::quant {

/// Round half to even: nearbyint in the default rounding mode (ftdla never changes it), as MLAS's
/// magic-number rounding and cvtps2dq.
inline float round_half_even(float x) { return std::nearbyint(x); }

/// An output register from its real value in steps of the output scale: clamped to [lo, hi] less the zero
/// point, rounded half to even, zero point added (MLAS's clamp before the magic-number rounding).
inline int32_t float_to_register(float f, int32_t zp, int32_t lo, int32_t hi) {
  const float flo = static_cast<float>(lo - zp), fhi = static_cast<float>(hi - zp);
  f = f >= flo ? f : flo;  // written so that a NaN (which no caller produces) clamps low: never a UB cast
  f = f <= fhi ? f : fhi;
  return static_cast<int32_t>(round_half_even(f)) + zp;
}

/// clamp(round_half_even(float(acc) * scale) + zp, lo, hi), ONNX Runtime's QLinearConv/QLinearMatMul output.
inline int32_t float_requantize(int32_t acc, float scale, int32_t zp, int32_t lo, int32_t hi) {
  return float_to_register(static_cast<float>(acc) * scale, zp, lo, hi);
}

/// ONNX Runtime's QLinearAdd: clamp(round_half_even(ra * (a - za) + rb * (b - zb)) + zc, lo, hi), where
/// ra and rb are each input's scale over the output's.
inline int32_t float_add(int32_t a, int32_t za, float ra, int32_t b, int32_t zb, float rb, int32_t zc, int32_t lo,
                         int32_t hi) {
  return float_to_register(ra * static_cast<float>(a - za) + rb * static_cast<float>(b - zb), zc, lo, hi);
}

}  // namespace ftdla::quant
