// SPDX-License-Identifier: MIT
#include "ftdla/engine/winograd.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels_internal.hpp"
#include "ftdla/core/error.hpp"

namespace ftdla::engine::kernels {

namespace {
// F(2x2, 3x3) with G' = 2G: B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], A^T = [1 1 1 0; 0 1 -1 -1].
constexpr int kG2[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}};
}  // namespace

WinogradWeights winograd_weights(const int32_t* w, int64_t n, int64_t c) {
  WinogradWeights u;
  u.n = n;
  u.c = c;
  u.cp = c + (c & 1);
  u.u.assign(static_cast<size_t>(16 * n * u.cp), 0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t ci = 0; ci < c; ++ci) {
      const int32_t* g = w + (j * c + ci) * 9;
      for (int t = 0; t < 9; ++t)
        if (g[t] < -128 || g[t] > 127) throw InternalError("winograd_weights: weight does not fit int8");
      int32_t gg[4][3];  // G' g
      for (int i = 0; i < 4; ++i)
        for (int s = 0; s < 3; ++s) gg[i][s] = kG2[i][0] * g[s] + kG2[i][1] * g[3 + s] + kG2[i][2] * g[6 + s];
      for (int i = 0; i < 4; ++i)
        for (int k = 0; k < 4; ++k)
          u.u[static_cast<size_t>(((i * 4 + k) * n + j) * u.cp + ci)] =
              static_cast<int16_t>(gg[i][0] * kG2[k][0] + gg[i][1] * kG2[k][1] + gg[i][2] * kG2[k][2]);
    }
  return u;
}

bool winograd_available(Isa isa) { return isa == Isa::Avx2; }

bool winograd_pays(int64_t c, int64_t oh, int64_t ow) {
  if (c < 4 || c > kWinogradMaxChannels) return false;
  const int64_t tiles = ((oh + 1) / 2) * ((ow + 1) / 2);
  // 16 products per tile against 9 per pixel, on whole 8-lane vectors; the transforms cost about a third.
  return 16 * round_up(tiles, 8) * 4 < 9 * round_up(oh * ow, 8) * 3;
}

namespace avx2w {
#define FTDLA_TARGET __attribute__((target("avx2")))
#define FTDLA_INLINE FTDLA_TARGET __attribute__((always_inline)) static inline

/// The input as int16 bytes xu in a padded plane [cp][rows][2][pw]: padded column 2i of a row at phase 0,
/// index i, column 2i + 1 at phase 1, index i, so a tile's four columns 2tx..2tx+3 are lanes tx and
/// tx + 1 of both phases: contiguous loads for 16 tiles at once. Indices [0, tw] of each phase are what
/// real tiles read: those outside the input hold `pad` (the padding taps, and the rows and columns past an
/// odd output). Indices past tw feed only the lanes of tiles that do not exist, and the pad channel (c odd)
/// meets zero weights, so both keep whatever they held (int16 lanes wrap; their sums are never stored).
FTDLA_TARGET void fill_plane(const int32_t* input, int64_t c, int64_t h, int64_t w, int32_t off, int16_t pad,
                             int64_t pt, int64_t pl, int64_t rows, int64_t pr0, int64_t pr1, int64_t pw, int64_t tw,
                             int16_t* plane) {
  // Even input columns land in phase pl % 2 from index pl / 2, odd ones in the other from (pl + 1) / 2.
  const int64_t even_phase = pl & 1, even_first = pl >> 1, odd_first = (pl + 1) >> 1;
  const int64_t even_end = even_first + (w + 1) / 2, odd_end = odd_first + w / 2;  // one past the data
  const __m256i offv = _mm256_set1_epi32(off), byte = _mm256_set1_epi32(0xFF);
  // Per 128-bit lane, int16 elements 0, 2, 4, 6 then 1, 3, 5, 7.
  const __m256i split = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15, 0, 1, 4, 5, 8, 9, 12,
                                         13, 2, 3, 6, 7, 10, 11, 14, 15);
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t pr = pr0; pr < pr1; ++pr) {  // the plane rows [pr0, pr1) that the tiles computed read
      int16_t* const row = plane + (ch * rows + pr) * 2 * pw;
      const int64_t iy = pr - pt;
      if (iy < 0 || iy >= h) {
        std::fill(row, row + tw + 1, pad);
        std::fill(row + pw, row + pw + tw + 1, pad);
        continue;
      }
      int16_t* const even = row + even_phase * pw;
      int16_t* const odd = row + (1 - even_phase) * pw;
      const int32_t* src = input + (ch * h + iy) * w;
      // 8 inputs at a time (the last under a load mask): bytes as the direct path converts them (x + off
      // mod 256), as int16 in order, split by parity, 4 to each phase. The last step's stores may run up to
      // 4 entries past the data (within pw); the padding written after covers what real tiles read there.
      for (int64_t x = 0; x < w; x += 8) {
        const __m256i raw = x + 8 <= w ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + x))
                                       : _mm256_maskload_epi32(src + x, tail_mask(w - x));
        const __m256i bytes = _mm256_and_si256(_mm256_add_epi32(raw, offv), byte);
        const __m256i in_order = _mm256_permute4x64_epi64(_mm256_packs_epi32(bytes, bytes), 0xD8);
        const __m128i parted = _mm256_castsi256_si128(_mm256_shuffle_epi8(in_order, split));
        _mm_storel_epi64(reinterpret_cast<__m128i*>(even + even_first + x / 2), parted);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(odd + odd_first + x / 2), _mm_srli_si128(parted, 8));
      }
      std::fill(even, even + even_first, pad);
      std::fill(odd, odd + odd_first, pad);
      if (even_end <= tw) std::fill(even + even_end, even + tw + 1, pad);
      if (odd_end <= tw) std::fill(odd + odd_end, odd + tw + 1, pad);
    }
}

