// SPDX-License-Identifier: MIT
// 3x3 stride-1 convolutions by Winograd's F(2x2, 3x3) in integers: the same int32 accumulators as the
// direct product, with 16 multiplies per 2x2 outputs and input channel instead of 36 (AVX2, where the
// direct int8 product has no byte dot-product instruction and is bound by its multiplies).
//
// Exactness. With G' = 2G (Lavin and Gray's G has halves), every transform is an integer matrix:
//   U = G' g G'^T (4x4 per output and input channel; |U| <= 9 * 128 = 1152 for int8 weights),
//   V = B^T d B   (4x4 per tile and input channel, d the input bytes xu in [0, 255]; |V| <= 4 * 255),
//   Y' = A^T (sum_c U (.) V) A = 4 * sum_{c, r, s} xu * w  exactly over the integers.
// vpmaddwd's int16 products and pair sums are exact (|2 * 1152 * 1020| < 2^31) and every later add wraps
// mod 2^32, so the lanes hold Y' mod 2^32. When |4 * sum| < 2^31, which holds for every int8 input and
// weight whenever c <= kWinogradMaxChannels (9 * c * 255 * 128 * 4 < 2^31), Y' is 4 * sum itself and an
// arithmetic shift by 2 gives the direct sum. The P-bit register is then wrap_P(init + sum), as gemm_u8s8.
#pragma once
#include <climits>
#include <cstdint>
#include <vector>

#include "ftdla/engine/kernels.hpp"

namespace ftdla::engine::kernels {

/// Largest input-channel count for which the transformed sums cannot leave int32 (see above).
constexpr int64_t kWinogradMaxChannels = 1827;

/// U = G' g G'^T of every (output, input) channel pair, as int16 [16][n][cp] (position xi = 4 * i + j of
/// the 4x4 transform), cp = c rounded up to even (the pad channel's weights are zero): vpmaddwd reads two
/// input channels' U at once.
struct WinogradWeights {
  int64_t n = 0, c = 0, cp = 0;
  std::vector<int16_t> u;
};
/// From int32 weights [n][c][3][3] whose values fit int8.
WinogradWeights winograd_weights(const int32_t* w, int64_t n, int64_t c);

/// Whether `isa` has the Winograd kernel (AVX2; the VNNI ISAs' byte dot products are faster direct).
bool winograd_available(Isa isa);
/// Whether F(2x2, 3x3) does less work than the direct GEMM for an oh x ow output of c input channels: the
/// 2x2 tiles fill the 8-lane vectors well enough (not on a 4x4 map, whose 4 tiles leave half a vector
/// empty), and c is large enough for the transforms to pay (and within kWinogradMaxChannels).
bool winograd_pays(int64_t c, int64_t oh, int64_t ow);

/// One image's 3x3, stride-1, dilation-1, ungrouped convolution:
///   acc[j][y][x] = wrap_P(init[j] + sum_{c, r, s} xu(c, y + r - pt, x + s - pl) * w[j][c][r][s]),
/// xu = input + off for taps inside the h x w input and `pad` (a byte) outside it, output oh x ow,
/// acc [n][oh][ow]: exactly what gemm_u8s8 gives on the packed input. With `rq`, also rq->out (same layout)
/// as requantize_row gives, computed in the output transform (as gemm_u8s8: rows whose shift the vector
/// arithmetic does not take are requantized afterwards). Only output rows [row0, min(row1, oh)) are computed and written (row0
/// even: whole tiles; threads of a batch of one take bands). Requires winograd_available(isa) and
/// c <= kWinogradMaxChannels.
void winograd_conv3x3(Isa isa, const int32_t* input, int64_t h, int64_t w, int32_t off, int32_t pad, int64_t pt,
                      int64_t pl, int64_t oh, int64_t ow, const WinogradWeights& u, const int32_t* init, int pbits,
                      int32_t* acc, const FusedRequant* rq, int64_t row0 = 0, int64_t row1 = INT64_MAX);

}  // namespace ftdla::engine::kernels
