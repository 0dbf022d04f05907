// SPDX-License-Identifier: MIT
#include "ftdla/engine/kernels.hpp"

#include <cpuid.h>

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/quant/float_requant.hpp"
#include "kernels_internal.hpp"

namespace ftdla::engine::kernels {

/// Sum of the eight int32 lanes of a ymm register (the AVX-VNNI and AVX2 kernels).
__attribute__((target("avx2"), always_inline)) static inline int32_t hsum256(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// ---- AVX-512 VNNI: 16 int32 lanes, vpdpbusd zmm ------------------------------------------------------
namespace avx512vnni {
#define FTDLA_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define FTDLA_INLINE FTDLA_TARGET __attribute__((always_inline)) static inline
using Vec = __m512i;
constexpr int kLanes = 16;
FTDLA_INLINE Vec zero() { return _mm512_setzero_si512(); }
FTDLA_INLINE Vec set1(int32_t v) { return _mm512_set1_epi32(v); }
FTDLA_INLINE Vec load_a(const uint8_t* p) { return _mm512_loadu_si512(p); }
FTDLA_INLINE Vec dp(Vec acc, Vec a, Vec b) { return _mm512_dpbusd_epi32(acc, a, b); }
#include "kernels_vnni.inc"
FTDLA_INLINE void store(int32_t* p, Vec v) { _mm512_storeu_si512(p, v); }
FTDLA_INLINE int32_t hsum(Vec v) { return _mm512_reduce_add_epi32(v); }
FTDLA_INLINE Vec wrap(Vec v, __m128i sh) { return _mm512_sra_epi32(_mm512_sll_epi32(v, sh), sh); }
#include "kernels_body.inc"
#undef FTDLA_INLINE
#undef FTDLA_TARGET
}  // namespace avx512vnni

// ---- AVX-VNNI: 8 int32 lanes, VEX vpdpbusd ymm -------------------------------------------------------
namespace avxvnni {
#define FTDLA_TARGET __attribute__((target("avx2,avxvnni")))
#define FTDLA_INLINE FTDLA_TARGET __attribute__((always_inline)) static inline
using Vec = __m256i;
constexpr int kLanes = 8;
FTDLA_INLINE Vec zero() { return _mm256_setzero_si256(); }
FTDLA_INLINE Vec set1(int32_t v) { return _mm256_set1_epi32(v); }
FTDLA_INLINE Vec load_a(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
FTDLA_INLINE Vec dp(Vec acc, Vec a, Vec b) { return _mm256_dpbusd_avx_epi32(acc, a, b); }
#include "kernels_vnni.inc"
FTDLA_INLINE void store(int32_t* p, Vec v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
FTDLA_INLINE int32_t hsum(Vec v) { return hsum256(v); }
FTDLA_INLINE Vec wrap(Vec v, __m128i sh) { return _mm256_sra_epi32(_mm256_sll_epi32(v, sh), sh); }
#include "kernels_body.inc"
#undef FTDLA_INLINE
#undef FTDLA_TARGET
}  // namespace avxvnni

// ---- AVX2: 8 int32 lanes, vpmaddwd on int16 (exact: |u8 * s8 + u8 * s8| < 2^17) --------------------------
// A 32-byte load of the packed input holds 8 pixels' quads; as int16 lanes, masking the low bytes gives
// (x0, x2) per pixel and shifting out the low bytes gives (x1, x3), in pixel order. vpmaddwd against the
// broadcast weight pairs (w0, w2) and (w1, w3) of PackedWeights::w16 leaves each pixel's 4-product dot
// in its own int32 lane.
namespace avx2 {
#define FTDLA_TARGET __attribute__((target("avx2")))
#define FTDLA_INLINE FTDLA_TARGET __attribute__((always_inline)) static inline
using Vec = __m256i;
constexpr int kLanes = 8;
constexpr int kNr = 4;  // 4 x 2 accumulators, 4 input halves and 2 weight pairs: 14 of the 16 ymm
using Weight = int16_t;
struct Input {
  __m256i even, odd;  // (x0, x2) and (x1, x3) of each pixel's quad, as int16
};
struct Quad {
  __m256i even, odd;  // (w0, w2) and (w1, w3), broadcast
};
FTDLA_INLINE Vec zero() { return _mm256_setzero_si256(); }
FTDLA_INLINE Vec set1(int32_t v) { return _mm256_set1_epi32(v); }
FTDLA_INLINE void store(int32_t* p, Vec v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
FTDLA_INLINE int32_t hsum(Vec v) { return hsum256(v); }
FTDLA_INLINE Vec wrap(Vec v, __m128i sh) { return _mm256_sra_epi32(_mm256_sll_epi32(v, sh), sh); }
FTDLA_INLINE Input load_input(const uint8_t* p) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return {_mm256_and_si256(v, _mm256_set1_epi16(0x00FF)), _mm256_srli_epi16(v, 8)};
}
FTDLA_INLINE Quad load_quad(const int16_t* w4) {
  int32_t e, o;
  std::memcpy(&e, w4, 4);
  std::memcpy(&o, w4 + 2, 4);
  return {_mm256_set1_epi32(e), _mm256_set1_epi32(o)};
}
FTDLA_INLINE Vec dp(Vec acc, const Input& a, const Quad& b) {
  return _mm256_add_epi32(_mm256_add_epi32(acc, _mm256_madd_epi16(a.even, b.even)), _mm256_madd_epi16(a.odd, b.odd));
}
// The dot product steps 4 quads at a time: the input bytes reordered to the weights' (0, 2, 1, 3) per quad
// and widened to int16.
constexpr int64_t kGemvStep = 16;
FTDLA_INLINE Vec dot(Vec acc, const uint8_t* x, const int16_t* w) {
  const __m128i order = _mm_setr_epi8(0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15);
  const __m256i xv = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)), order));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(xv, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
}
// The fused requantization: one row's Requant256, then requantize8 on each wrapped tile vector.
constexpr bool kFusedRequant = true;
using RowRequant = Requant256;
FTDLA_INLINE RowRequant row_requant(const FusedRequant& rq, int j) { return requant256(rq.qm[j], rq.zp, rq.lo, rq.hi); }
FTDLA_INLINE Vec requant(Vec v, const RowRequant& r) { return requantize8(v, r); }
template <int NR, int MR>
constexpr bool kHandLoop = NR == 4 && MR == 2;  // hand_loop below; other tiles: the body's intrinsics
alignas(32) inline constexpr uint16_t kLowBytes[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
/// The 4 x 16 tile's k loop (the bulk of every convolution) in assembly: GCC spills two of its eight
/// accumulators and shuffles the rest between registers; by hand the 16 ymm registers hold the 8
/// accumulators, 4 input halves, 2 weight pairs and 2 products. The same instructions as the intrinsics
/// (vpand/vpsrlw split, vpbroadcastd weight pairs, vpmaddwd, vpaddd), so the same sums (kernels_test).
FTDLA_TARGET static void hand_loop(Vec (&acc)[4][2], const uint8_t* ap, int64_t step, int64_t kq, const int16_t* w,
                                   int64_t ldw) {
  if (kq <= 0) return;
  const int64_t ldw_bytes = ldw * 2;
  const int16_t* w3 = w + 3 * ldw;
  __asm__ volatile(
      "1:\n\t"
      "vmovdqu (%[ap]), %%ymm9\n\t"
      "vmovdqu 32(%[ap]), %%ymm11\n\t"
      "vpand (%[mask]), %%ymm9, %%ymm8\n\t"
      "vpsrlw $8, %%ymm9, %%ymm9\n\t"
      "vpand (%[mask]), %%ymm11, %%ymm10\n\t"
      "vpsrlw $8, %%ymm11, %%ymm11\n\t"
      "add %[step], %[ap]\n\t"
// One weight row: its (w0, w2) and (w1, w3) pairs broadcast, times both pixel vectors' halves.
#define FTDLA_ROW(ADDR0, ADDR1, A0, A1)      \
"vpbroadcastd " ADDR0 ", %%ymm12\n\t"       \
"vpbroadcastd " ADDR1 ", %%ymm13\n\t"       \
"vpmaddwd %%ymm12, %%ymm8, %%ymm14\n\t"     \
"vpmaddwd %%ymm13, %%ymm9, %%ymm15\n\t"     \
"vpaddd %%ymm14, %[" A0 "], %[" A0 "]\n\t"  \
"vpaddd %%ymm15, %[" A0 "], %[" A0 "]\n\t"  \
"vpmaddwd %%ymm12, %%ymm10, %%ymm14\n\t"    \
"vpmaddwd %%ymm13, %%ymm11, %%ymm15\n\t"    \
"vpaddd %%ymm14, %[" A1 "], %[" A1 "]\n\t"  \
"vpaddd %%ymm15, %[" A1 "], %[" A1 "]\n\t"
      FTDLA_ROW("(%[w])", "4(%[w])", "a00", "a01")
      FTDLA_ROW("(%[w],%[ld])", "4(%[w],%[ld])", "a10", "a11")
      FTDLA_ROW("(%[w],%[ld],2)", "4(%[w],%[ld],2)", "a20", "a21")
      FTDLA_ROW("(%[w3])", "4(%[w3])", "a30", "a31")
#undef FTDLA_ROW
      "add $8, %[w]\n\t"
      "add $8, %[w3]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      : [a00] "+x"(acc[0][0]), [a01] "+x"(acc[0][1]), [a10] "+x"(acc[1][0]), [a11] "+x"(acc[1][1]),
        [a20] "+x"(acc[2][0]), [a21] "+x"(acc[2][1]), [a30] "+x"(acc[3][0]), [a31] "+x"(acc[3][1]),
        [ap] "+r"(ap), [w] "+r"(w), [w3] "+r"(w3), [n] "+r"(kq)
      : [step] "r"(step), [ld] "r"(ldw_bytes), [mask] "r"(kLowBytes)
      : "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory");
}
#include "kernels_body.inc"
#undef FTDLA_INLINE
#undef FTDLA_TARGET
}  // namespace avx2

// ---- Scalar: the same packed layouts, one product at a time (modular uint32 arithmetic) -----------------
namespace scalar {
void gemm(const uint8_t* a, int64_t ml, int64_t kq, const int8_t* w, int64_t ldw, int64_t n, const int32_t* init,
          int32_t* c, int64_t ldc, int pbits) {
  const int64_t mp = round_up(ml, kMAlign);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t m = 0; m < ml; ++m) {
      uint32_t s = static_cast<uint32_t>(init[j]);
      for (int64_t k = 0; k < 4 * kq; ++k)
        s += static_cast<uint32_t>(a[((k / 4) * mp + m) * 4 + k % 4]) * static_cast<uint32_t>(w[j * ldw + k]);
      c[j * ldc + m] = static_cast<int32_t>(wrap_signed(s, pbits));
    }
}
void gemv(const uint8_t* x, int64_t kp, const int8_t* w, int64_t ldw, int64_t n, const int32_t* init, int pbits,
          int32_t* out) {
  for (int64_t j = 0; j < n; ++j) {
    uint32_t s = static_cast<uint32_t>(init[j]);
    for (int64_t k = 0; k < kp; ++k) s += static_cast<uint32_t>(x[k]) * static_cast<uint32_t>(w[j * ldw + k]);
    out[j] = static_cast<int32_t>(wrap_signed(s, pbits));
  }
}
}  // namespace scalar

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::AvxVnni: return "avxvnni";
    case Isa::Avx512Vnni: return "avx512vnni";
  }
  return "?";
}