FTDLA_INLINE __m256i load16(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

/// V = B^T d B of tile rows [ty0, ty1), every channel pair, as int16 [16][pairs][ldv]: tile t of the block
/// (t = (ty - ty0) * tw + tx) at 2t, channels 2p and 2p + 1 side by side (vpmaddwd's pairs). Each step
/// writes 16 tiles; past a row's end they spill into the next row's slots, which that row overwrites
/// afterwards (and past the block's last tile into ldv's slack).
FTDLA_TARGET void transform_input(const int16_t* plane, int64_t pairs, int64_t rows, int64_t pw, int64_t tw,
                                  int64_t ty0, int64_t ty1, int16_t* v, int64_t ldv) {
  for (int64_t p = 0; p < pairs; ++p)
    for (int64_t ty = ty0; ty < ty1; ++ty)
      for (int64_t tx0 = 0; tx0 < tw; tx0 += 16) {
        __m256i x[2][16];
        for (int half = 0; half < 2; ++half) {
          __m256i hh[4][4];  // B^T along each of the tile's four rows
          for (int r = 0; r < 4; ++r) {
            const int16_t* const even = plane + ((2 * p + half) * rows + 2 * ty + r) * 2 * pw + tx0;
            const int16_t* const odd = even + pw;
            const __m256i e0 = load16(even), e1 = load16(even + 1), o0 = load16(odd), o1 = load16(odd + 1);
            hh[r][0] = _mm256_sub_epi16(e0, e1);
            hh[r][1] = _mm256_add_epi16(o0, e1);
            hh[r][2] = _mm256_sub_epi16(e1, o0);
            hh[r][3] = _mm256_sub_epi16(o0, o1);
          }
          for (int k = 0; k < 4; ++k) {  // then down each column
            x[half][k] = _mm256_sub_epi16(hh[0][k], hh[2][k]);
            x[half][4 + k] = _mm256_add_epi16(hh[1][k], hh[2][k]);
            x[half][8 + k] = _mm256_sub_epi16(hh[2][k], hh[1][k]);
            x[half][12 + k] = _mm256_sub_epi16(hh[1][k], hh[3][k]);
          }
        }
        const int64_t t = (ty - ty0) * tw + tx0;
        for (int xi = 0; xi < 16; ++xi) {
          const __m256i lo = _mm256_unpacklo_epi16(x[0][xi], x[1][xi]);  // tiles 0-3 | 8-11
          const __m256i hi = _mm256_unpackhi_epi16(x[0][xi], x[1][xi]);  // tiles 4-7 | 12-15
          int16_t* const d = v + (xi * pairs + p) * ldv + 2 * t;
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), _mm256_permute2x128_si256(lo, hi, 0x20));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
        }
      }
}

