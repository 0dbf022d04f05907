// SPDX-License-Identifier: MIT
// Fast int8 kernels of the integer engine, on the CPU's integer dot-product instructions, chosen at run
// time: AVX-512 VNNI (vpdpbusd zmm), AVX-VNNI (vpdpbusd ymm), AVX2 (vpmaddwd on int16, exact), or scalar.
// AVX2 has no byte dot product that is exact for u8 x s8 (vpmaddubsw saturates its int16 pairs), so it
// splits each packed u8 quad into its even and odd bytes as int16 (a mask and a shift, no shuffles) and
// multiplies them with weights stored pre-widened to int16 in the matching order (PackedWeights::w16).
//
// Exactness. An operand pair is an unsigned byte xu = x + off (off = 128 for a signed A-bit register,
// 0 for an unsigned one) and a signed weight byte w, both exact for A, W <= 8. Every instruction used
// sums at most four u8*s8 products (|sum| < 2^17) into 32-bit lanes with wrapping adds, so each lane
// holds the exact sum mod 2^32. Then
//   sum (x - zp) * w  =  sum xu * w  -  (zp + off) * sum w        (mod 2^32),
// and since the accumulator has P <= 32 bits, wrapping the exact sum mod 2^P once at the end equals
// wrapping after every MAC. The saturating vpmaddubsw / vpdpbusds are never used.
#pragma once
#include <cstdint>
#include <vector>

#include "ftdla/quant/fixed_point.hpp"

namespace ftdla::engine::kernels {

enum class Isa { Scalar, Avx2, AvxVnni, Avx512Vnni };

const char* isa_name(Isa isa);
/// The best ISA this CPU supports.
Isa best_isa();
/// The ISA the engine uses: best_isa(), unless overridden by set_isa() or the FTDLA_ISA environment
/// variable (scalar|avx2|avxvnni|avx512vnni; for tests and benchmarks). Requests above best_isa() fall back.
Isa active_isa();
void set_isa(Isa isa);
/// Every ISA this CPU can run (Scalar first).
std::vector<Isa> supported_isas();

/// Weights of one compute layer, [rows][ld] signed bytes, each row zero-padded to ld (a multiple of 64).
struct PackedWeights {
  int64_t rows = 0, k = 0, ld = 0;
  std::vector<int8_t> w;
  /// The same weights as int16 for the AVX2 kernels, ld per row, each k-quad in the order (w0, w2, w1, w3):
  /// the pairs that vpmaddwd meets against a quad's even and odd input bytes.
  std::vector<int16_t> w16;
  std::vector<int32_t> row_sum;  ///< sum over k of each row (for the zero-point correction)
};
/// Pack int32 weights [rows][k] whose values fit int8.
PackedWeights pack_weights(const int32_t* w, int64_t rows, int64_t k);

/// Rows of the packed activation layout handled per kernel call are padded to this many columns.
constexpr int64_t kMAlign = 16;
inline int64_t round_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

/// One k-quad of the packed layout [kq][mp][4] that gemm_u8s8 reads, for n consecutive pixels:
/// packed[4x + j] = rows[j][x] for x < n, j < 4 (SSE2 unpacks 16, 8 and 4 pixels at a time; reads and
/// writes exactly n pixels).
void interleave_rows4(const uint8_t* const rows[4], int64_t n, uint8_t* packed);
/// interleave_rows4 for `nrows` rows of output pixels: row y of tap j is read from rows[j] + y * strides[j]
/// (stride 0 repeats a row, such as a row of zeros) and lands at packed + 4 * y * n. A row may be written
/// in whole 16-pixel steps, past its n pixels, where that stays within `room` pixels of `packed` (the rows
/// after it, written later, overwrite the excess); such a row is read up to round_up(n, 16) bytes from
/// its start, so the caller's sources need that much slack.
void interleave_rows4_2d(const uint8_t* const rows[4], const int64_t strides[4], int64_t nrows, int64_t n,
                         uint8_t* packed, int64_t room);

/// C[j][m] = wrap_P(init[j] + sum_{k < 4*kq} W[row0 + j][k] * A(k, m)), for j < n, m < ml, where wrap_P
/// keeps the low `pbits` bits of the exact sum (mod 2^32) sign-extended: the P-bit accumulator register.
/// A is packed [kq][mp][4] unsigned bytes (4 consecutive k of one column m together), mp = round_up(ml,
/// kMAlign) (the padding columns are computed, not stored); 4*kq <= w.ld (rows are zero-padded past K).
/// With `rq`, also out[j * ldc + m] = clamp(multiply_by_quantized_multiplier(C[j][m], qm[j]) + zp, lo, hi) as
/// requantize_row would give, computed in the tile's store on AVX2 (the accumulators still in registers).
struct FusedRequant {
  const quant::QuantizedMultiplier* qm;  // one per row j
  int32_t zp, lo, hi;
  int32_t* out;
};
void gemm_u8s8(Isa isa, const uint8_t* a, int64_t ml, int64_t kq, const PackedWeights& w, int64_t row0, int64_t n,
               const int32_t* init, int pbits, int32_t* c, int64_t ldc, const FusedRequant* rq = nullptr);

/// out[j] = wrap_P(init[j] + sum_{k < w.ld} W[j][k] * x[k]), j < n (wrap_P as in gemm_u8s8); x has w.ld
/// bytes, zero-padded.
void gemv_u8s8(Isa isa, const uint8_t* x, const PackedWeights& w, int64_t n, const int32_t* init, int pbits,
               int32_t* out);

/// out[i] = clamp(multiply_by_quantized_multiplier(acc[i], qm) + zp, lo, hi) for i < n: the engine's
/// requantization of one output channel, bit-identical to quant::multiply_by_quantized_multiplier.
void requantize_row(Isa isa, const int32_t* acc, int64_t n, quant::QuantizedMultiplier qm, int32_t zp, int32_t lo,
                    int32_t hi, int32_t* out);
/// out[i] = clamp(multiply_by_quantized_multiplier(acc[i], {mult[i], shift[i]}) + zp, lo, hi) for i < n: one
/// multiplier per element (outputs of several channels at once: the fault injector's changed outputs, and
/// fully connected layers, whose channels hold one output each). Shifts must lie in [-31, 31] (all that
/// quantize() produces); bit-identical to the scalar arithmetic.
void requantize_lanes(Isa isa, const int32_t* acc, int64_t n, const int32_t* mult, const int32_t* shift, int32_t zp,
                      int32_t lo, int32_t hi, int32_t* out);
/// The TFLite int8 Add of two quantized tensors, fused: for i < n,
///   s_t = multiply_by_quantized_multiplier((x_t[i] - z_t) * 2^left_shift, in_t), t = 1, 2 (int32),
///   out[i] = clamp(multiply_by_quantized_multiplier(s_1 + s_2, out_qm) + zp, lo, hi),
/// in one pass (the engine's Add; int32 arithmetic wraps as the scalar steps would, for in-range inputs
/// never). out may be a or b.
void add_requantize(Isa isa, const int32_t* a, const int32_t* b, int64_t n, int32_t z1, int32_t z2, int left_shift,
                    quant::QuantizedMultiplier in1, quant::QuantizedMultiplier in2, quant::QuantizedMultiplier out_qm,
                    int32_t zp, int32_t lo, int32_t hi, int32_t* out);
/// out[i] = quant::float_requantize(acc[i], scale, zp, lo, hi) for i < n (ONNX Runtime's requantization);
/// a plain loop the compiler vectorizes with the same IEEE float32 steps.
void requantize_row_float(const int32_t* acc, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, int32_t* out);

}  // namespace ftdla::engine::kernels