namespace {
/// AVX-VNNI (CPUID.(EAX=7,ECX=1):EAX[4]); clang 14's __builtin_cpu_supports does not know "avxvnni".
bool cpu_has_avxvnni() {
#if defined(__clang__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 4) & 1u);
#else
  return __builtin_cpu_supports("avxvnni");
#endif
}
}  // namespace

Isa best_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return Isa::Avx512Vnni;
  if (cpu_has_avxvnni() && __builtin_cpu_supports("avx2")) return Isa::AvxVnni;
  if (__builtin_cpu_supports("avx2")) return Isa::Avx2;
  return Isa::Scalar;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> r{Isa::Scalar};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) r.push_back(Isa::Avx2);
  if (cpu_has_avxvnni() && __builtin_cpu_supports("avx2")) r.push_back(Isa::AvxVnni);
  if (best_isa() == Isa::Avx512Vnni) r.push_back(Isa::Avx512Vnni);
  return r;
}

namespace {
Isa initial_isa() {
  const Isa best = best_isa();
  const char* env = std::getenv("FTDLA_ISA");
  if (!env || !*env) return best;
  for (Isa i : supported_isas())
    if (std::string(env) == isa_name(i)) return i;
  return best;  // unknown or unsupported request: the best this CPU has
}
std::atomic<Isa>& isa_slot() {
  static std::atomic<Isa> slot{initial_isa()};
  return slot;
}
}  // namespace