/// M[xi][r][lanes] = sum_p U[xi][j0 + r][2p, 2p + 1] . V[xi][p][chunk's tiles] for NR output channels and
/// MR vectors of 8 tiles, every xi: the 16 small GEMMs of one chunk, into m [16][NR][16].
template <int NR, int MR>
FTDLA_TARGET __attribute__((noinline)) void tile_products(const int16_t* v, int64_t pairs, int64_t ldv,
                                                          const int16_t* u, int64_t ldu_xi, int64_t cp, int32_t* m) {
  for (int xi = 0; xi < 16; ++xi) {
    __m256i acc[NR][MR];
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < MR; ++i) acc[r][i] = _mm256_setzero_si256();
    const int16_t* vp = v + xi * pairs * ldv;
    const int16_t* const up = u + xi * ldu_xi;
    for (int64_t p = 0; p < pairs; ++p, vp += ldv) {
      __m256i a[MR];
      for (int i = 0; i < MR; ++i) a[i] = load16(vp + 16 * i);
      for (int r = 0; r < NR; ++r) {
        int32_t pair;
        std::memcpy(&pair, up + r * cp + 2 * p, 4);
        const __m256i b = _mm256_set1_epi32(pair);
        for (int i = 0; i < MR; ++i) acc[r][i] = _mm256_add_epi32(acc[r][i], _mm256_madd_epi16(a[i], b));
      }
    }
    for (int r = 0; r < NR; ++r)
      for (int i = 0; i < MR; ++i)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(m + (xi * NR + r) * 16 + 8 * i), acc[r][i]);
  }
}

/// Where 8 lanes of tiles land: runs of consecutive tiles in one tile row, each the output offset of its
/// first tile's top-left pixel, its first lane, its outputs per pixel row (2 per tile, one less where an odd
/// width ends in a half tile) and whether its bottom pixel row exists (an odd height ends in half tiles).
struct Run {
  int64_t at;
  int32_t lane, width;
  bool bottom;
};
struct LaneRuns {
  Run run[8];
  int count = 0;
};

/// Pixel rows of 8 tiles, (a, b) pairs interleaved: [y_a0 y_a1] of tiles 0-3, then of tiles 4-7.
FTDLA_INLINE void interleave_pairs(__m256i left, __m256i right, __m256i& first, __m256i& second) {
  const __m256i lo = _mm256_unpacklo_epi32(left, right), hi = _mm256_unpackhi_epi32(left, right);
  first = _mm256_permute2x128_si256(lo, hi, 0x20);
  second = _mm256_permute2x128_si256(lo, hi, 0x31);
}

/// n in [1, 16] int32 from src to dst as two overlapping vector (or scalar) moves, each within the n: no
/// library call, and nothing written outside the run.
FTDLA_INLINE void copy_run(const int32_t* src, int32_t n, int32_t* dst) {
  if (n >= 8) {
    const __m256i head = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    const __m256i tail = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + n - 8));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), head);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + n - 8), tail);
  } else if (n >= 4) {
    const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    const __m128i tail = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 4));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), head);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + n - 4), tail);
  } else {
    int64_t head, tail;  // n = 2 or 3: two 8-byte moves; n = 1: one int32
    if (n >= 2) {
      std::memcpy(&head, src, 8);
      std::memcpy(&tail, src + n - 2, 8);
      std::memcpy(dst, &head, 8);
      std::memcpy(dst + n - 2, &tail, 8);
    } else {
      dst[0] = src[0];
    }
  }
}

/// The 2x2 outputs of 8 tiles (y[2a + b]: pixel (a, b)) to their places in one channel's plane.
FTDLA_INLINE void scatter(const __m256i (&y)[4], const LaneRuns& runs, int64_t ow, int32_t* dst) {
  __m256i top[2], bottom[2];
  interleave_pairs(y[0], y[1], top[0], top[1]);
  interleave_pairs(y[2], y[3], bottom[0], bottom[1]);
  const Run& first = runs.run[0];
  if (runs.count == 1 && first.width == 16) {  // 8 whole tiles of one row: four plain stores
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + first.at), top[0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + first.at + 8), top[1]);
    if (first.bottom) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + first.at + ow), bottom[0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + first.at + ow + 8), bottom[1]);
    }
    return;
  }
  alignas(32) int32_t rows[2][16];
  _mm256_store_si256(reinterpret_cast<__m256i*>(rows[0]), top[0]);
  _mm256_store_si256(reinterpret_cast<__m256i*>(rows[0] + 8), top[1]);
  _mm256_store_si256(reinterpret_cast<__m256i*>(rows[1]), bottom[0]);
  _mm256_store_si256(reinterpret_cast<__m256i*>(rows[1] + 8), bottom[1]);
  for (int k = 0; k < runs.count; ++k) {
    const Run& r = runs.run[k];
    copy_run(rows[0] + 2 * r.lane, r.width, dst + r.at);
    if (r.bottom) copy_run(rows[1] + 2 * r.lane, r.width, dst + r.at + ow);
  }
}

