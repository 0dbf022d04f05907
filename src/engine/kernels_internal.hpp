// SPDX-License-Identifier: MIT
// What the GEMM kernels (kernels.cpp) and the Winograd convolution (winograd.cpp) share: the AVX2
// requantization arithmetic of their fused stores and the row kernels, the choice between a fused and a
// separate requantization, and the dispatch of a block loop's remainder. Private to the engine's sources.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "ftdla/engine/kernels.hpp"
#include "ftdla/quant/fixed_point.hpp"

namespace ftdla::engine::kernels {

/// Whether an AVX2 kernel requantizes rq's n rows in its store: every shift one that requantize8 takes.
/// Otherwise (other ISAs, other shifts) the kernel leaves it to requantize_rows.
inline bool fuse_requant(Isa isa, const FusedRequant* rq, int64_t n) {
  if (!rq || isa != Isa::Avx2) return false;
  for (int64_t j = 0; j < n; ++j)
    if (!quant::shift_in_quantize_range(rq->qm[j])) return false;
  return true;
}
/// rq's requantization of n rows after the kernel: row j's `len` accumulators from c[j * ldc + first] into
/// rq.out at the same place, as requantize_row gives.
inline void requantize_rows(Isa isa, const FusedRequant& rq, const int32_t* c, int64_t n, int64_t ldc, int64_t first,
                            int64_t len) {
  for (int64_t j = 0; j < n; ++j)
    requantize_row(isa, c + j * ldc + first, len, rq.qm[j], rq.zp, rq.lo, rq.hi, rq.out + j * ldc + first);
}

/// f.template operator()<R>() for R = rest in [1, 5]: the last rows of a loop over blocks of up to 6 rows
/// whose kernels are templates on the row count (nothing for 0).
template <class F>
void with_rest(int64_t rest, F&& f) {
  switch (rest) {
    case 5: f.template operator()<5>(); break;
    case 4: f.template operator()<4>(); break;
    case 3: f.template operator()<3>(); break;
    case 2: f.template operator()<2>(); break;
    case 1: f.template operator()<1>(); break;
    default: break;
  }
}

namespace {
#define FTDLA_AVX2 __attribute__((target("avx2"), always_inline)) static inline
/// One requantization's constants on 8 lanes (Requant512 in kernels.cpp is the AVX-512 form): multipliers
/// (the odd lanes' in the low halves of the 64-bit lanes of m_odd), left and right shifts, the right
/// shift's remainder mask and half, the saturation bounds of the left shift, the clamp (less the zero
/// point) and the zero point; shift_left: whether any lane shifts left (else that step is skipped).
struct Requant256 {
  __m256i m_even, m_odd, left, right, mask, half, sat_hi, sat_lo, lo, hi, zp;
  bool shift_left;
};
/// SRDHM on the 64-bit products of one parity. gemmlowp's (p + nudge) / 2^31 truncated toward zero, with
/// nudge = 2^30 for p >= 0 and 1 - 2^30 for p < 0, equals floor((p + 2^30) / 2^31) for every p (for p < 0,
/// truncation is floor((p + nudge + 2^31 - 1) / 2^31) and nudge + 2^31 - 1 = 2^30); bits 31..62 (all the
/// int32 result has) are the same for a logical and an arithmetic shift.
FTDLA_AVX2 __m256i high_mul_256(__m256i p) {
  return _mm256_srli_epi64(_mm256_add_epi64(p, _mm256_set1_epi64x(int64_t{1} << 30)), 31);
}
/// requantize_clamped on 8 lanes: saturating left shift (when q.shift_left), doubling high multiply,
/// RoundingDivideByPOT, clamp (to [lo - zp, hi - zp], then + zp: no int32 overflow), zero point.
FTDLA_AVX2 __m256i requantize8(__m256i x, const Requant256& q) {
  const __m256i zero = _mm256_setzero_si256();
  if (q.shift_left) {
    const __m256i over = _mm256_cmpgt_epi32(x, q.sat_hi), under = _mm256_cmpgt_epi32(q.sat_lo, x);
    x = _mm256_sllv_epi32(x, q.left);
    x = _mm256_blendv_epi8(x, _mm256_set1_epi32(INT32_MAX), over);
    x = _mm256_blendv_epi8(x, _mm256_set1_epi32(INT32_MIN), under);
  }
  const __m256i q_even = high_mul_256(_mm256_mul_epi32(x, q.m_even));
  const __m256i q_odd = high_mul_256(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), q.m_odd));
  __m256i r = _mm256_blend_epi32(q_even, _mm256_slli_epi64(q_odd, 32), 0xAA);
  // RoundingDivideByPOT: (r >> e) + (remainder > (mask >> 1) + (r < 0)).
  const __m256i rem = _mm256_and_si256(r, q.mask);
  const __m256i thr = _mm256_sub_epi32(q.half, _mm256_cmpgt_epi32(zero, r));
  r = _mm256_sub_epi32(_mm256_srav_epi32(r, q.right), _mm256_cmpgt_epi32(rem, thr));
  r = _mm256_min_epi32(_mm256_max_epi32(r, q.lo), q.hi);
  return _mm256_add_epi32(r, q.zp);
}
/// Shifts, mask and saturation bounds of Requant256 from per-lane shifts in [-31, 31] (a right shift of 31
/// gives mask 2^31 - 1 through wrapping, as in the scalar code).
FTDLA_AVX2 void set_shifts(Requant256& q, __m256i sh) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  q.left = _mm256_max_epi32(sh, zero);
  q.right = _mm256_max_epi32(_mm256_sub_epi32(zero, sh), zero);
  q.sat_hi = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MAX), q.left);
  q.sat_lo = _mm256_srav_epi32(_mm256_set1_epi32(INT32_MIN), q.left);
  q.mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, q.right), one);
  q.half = _mm256_srai_epi32(q.mask, 1);
}
FTDLA_AVX2 void set_clamp(Requant256& q, int32_t zp, int32_t lo, int32_t hi) {
  q.lo = _mm256_set1_epi32(lo - zp);
  q.hi = _mm256_set1_epi32(hi - zp);
  q.zp = _mm256_set1_epi32(zp);
}
/// Requant256 of one multiplier (a shift in quantize()'s range) on every lane, clamped to [lo, hi] around zp.
FTDLA_AVX2 Requant256 requant256(quant::QuantizedMultiplier qm, int32_t zp, int32_t lo, int32_t hi) {
  Requant256 q;
  q.m_even = q.m_odd = _mm256_set1_epi32(qm.multiplier);
  set_shifts(q, _mm256_set1_epi32(qm.shift));
  q.shift_left = qm.shift > 0;
  set_clamp(q, zp, lo, hi);
  return q;
}
/// requantize8 with a multiplier and a shift per lane (q's clamp).
FTDLA_AVX2 __m256i requantize_per_lane(__m256i x, __m256i mult, __m256i shift, Requant256& q) {
  q.m_even = mult;
  q.m_odd = _mm256_srli_epi64(mult, 32);
  set_shifts(q, shift);
  q.shift_left = true;
  return requantize8(x, q);
}
/// All-ones in the first min(live, 8) int32 lanes (the mask of vpmaskmovd).
FTDLA_AVX2 __m256i tail_mask(int64_t live) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(std::min<int64_t>(live, 8))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#undef FTDLA_AVX2
}  // namespace

}  // namespace ftdla::engine::kernels