Isa active_isa() { return isa_slot().load(std::memory_order_relaxed); }

void set_isa(Isa isa) {
  for (Isa i : supported_isas())
    if (i == isa) {
      isa_slot().store(isa);
      return;
    }
  throw ConfigError(std::string("ISA ") + isa_name(isa) + " is not supported by this CPU");
}

PackedWeights pack_weights(const int32_t* w, int64_t rows, int64_t k) {
  PackedWeights p;
  p.rows = rows;
  p.k = k;
  p.ld = round_up(std::max<int64_t>(k, 1), 64);
  p.w.assign(static_cast<size_t>(rows * p.ld), 0);
  p.row_sum.assign(static_cast<size_t>(rows), 0);
  for (int64_t r = 0; r < rows; ++r) {
    int32_t s = 0;
    for (int64_t i = 0; i < k; ++i) {
      const int32_t v = w[r * k + i];
      if (v < -128 || v > 127) throw InternalError("pack_weights: weight does not fit int8");
      p.w[r * p.ld + i] = static_cast<int8_t>(v);
      s += v;
    }
    p.row_sum[r] = s;
  }
  p.w16.assign(static_cast<size_t>(rows * p.ld), 0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = 0; q < p.ld / 4; ++q)
      for (int b = 0; b < 4; ++b)  // quad q as (w0, w2, w1, w3)
        p.w16[r * p.ld + 4 * q + (b & 1) * 2 + b / 2] = p.w[r * p.ld + 4 * q + b];
  return p;
}