/// Y = A^T M A of NR channels x MR vectors of tiles: / 4, + init, the P-bit wrap, and with rq the
/// requantization; then each tile's 2x2 outputs to acc (and rq->out), planes npix apart per channel.
template <int NR, int MR>
FTDLA_TARGET void transform_output(const int32_t* m, const int32_t* init, __m128i sh, const LaneRuns* runs,
                                   int64_t ow, int32_t* acc, int64_t npix, const FusedRequant* rq, int64_t j0) {
  for (int r = 0; r < NR; ++r) {
    [[maybe_unused]] Requant256 q;
    if (rq) q = requant256(rq->qm[j0 + r], rq->zp, rq->lo, rq->hi);
    const __m256i bias = _mm256_set1_epi32(init[r]);
    for (int i = 0; i < MR; ++i) {
      __m256i mm[16];
      for (int xi = 0; xi < 16; ++xi)
        mm[xi] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m + (xi * NR + r) * 16 + 8 * i));
      __m256i s[4][2];  // M A
      for (int a = 0; a < 4; ++a) {
        s[a][0] = _mm256_add_epi32(_mm256_add_epi32(mm[4 * a], mm[4 * a + 1]), mm[4 * a + 2]);
        s[a][1] = _mm256_sub_epi32(_mm256_sub_epi32(mm[4 * a + 1], mm[4 * a + 2]), mm[4 * a + 3]);
      }
      __m256i y[4], yq[4];  // y[2a + b]: output (a, b) of each tile
      for (int b = 0; b < 2; ++b) {
        const __m256i top = _mm256_add_epi32(_mm256_add_epi32(s[0][b], s[1][b]), s[2][b]);
        const __m256i bottom = _mm256_sub_epi32(_mm256_sub_epi32(s[1][b], s[2][b]), s[3][b]);
        for (int a = 0; a < 2; ++a) {
          const __m256i v = _mm256_add_epi32(_mm256_srai_epi32(a == 0 ? top : bottom, 2), bias);
          y[2 * a + b] = _mm256_sra_epi32(_mm256_sll_epi32(v, sh), sh);
          if (rq) yq[2 * a + b] = requantize8(y[2 * a + b], q);
        }
      }
      scatter(y, runs[i], ow, acc + r * npix);
      if (rq) scatter(yq, runs[i], ow, rq->out + (j0 + r) * npix);
    }
  }
}

template <int NR, int MR>
FTDLA_TARGET void chunk(const int16_t* v, int64_t pairs, int64_t ldv, const WinogradWeights& u, int64_t j0,
                        const int32_t* init, __m128i sh, const LaneRuns* runs, int64_t ow, int32_t* acc, int64_t npix,
                        const FusedRequant* rq, int32_t* m) {
  tile_products<NR, MR>(v, pairs, ldv, u.u.data() + j0 * u.cp, u.n * u.cp, u.cp, m);
  transform_output<NR, MR>(m, init + j0, sh, runs, ow, acc + j0 * npix, npix, rq, j0);
}

template <int MR>
FTDLA_TARGET void chunk_rows(const int16_t* v, int64_t pairs, int64_t ldv, const WinogradWeights& u,
                             const int32_t* init, __m128i sh, const LaneRuns* runs, int64_t ow, int32_t* acc,
                             int64_t npix, const FusedRequant* rq, int32_t* m) {
  constexpr int kNr = 6;  // 6 x 2 accumulators, 2 tile vectors, a weight pair and a product: 16 ymm
  int64_t j = 0;
  for (; j + kNr <= u.n; j += kNr) chunk<kNr, MR>(v, pairs, ldv, u, j, init, sh, runs, ow, acc, npix, rq, m);
  with_rest(u.n - j, [&]<int NR>() { chunk<NR, MR>(v, pairs, ldv, u, j, init, sh, runs, ow, acc, npix, rq, m); });
}

FTDLA_TARGET void conv(const int32_t* input, int64_t h, int64_t w, int32_t off, int32_t pad, int64_t pt, int64_t pl,
                       int64_t oh, int64_t ow, const WinogradWeights& u, const int32_t* init, int pbits, int32_t* acc,
                       const FusedRequant* rq, int64_t row0, int64_t row1) {
  const int64_t th = (oh + 1) / 2, tw = (ow + 1) / 2, rows = 2 * th + 2, pw = round_up(tw, 16) + 16;
  const int64_t pairs = u.cp / 2, npix = oh * ow;
  const int64_t tr0 = row0 / 2, tr1 = (std::min(row1, oh) + 1) / 2;  // the tile rows computed
  if (tr1 <= tr0) return;
  thread_local std::vector<int16_t> plane, v;
  thread_local std::vector<int32_t> m;
  thread_local std::vector<LaneRuns> runs;
  plane.resize(static_cast<size_t>(u.cp * rows * 2 * pw));
  fill_plane(input, u.c, h, w, off, static_cast<int16_t>(static_cast<uint8_t>(pad)), pt, pl, rows, 2 * tr0, 2 * tr1 + 2,
             pw, tw, plane.data());
  // Blocks of tile rows whose transformed input (64 bytes per tile and channel pair) stays within L2.
  constexpr int64_t kBlockBytes = 192 * 1024;
  const int64_t block_rows = std::clamp<int64_t>(kBlockBytes / (64 * pairs) / tw, 1, tr1 - tr0);
  m.resize(16 * 6 * 16);
  const __m128i sh = _mm_cvtsi32_si128(32 - pbits);
  for (int64_t ty0 = tr0; ty0 < tr1; ty0 += block_rows) {
    const int64_t ty1 = std::min(tr1, ty0 + block_rows), nt = (ty1 - ty0) * tw;
    const int64_t ldv = 2 * (round_up(nt, 16) + 16);
    v.resize(static_cast<size_t>(16 * pairs * ldv + 32));
    // 64-byte aligned: each pair's 16 tiles are one cache line, not two halves.
    int16_t* const vt = v.data() + (-reinterpret_cast<uintptr_t>(v.data()) / 2 & 31);
    transform_input(plane.data(), pairs, rows, pw, tw, ty0, ty1, vt, ldv);
    runs.assign(static_cast<size_t>((nt + 7) / 8), LaneRuns{});
    for (int64_t t = 0; t < nt; ++t) {
      const int64_t ty = ty0 + t / tw, tx = t % tw, y = 2 * ty, x = 2 * tx;
      LaneRuns& lr = runs[static_cast<size_t>(t / 8)];
      const int32_t width = x + 1 < ow ? 2 : 1;
      if (t % 8 == 0 || tx == 0) {
        lr.run[lr.count++] = {y * ow + x, static_cast<int32_t>(t % 8), width, y + 1 < oh};
      } else {
        lr.run[lr.count - 1].width += width;
      }
    }
    for (int64_t c0 = 0; c0 < nt; c0 += 16) {
      const LaneRuns* const r = runs.data() + c0 / 8;
      if (nt - c0 > 8)
        chunk_rows<2>(vt + 2 * c0, pairs, ldv, u, init, sh, r, ow, acc, npix, rq, m.data());
      else
        chunk_rows<1>(vt + 2 * c0, pairs, ldv, u, init, sh, r, ow, acc, npix, rq, m.data());
    }
  }
}
#undef FTDLA_INLINE
#undef FTDLA_TARGET
}  // namespace avx2w

void winograd_conv3x3(Isa isa, const int32_t* input, int64_t h, int64_t w, int32_t off, int32_t pad, int64_t pt,
                      int64_t pl, int64_t oh, int64_t ow, const WinogradWeights& u, const int32_t* init, int pbits,
                      int32_t* acc, const FusedRequant* rq, int64_t row0, int64_t row1) {
  if (row0 % 2 != 0) throw InternalError("winograd_conv3x3: the first row must start a tile");
  if (!winograd_available(isa) || u.c > kWinogradMaxChannels)
    throw InternalError("winograd_conv3x3: not available for this ISA or channel count");
  const bool fuse = fuse_requant(isa, rq, u.n);
  avx2w::conv(input, h, w, off, pad, pt, pl, oh, ow, u, init, pbits, acc, fuse ? rq : nullptr, row0, row1);
  const int64_t y1 = std::min(row1, oh);
  if (rq && !fuse && y1 > row0) requantize_rows(isa, *rq, acc, u.n, oh * ow, row0 * ow, (y1 - row0) * ow);
}

}  // namespace ftdla::engine::kernels