namespace {
/// Pixels [x, x + 16) of four rows interleaved to dst + 4x (SSE2 byte and word unpacks).
inline void interleave16(const uint8_t* const rows[4], int64_t x, uint8_t* dst) {
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[0] + x));
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[1] + x));
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[2] + x));
  const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3] + x));
  const __m128i ab_lo = _mm_unpacklo_epi8(a, b), ab_hi = _mm_unpackhi_epi8(a, b);
  const __m128i cd_lo = _mm_unpacklo_epi8(c, d), cd_hi = _mm_unpackhi_epi8(c, d);
  __m128i* out = reinterpret_cast<__m128i*>(dst + 4 * x);
  _mm_storeu_si128(out, _mm_unpacklo_epi16(ab_lo, cd_lo));
  _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(ab_lo, cd_lo));
  _mm_storeu_si128(out + 2, _mm_unpacklo_epi16(ab_hi, cd_hi));
  _mm_storeu_si128(out + 3, _mm_unpackhi_epi16(ab_hi, cd_hi));
}
}  // namespace

void interleave_rows4(const uint8_t* const rows[4], int64_t n, uint8_t* dst) {
  int64_t x = 0;
  for (; x + 16 <= n; x += 16) interleave16(rows, x, dst);
  if (x + 8 <= n) {
    const __m128i a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[0] + x));
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[1] + x));
    const __m128i c = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[2] + x));
    const __m128i d = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(rows[3] + x));
    const __m128i ab = _mm_unpacklo_epi8(a, b), cd = _mm_unpacklo_epi8(c, d);
    __m128i* out = reinterpret_cast<__m128i*>(dst + 4 * x);
    _mm_storeu_si128(out, _mm_unpacklo_epi16(ab, cd));
    _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(ab, cd));
    x += 8;
  }
  if (x + 4 <= n) {
    __m128i v[4];
    for (int j = 0; j < 4; ++j) {
      int32_t word;
      std::memcpy(&word, rows[j] + x, 4);
      v[j] = _mm_cvtsi32_si128(word);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 4 * x),
                     _mm_unpacklo_epi16(_mm_unpacklo_epi8(v[0], v[1]), _mm_unpacklo_epi8(v[2], v[3])));
    x += 4;
  }
  for (; x < n; ++x)
    for (int j = 0; j < 4; ++j) dst[4 * x + j] = rows[j][x];
}

void interleave_rows4_2d(const uint8_t* const rows[4], const int64_t strides[4], int64_t nrows, int64_t n,
                         uint8_t* packed, int64_t room) {
  const int64_t n16 = round_up(n, 16);
  for (int64_t y = 0; y < nrows; ++y) {
    const uint8_t* const r[4] = {rows[0] + y * strides[0], rows[1] + y * strides[1], rows[2] + y * strides[2],
                                 rows[3] + y * strides[3]};
    uint8_t* const dst = packed + 4 * y * n;
    if (y * n + n16 <= room) {
      for (int64_t x = 0; x < n; x += 16) interleave16(r, x, dst);  // whole steps: no 8/4/1-pixel tails
    } else {
      interleave_rows4(r, n, dst);
    }
  }
}

void gemm_u8s8(Isa isa, const uint8_t* a, int64_t ml, int64_t kq, const PackedWeights& pw, int64_t row0, int64_t n,
               const int32_t* init, int pbits, int32_t* c, int64_t ldc, const FusedRequant* rq) {
  const int8_t* w = pw.w.data() + row0 * pw.ld;
  const int64_t ldw = pw.ld;
  const __m128i sh = _mm_cvtsi32_si128(32 - pbits);
  const bool fuse = fuse_requant(isa, rq, n);
  switch (isa) {
    case Isa::Avx512Vnni: avx512vnni::gemm(a, ml, kq, w, ldw, n, init, c, ldc, sh, nullptr); break;
    case Isa::AvxVnni: avxvnni::gemm(a, ml, kq, w, ldw, n, init, c, ldc, sh, nullptr); break;
    case Isa::Avx2: avx2::gemm(a, ml, kq, pw.w16.data() + row0 * ldw, ldw, n, init, c, ldc, sh, fuse ? rq : nullptr); break;
    case Isa::Scalar: scalar::gemm(a, ml, kq, w, ldw, n, init, c, ldc, pbits); break;
  }
  if (rq && !fuse) requantize_rows(isa, *rq, c, n, ldc, 0, ml);
}

void gemv_u8s8(Isa isa, const uint8_t* x, const PackedWeights& pw, int64_t n, const int32_t* init, int pbits,
               int32_t* out) {
  const int8_t* w = pw.w.data();
  const int64_t kp = pw.ld, ldw = pw.ld;
  switch (isa) {
    case Isa::Avx512Vnni: return avx512vnni::gemv(x, kp, w, ldw, n, init, pbits, out);
    case Isa::AvxVnni: return avxvnni::gemv(x, kp, w, ldw, n, init, pbits, out);
    case Isa::Avx2: return avx2::gemv(x, kp, pw.w16.data(), ldw, n, init, pbits, out);
    case Isa::Scalar: return scalar::gemv(x, kp, w, ldw, n, init, pbits, out);
  }
}

namespace {

__attribute__((target("avx2"))) void requantize_row_avx2(const int32_t* acc, int64_t n, quant::QuantizedMultiplier qm,
                                                         int32_t zp, int32_t lo, int32_t hi, int32_t* out) {
  const Requant256 q = requant256(qm, zp, lo, hi);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        requantize8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i)), q));
  if (i < n) {  // the last n % 8 lanes under a mask (rows are short: 49 or 7 pixels)
    const __m256i live = tail_mask(n - i);
    _mm256_maskstore_epi32(out + i, live, requantize8(_mm256_maskload_epi32(acc + i, live), q));
  }
}

// requantize_row_avx2 with a multiplier and a shift per lane.
__attribute__((target("avx2"))) void requantize_lanes_avx2(const int32_t* acc, int64_t n, const int32_t* mult,
                                                           const int32_t* shift, int32_t zp, int32_t lo, int32_t hi,
                                                           int32_t* out) {
  Requant256 q;
  set_clamp(q, zp, lo, hi);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        requantize_per_lane(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i)),
                                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mult + i)),
                                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shift + i)), q));
  if (i < n) {  // the last n % 8 lanes under a mask (masked-off lanes load 0: multiplier and shift 0)
    const __m256i live = tail_mask(n - i);
    _mm256_maskstore_epi32(out + i, live,
                           requantize_per_lane(_mm256_maskload_epi32(acc + i, live), _mm256_maskload_epi32(mult + i, live),
                                               _mm256_maskload_epi32(shift + i, live), q));
  }
}
// The same arithmetic on 16 lanes with AVX-512 mask registers.
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline __m512i high_mul_512(__m512i p) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i nudge_pos = _mm512_set1_epi64(int64_t{1} << 30), nudge_neg = _mm512_set1_epi64(1 - (int64_t{1} << 30));
  const __m512i t = _mm512_add_epi64(p, _mm512_mask_blend_epi64(_mm512_cmplt_epi64_mask(p, zero), nudge_pos, nudge_neg));
  const __m512i tf = _mm512_mask_add_epi64(t, _mm512_cmplt_epi64_mask(t, zero), t, _mm512_set1_epi64((int64_t{1} << 31) - 1));
  return _mm512_srli_epi64(tf, 31);
}
/// One requantization's constants on 16 lanes: multipliers (the odd lanes' in the low halves of the 64-bit
/// lanes of m_odd), left and right shifts, the right shift's remainder mask and half, the saturation bounds
/// of the left shift, the clamp (less the zero point) and the zero point.
struct Requant512 {
  __m512i m_even, m_odd, left, right, mask, half, sat_hi, sat_lo, lo, hi, zp;
};
/// requantize_clamped on 16 lanes: saturating left shift (when `shift_left`), doubling high multiply,
/// RoundingDivideByPOT, clamp, zero point.
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) static inline __m512i requantize16(
    __m512i x, const Requant512& q, bool shift_left) {
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  if (shift_left) {
    const __mmask16 over = _mm512_cmpgt_epi32_mask(x, q.sat_hi), under = _mm512_cmplt_epi32_mask(x, q.sat_lo);
    x = _mm512_sllv_epi32(x, q.left);
    x = _mm512_mask_blend_epi32(over, x, _mm512_set1_epi32(INT32_MAX));
    x = _mm512_mask_blend_epi32(under, x, _mm512_set1_epi32(INT32_MIN));
  }
  const __m512i q_even = high_mul_512(_mm512_mul_epi32(x, q.m_even));
  const __m512i q_odd = high_mul_512(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), q.m_odd));
  __m512i r = _mm512_mask_blend_epi32(0xAAAA, q_even, _mm512_slli_epi64(q_odd, 32));
  const __m512i rem = _mm512_and_si512(r, q.mask);
  const __m512i thr = _mm512_mask_add_epi32(q.half, _mm512_cmplt_epi32_mask(r, zero), q.half, one);
  r = _mm512_srav_epi32(r, q.right);
  r = _mm512_mask_add_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, one);
  r = _mm512_min_epi32(_mm512_max_epi32(r, q.lo), q.hi);
  return _mm512_add_epi32(r, q.zp);
}
__attribute__((target("avx512f,avx512bw,avx512vl"))) void requantize_row_avx512(const int32_t* acc, int64_t n,
                                                                               quant::QuantizedMultiplier qm, int32_t zp,
                                                                               int32_t lo, int32_t hi, int32_t* out) {
  const int left = qm.shift > 0 ? qm.shift : 0, right = qm.shift > 0 ? 0 : -qm.shift;
  const int32_t mask = static_cast<int32_t>((int64_t{1} << right) - 1);
  const __m512i mult = _mm512_set1_epi32(qm.multiplier);
  const Requant512 q{mult,
                     mult,
                     _mm512_set1_epi32(left),
                     _mm512_set1_epi32(right),
                     _mm512_set1_epi32(mask),
                     _mm512_set1_epi32(mask >> 1),
                     _mm512_set1_epi32(INT32_MAX >> left),
                     _mm512_set1_epi32(INT32_MIN >> left),
                     _mm512_set1_epi32(lo - zp),
                     _mm512_set1_epi32(hi - zp),
                     _mm512_set1_epi32(zp)};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_si512(out + i, requantize16(_mm512_loadu_si512(acc + i), q, left > 0));
  if (i < n) requantize_row_avx2(acc + i, n - i, qm, zp, lo, hi, out + i);
}

// requantize_row_avx512 with a multiplier and a shift per lane.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void requantize_lanes_avx512(const int32_t* acc, int64_t n,
                                                                                 const int32_t* mult, const int32_t* shift,
                                                                                 int32_t zp, int32_t lo, int32_t hi,
                                                                                 int32_t* out) {
  const __m512i vmax = _mm512_set1_epi32(INT32_MAX), vmin = _mm512_set1_epi32(INT32_MIN);
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  Requant512 q{};
  q.lo = _mm512_set1_epi32(lo - zp);
  q.hi = _mm512_set1_epi32(hi - zp);
  q.zp = _mm512_set1_epi32(zp);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i m = _mm512_loadu_si512(mult + i), sh = _mm512_loadu_si512(shift + i);
    q.m_even = m;
    q.m_odd = _mm512_srli_epi64(m, 32);
    q.left = _mm512_max_epi32(sh, zero);
    q.right = _mm512_max_epi32(_mm512_sub_epi32(zero, sh), zero);
    // x beyond INT32_MAX >> left (or below INT32_MIN >> left) saturates; mask = 2^right - 1 (right = 31
    // wraps to INT32_MAX, as in the scalar code).
    q.sat_hi = _mm512_srav_epi32(vmax, q.left);
    q.sat_lo = _mm512_srav_epi32(vmin, q.left);
    q.mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, q.right), one);
    q.half = _mm512_srai_epi32(q.mask, 1);
    _mm512_storeu_si512(out + i, requantize16(_mm512_loadu_si512(acc + i), q, true));
  }
  if (i < n) requantize_lanes_avx2(acc + i, n - i, mult + i, shift + i, zp, lo, hi, out + i);
}

}  // namespace

void requantize_lanes(Isa isa, const int32_t* acc, int64_t n, const int32_t* mult, const int32_t* shift, int32_t zp,
                      int32_t lo, int32_t hi, int32_t* out) {
  if (isa == Isa::Avx512Vnni && n >= 16) return requantize_lanes_avx512(acc, n, mult, shift, zp, lo, hi, out);
  if (isa != Isa::Scalar) return requantize_lanes_avx2(acc, n, mult, shift, zp, lo, hi, out);
  for (int64_t i = 0; i < n; ++i) out[i] = quant::requantize_clamped(acc[i], {mult[i], shift[i]}, zp, lo, hi);
}

void requantize_row(Isa isa, const int32_t* acc, int64_t n, quant::QuantizedMultiplier qm, int32_t zp, int32_t lo,
                    int32_t hi, int32_t* out) {
  // The vector paths assume a shift quantize() can produce; anything else takes the (defined) scalar path.
  const bool usual_shift = quant::shift_in_quantize_range(qm);
  if (usual_shift && isa == Isa::Avx512Vnni && n >= 16) return requantize_row_avx512(acc, n, qm, zp, lo, hi, out);
  if (usual_shift && isa != Isa::Scalar) return requantize_row_avx2(acc, n, qm, zp, lo, hi, out);
  for (int64_t i = 0; i < n; ++i) out[i] = quant::requantize_clamped(acc[i], qm, zp, lo, hi);
}

namespace {
__attribute__((target("avx2"))) void add_requantize_avx2(const int32_t* a, const int32_t* b, int64_t n, int32_t z1,
                                                         int32_t z2, int left_shift, quant::QuantizedMultiplier in1,
                                                         quant::QuantizedMultiplier in2, quant::QuantizedMultiplier out_qm,
                                                         int32_t zp, int32_t lo, int32_t hi, int32_t* out) {
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min(), kMax = std::numeric_limits<int32_t>::max();
  const Requant256 q1 = requant256(in1, 0, kMin, kMax), q2 = requant256(in2, 0, kMin, kMax);
  const Requant256 qo = requant256(out_qm, zp, lo, hi);
  const __m256i vz1 = _mm256_set1_epi32(z1), vz2 = _mm256_set1_epi32(z2);
  const __m128i up = _mm_cvtsi32_si128(left_shift);
  // (A lambda would not inherit the avx2 target.)
#define FTDLA_ADD8(va, vb)                                                                                      \
  requantize8(_mm256_add_epi32(requantize8(_mm256_sll_epi32(_mm256_sub_epi32(va, vz1), up), q1), \
                               requantize8(_mm256_sll_epi32(_mm256_sub_epi32(vb, vz2), up), q2)), \
              qo)
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        FTDLA_ADD8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)),
                                   _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i))));
  if (i < n) {  // the last n % 8 lanes under a mask (only there: a masked store is slow on AMD), in place too
    const __m256i live = tail_mask(n - i);
    _mm256_maskstore_epi32(out + i, live, FTDLA_ADD8(_mm256_maskload_epi32(a + i, live), _mm256_maskload_epi32(b + i, live)));
  }
#undef FTDLA_ADD8
}
}  // namespace

void add_requantize(Isa isa, const int32_t* a, const int32_t* b, int64_t n, int32_t z1, int32_t z2, int left_shift,
                    quant::QuantizedMultiplier in1, quant::QuantizedMultiplier in2, quant::QuantizedMultiplier out_qm,
                    int32_t zp, int32_t lo, int32_t hi, int32_t* out) {
  using quant::shift_in_quantize_range;
  if (isa != Isa::Scalar && shift_in_quantize_range(in1) && shift_in_quantize_range(in2) &&
      shift_in_quantize_range(out_qm) && left_shift >= 0 && left_shift < 32)
    return add_requantize_avx2(a, b, n, z1, z2, left_shift, in1, in2, out_qm, zp, lo, hi, out);
  for (int64_t i = 0; i < n; ++i) out[i] = quant::add_requantized(a[i], z1, b[i], z2, left_shift, in1, in2, out_qm, zp, lo, hi);
}

void requantize_row_float(const int32_t* acc, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, int32_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = quant::float_requantize(acc[i], scale, zp, lo, hi);
}

}  // namespace ftdla::engine::kernels
