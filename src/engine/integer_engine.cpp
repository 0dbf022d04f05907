// SPDX-License-Identifier: MIT
#include "ftdla/engine/integer_engine.hpp"

#include <emmintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/lowering.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ftdla/quant/float_requant.hpp"

namespace ftdla::engine {

using model::Node;
using quant::QLayer;
using quant::QOp;

IntegerEngine::IntegerEngine(const quant::QGraph& q)
    : q_(q), pixels_(q.layers.size(), 0), fast_(q.layers.size()), lanes_(q.layers.size()) {
  // The registers a run fills: the input, every layer's output and (below) the accumulators.
  std::vector<char> filled(q.graph.values.size(), 0);
  filled[static_cast<size_t>(q.input)] = 1;
  for (const QLayer& L : q.layers) filled[static_cast<size_t>(L.output)] = 1;
  for (size_t v = 0; v < filled.size(); ++v)
    if (filled[v]) trace_bytes_ += numel(q.graph.values[v].shape) * 4;
  for (size_t l = 0; l < q.layers.size(); ++l) {
    const QLayer& L = q.layers[l];
    if (L.op != QOp::Compute) continue;
    const model::GemmDims d = model::gemm_dims(q.graph, q.graph.nodes[L.node]);
    pixels_[l] = d.m;
    trace_bytes_ += d.groups * d.n * d.m * 4;  // the accumulators
    // Per-channel multipliers and shifts as arrays, for requantizing many channels at once (shifts that
    // quantize() produces only; anything else keeps the scalar path).
    bool usual = true;
    for (const quant::QuantizedMultiplier& qm : L.requant) usual &= quant::shift_in_quantize_range(qm);
    if (usual && !q.float_requant) {
      for (const quant::QuantizedMultiplier& qm : L.requant) {
        lanes_[l].mult.push_back(qm.multiplier);
        lanes_[l].shift.push_back(qm.shift);
      }
    }
    const quant::Encoding& in = q.enc[L.inputs[0]];
    // The int8 path needs weights in int8 and input registers in one byte (W, A <= 8).
    if (q.options.wbits > 8 || in.bits > 8) continue;
    FastLayer& f = fast_[l];
    const int64_t rows = d.groups * d.n;
    f.w = kernels::pack_weights(L.weight.data(), rows, d.k);
    f.off = in.is_signed ? 128 : 0;
    f.init.resize(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r)
      f.init[r] = static_cast<int32_t>(static_cast<uint32_t>(L.bias[r]) -
                                       static_cast<uint32_t>(in.zero_point + f.off) * static_cast<uint32_t>(f.w.row_sum[r]));
    // Winograd's transformed weights for the 3x3 stride-1 convolutions where it does less work, whenever
    // this CPU can run the AVX2 kernel (any ISA it supports may be selected at run time).
    const Node& node = q.graph.nodes[L.node];
    const model::Window& win = node.window;
    const Shape& os = q.graph.values[node.output].shape;
    // Maps too small for it alone (4x4) may still pay as a group's images stacked into one map.
    static const bool winograd = std::ranges::any_of(kernels::supported_isas(), kernels::winograd_available);
    const int64_t c = node.weight.shape[1];
    if (winograd && node.op == model::OpKind::Conv && d.groups == 1 && win.kernel_h == 3 && win.kernel_w == 3 &&
        win.stride_h == 1 && win.stride_w == 1 && win.dilation_h == 1 && win.dilation_w == 1) {
      f.wino_alone = kernels::winograd_pays(c, os[1], os[2]);
      const int64_t u_bytes = 16 * d.n * (c + c % 2) * 2;  // the transformed weights (int16, channels paired)
      const bool stacks = std::ranges::all_of(win.pads, [](int64_t p) { return p == 1; }) &&
                          u_bytes <= kStackedWinogradWeightBytes &&
                          kernels::winograd_pays(c, os[1], stacked_cols(os[2], group_images_));
      if (f.wino_alone || stacks) f.wino = kernels::winograd_weights(L.weight.data(), d.n, c);
    }
  }
}

namespace {
/// dst[i] = src[i] + off as bytes (the low byte, as the packed layouts keep it). A function of its own:
/// inside a lambda the byte stores may alias the captured bounds, which keeps the loop scalar. Explicit
/// 8-wide SSE2 steps: the compiler's 32-wide loop never runs on the short spans a small layer has.
inline void to_bytes(const int32_t* __restrict src, int64_t n, int32_t off, uint8_t* __restrict dst) {
  const __m128i o = _mm_set1_epi32(off), low = _mm_set1_epi32(0xFF);
  // Four values + off, masked to their low byte first so that the saturating packs below are exact.
  auto low4 = [&](int64_t i) { return _mm_and_si128(_mm_add_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)), o), low); };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i w = _mm_packs_epi32(low4(i), low4(i + 4));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + i), _mm_packus_epi16(w, w));
  }
  if (i + 4 <= n) {  // rows are short (28, 14, 7 pixels): one 4-wide step before the scalar tail
    const __m128i w = _mm_packs_epi32(low4(i), low4(i));
    const int32_t bytes = _mm_cvtsi128_si32(_mm_packus_epi16(w, w));
    std::memcpy(dst + i, &bytes, 4);
    i += 4;
  }
  for (; i < n; ++i) dst[i] = static_cast<uint8_t>(src[i] + off);
}

/// dst[i] = src[i * step], i < n (a phase of a strided convolution's input row; restrict, like to_bytes).
inline void take_every(const uint8_t* __restrict src, int64_t n, int64_t step, uint8_t* __restrict dst) {
  if (step == 2) {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[2 * i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * step];
}

/// One output row of a 2x2, stride-2 max pool whose windows lie inside the input (restrict: vectorized).
inline void max_pool_2x2_row(const int32_t* __restrict r0, const int32_t* __restrict r1, int64_t ow,
                             int32_t* __restrict dst) {
  for (int64_t x = 0; x < ow; ++x)
    dst[x] = std::max(std::max(r0[2 * x], r0[2 * x + 1]), std::max(r1[2 * x], r1[2 * x + 1]));
}

}  // namespace

void IntegerEngine::accumulate(size_t l, const std::vector<int32_t>& input, std::vector<int32_t>& acc) const {
  if (fast_layer(l) && kernels::active_isa() != kernels::Isa::Scalar) {
    acc.resize(fast_[l].init.size() * static_cast<size_t>(pixels_[l]));
    const LayerIo io{input.data(), acc.data(), nullptr};
    return accumulate_fast(l, &io, 1, false);
  }
  accumulate_ref(l, input, acc);
}

void IntegerEngine::accumulate_fast(size_t l, const LayerIo* io, size_t images, bool threaded) const {
  const QLayer& L = q_.layers[l];
  const Node& node = q_.graph.nodes[L.node];
  const model::GemmDims d = model::gemm_dims(q_.graph, node);
  const FastLayer& f = fast_[l];
  const kernels::Isa isa = kernels::active_isa();
  const int pbits = q_.options.accbits;
  const int64_t kq = (d.k + 3) / 4;
  thread_local std::vector<uint8_t> packed;
  int32_t* const out_p = io[0].out;
  // Fixed-point requantization goes with the kernel (fused in its store on AVX2); ONNX Runtime's float one
  // after it.
  const bool fixed_point = out_p && !q_.float_requant;
  // Several images (grouped_layer): their pixels side by side as the columns of one GEMM, so that each
  // weight row, once in L1, meets every image's pixels (a 4x4 map gives a weight 16 pixels per image, a fully
  // connected layer one). Images go in chunks whose packed panel stays in L2; each chunk's registers land in
  // scratch rows [channel][chunk pixels] and are copied to the images' registers. Each output is its own
  // dot product, so the registers are those of one image at a time.
  // ONNX Runtime's float requantization of channels [0, n) after the kernel: registers [first, first + len)
  // of each channel's row of acc, rows ld apart (and likewise into out).
  auto requantize_after = [&](const int32_t* acc, int32_t* out, int64_t ld, int64_t first, int64_t len) {
    if (out_p && !fixed_point)
      for (int64_t j = 0; j < d.n; ++j) requantize_span(l, j, acc + j * ld + first, len, out + j * ld + first);
  };
  thread_local std::vector<int32_t> group_acc, group_out;
  // Scratch rows of row_len registers per channel (and their outputs, with out); returns the fused
  // requantization into them where the kernel does it.
  kernels::FusedRequant group_rq{L.requant.data(), q_.enc[L.output].zero_point, L.act_min, L.act_max, nullptr};
  auto scratch = [&](int64_t row_len) -> const kernels::FusedRequant* {
    group_acc.resize(static_cast<size_t>(d.n * row_len));
    if (out_p) group_out.resize(group_acc.size());
    group_rq.out = group_out.data();
    return fixed_point ? &group_rq : nullptr;
  };
  // The scratch rows' registers to `count` images from io[first]: image i's m registers of each channel are
  // runs of `width` (m / width runs, `pitch` apart) from i * image_stride in the channel's row. Plain loops:
  // the runs are short (1 register per fully connected channel, 4 per row of a 4x4 map), where a memcpy
  // call each costs more than the copy.
  auto copy_out = [&](size_t first, int64_t count, int64_t row_len, int64_t image_stride, int64_t width, int64_t pitch) {
    requantize_after(group_acc.data(), group_out.data(), row_len, 0, row_len);
    const int64_t m = d.m;
    for (int64_t i = 0; i < count; ++i) {
      const LayerIo& im = io[first + static_cast<size_t>(i)];
      if (m == 1) {  // a fully connected layer: one register per channel
        for (int64_t j = 0; j < d.n; ++j) {
          im.acc[j] = group_acc[static_cast<size_t>(j * row_len + i * image_stride)];
          if (out_p) im.out[j] = group_out[static_cast<size_t>(j * row_len + i * image_stride)];
        }
        continue;
      }
      for (int64_t j = 0; j < d.n; ++j)
        for (int64_t r = 0; r < m / width; ++r) {
          const int64_t from = j * row_len + i * image_stride + r * pitch, to = j * m + r * width;
          for (int64_t x = 0; x < width; ++x) im.acc[to + x] = group_acc[static_cast<size_t>(from + x)];
          if (out_p)
            for (int64_t x = 0; x < width; ++x) im.out[to + x] = group_out[static_cast<size_t>(from + x)];
        }
    }
  };
  auto multiply_group = [&](size_t first, int64_t count) {
    const int64_t ml = count * d.m;
    const kernels::FusedRequant* const rq = scratch(ml);
    kernels::gemm_u8s8(isa, packed.data(), ml, kq, f.w, 0, d.n, f.init.data(), pbits, group_acc.data(), ml, rq);
    copy_out(first, count, ml, d.m, d.m, d.m);  // each image's registers one run
  };
  const int64_t images_per_chunk = std::clamp<int64_t>(group_panel_bytes_ / (4 * kq * d.m), 1, static_cast<int64_t>(images));
  if (node.op == model::OpKind::Gemm) {
    if (images == 1) {
      packed.assign(static_cast<size_t>(f.w.ld), 0);
      for (int64_t k = 0; k < d.k; ++k) packed[k] = static_cast<uint8_t>(io[0].in[k] + f.off);
      kernels::gemv_u8s8(isa, packed.data(), f.w, d.n, f.init.data(), pbits, io[0].acc);
      return;
    }
    // Image i is column i of the packed [k/4][mp][4] input (the bytes past k are zero, as are the weights).
    for (size_t first = 0; first < images; first += static_cast<size_t>(images_per_chunk)) {
      const int64_t count = std::min<int64_t>(images_per_chunk, static_cast<int64_t>(images - first));
      const int64_t mp = kernels::round_up(count, kernels::kMAlign);
      packed.assign(static_cast<size_t>(kq * mp * 4), 0);
      for (int64_t i = 0; i < count; ++i) {
        const int32_t* const x = io[first + static_cast<size_t>(i)].in;
        for (int64_t k = 0; k < d.k; ++k) packed[static_cast<size_t>(((k / 4) * mp + i) * 4 + k % 4)] = static_cast<uint8_t>(x[k] + f.off);
      }
      multiply_group(first, count);
    }
    return;
  }
  // Conv: the input as unsigned bytes in a plane padded with the zero point (padding taps hold it), then
  // per group im2col rows col[k][mp] (contiguous copies for stride 1) interleaved to [k/4][mp][4].
  const Shape& is = q_.graph.values[L.inputs[0]].shape;
  const Shape& os = q_.graph.values[node.output].shape;
  const model::Window& win = node.window;
  const int64_t cg = node.weight.shape[1], kh = win.kernel_h, kw = win.kernel_w;
  const int64_t h = is[1], wd = is[2], oh = os[1], ow = os[2];
  const int64_t pt = win.pads[0], pl = win.pads[1], ph = h + pt + win.pads[2], pw = wd + pl + win.pads[3];
  const uint8_t pad = static_cast<uint8_t>(q_.enc[L.inputs[0]].zero_point + f.off);
  const int nth_max = omp_get_max_threads();
  const bool split = threaded && d.groups * d.n * d.k * d.m >= layer_parallel_macs_ && nth_max > 1;
  const int32_t* input = io[0].in;  // the image being packed
  if (images > 1 && winograd_stacks(l, images)) {
    // The images side by side in one map, one column of the zero point between them: it is the right
    // padding column of one image and the left one of the next, so each image's outputs see exactly their
    // own windows (Winograd computes every output from its own 3x3 window), and only the separators' own
    // output columns are discarded. A 4x4 map, 4 tiles alone, gives 8 images 40 tiles (side by side rather
    // than stacked: the input transform steps 16 tiles of a row at a time).
    thread_local std::vector<int32_t> stacked;
    const int64_t c = is[0], cols = stacked_cols(wd, images), ml = oh * cols;
    const int32_t zp = q_.enc[L.inputs[0]].zero_point;
    stacked.resize(static_cast<size_t>(c * h * cols));
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y) {
        int32_t* const row = stacked.data() + (ch * h + y) * cols;
        for (size_t i = 0; i < images; ++i) {
          std::copy_n(io[i].in + (ch * h + y) * wd, wd, row + (wd + 1) * static_cast<int64_t>(i));
          if (i + 1 < images) row[(wd + 1) * static_cast<int64_t>(i) + wd] = zp;
        }
      }
    const kernels::FusedRequant* const rq = scratch(ml);
    kernels::winograd_conv3x3(isa, stacked.data(), h, cols, f.off, pad, 1, 1, oh, cols, f.wino, f.init.data(), pbits,
                              group_acc.data(), rq);
    copy_out(0, static_cast<int64_t>(images), ml, wd + 1, ow, cols);  // image i's rows from column (w + 1) i
    return;
  }
  if (winograd_ && f.wino_alone && kernels::winograd_available(isa)) {
    const kernels::FusedRequant rq{L.requant.data(), q_.enc[L.output].zero_point, L.act_min, L.act_max, out_p};
    auto rows = [&](int64_t y0, int64_t y1) {  // output rows [y0, y1), y0 even
      kernels::winograd_conv3x3(isa, input, h, wd, f.off, pad, pt, pl, oh, ow, f.wino, f.init.data(), pbits,
                                io[0].acc, fixed_point ? &rq : nullptr, y0, y1);
      requantize_after(io[0].acc, out_p, d.m, y0 * ow, (y1 - y0) * ow);
    };
    const int64_t tile_rows = (oh + 1) / 2;
    if (!split || tile_rows < nth_max) {
      rows(0, oh);
      return;
    }
    // Batch 1: each thread a band of tile rows, start to end (its own plane rows, no barrier).
#pragma omp parallel
    {
      const int64_t nth = omp_get_num_threads(), t = omp_get_thread_num();
      const int64_t lo = tile_rows * t / nth, hi = tile_rows * (t + 1) / nth;
      if (hi > lo) rows(2 * lo, std::min(oh, 2 * hi));
    }
    return;
  }
  // Every thread of a team builds the rows of the plane it reads in its own copy (thread_local names each
  // thread's own): no barrier, and bands of output rows read bands of the plane.
  // At column stride S > 1 each plane row is stored as S phases of pws columns (padded column c at
  // (c % S) * pws + c / S): output pixel x's tap at column S * x + t is then pixel x of a stride-1 row that
  // starts at phase t % S, offset t / S, so every stride packs from rows read in place.
  thread_local std::vector<uint8_t> plane, row_bytes;
  const int64_t channels = is[0];
  const int64_t phases = win.stride_w, pws = (pw + phases - 1) / phases, row_w = phases * pws;
  const bool padded = pt || pl || win.pads[2] || win.pads[3];
  int32_t* const acc_p = io[0].acc;
  const int32_t off = f.off;
  // Per phase p, the input columns c with (pl + c) % S == p: the first, how many, and where they go.
  struct PhaseSpan {
    int64_t first, count, dst;
  };
  // Only the phases and rows some tap reads are filled: a 1x1 stride-2 shortcut reads one phase of every
  // other row, a quarter of its input. Both are read by every thread of a team (so not thread_local).
  std::vector<PhaseSpan> phase_spans;
  if (phases > 1)
    for (int64_t p = 0; p < phases; ++p) {
      bool read = false;
      for (int64_t s = 0; s < kw; ++s) read |= s * win.dilation_w % phases == p;
      const int64_t c0 = ((p - pl) % phases + phases) % phases;
      if (read && c0 < wd) phase_spans.push_back({c0, (wd - c0 + phases - 1) / phases, p * pws + (pl + c0) / phases});
    }
  std::vector<char> rows_read;  // empty: every row in a band is read
  if (win.stride_h > 1) {
    rows_read.assign(static_cast<size_t>(ph), 0);
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t r = 0; r < kh && y * win.stride_h + r * win.dilation_h < ph; ++r)
        rows_read[static_cast<size_t>(y * win.stride_h + r * win.dilation_h)] = 1;
  }
  // Plane rows (padded coordinates) that output rows [y0, y1) read.
  auto fill_plane = [&](int64_t y0, int64_t y1) {
    plane.resize(static_cast<size_t>(channels * ph * row_w + 16));  // + the slack interleave_rows4_2d reads
    const int64_t py0 = y0 * win.stride_h, py1 = std::min(ph, (y1 - 1) * win.stride_h + (kh - 1) * win.dilation_h + 1);
    uint8_t* const base = plane.data();
    const int64_t iy0 = std::max(py0, pt), iy1 = std::min(py1, pt + h);  // rows holding input (not padding)
    if (iy1 > iy0) row_bytes.resize(static_cast<size_t>((iy1 - iy0) * wd));
    for (int64_t ch = 0; ch < channels; ++ch) {
      uint8_t* const rows = base + (ch * ph + py0) * row_w;
      if (padded) std::fill(rows, rows + (py1 - py0) * row_w, pad);  // one call: the rows are contiguous
      if (iy1 <= iy0) continue;
      const int32_t* const src = input + (ch * h + iy0 - pt) * wd;  // the rows are contiguous here too
      if (phases == 1) {
        if (!padded) {  // the channel's rows are contiguous in the plane too
          to_bytes(src, (iy1 - iy0) * wd, off, base + (ch * ph + iy0) * row_w);
        } else {
          for (int64_t py = iy0; py < iy1; ++py) to_bytes(src + (py - iy0) * wd, wd, off, base + (ch * ph + py) * row_w + pl);
        }
        continue;
      }
      // Phases: each row as bytes, then every S-th byte to its phase.
      if (rows_read.empty()) to_bytes(src, (iy1 - iy0) * wd, off, row_bytes.data());
      for (int64_t py = iy0; py < iy1; ++py) {
        uint8_t* const from = row_bytes.data() + (py - iy0) * wd;
        if (!rows_read.empty()) {
          if (!rows_read[static_cast<size_t>(py)]) continue;
          to_bytes(src + (py - iy0) * wd, wd, off, from);
        }
        uint8_t* const to = base + (ch * ph + py) * row_w;
        for (const PhaseSpan& ps : phase_spans) take_every(from + ps.first, ps.count, phases, to + ps.dst);
      }
    }
  };
  // Rows [y0, y1) of group g in GEMM form, [k/4][mp][4]: `pack` fills k-quads [q0, q1) of `dst` (quads mp
  // pixels apart, writes within `room` pixels of dst) by interleaving the four plane rows of each quad's
  // taps, read in place (stride-1 rows of the phases): no im2col matrix, no separate interleave pass. The
  // padding pixels up to mp hold whatever is there: their outputs are computed but never stored.
  auto pack = [&](int64_t g, int64_t y0, int64_t y1, int64_t q0, int64_t q1, uint8_t* dst, int64_t mp, int64_t room) {
    const uint8_t* const group_plane = plane.data() + g * cg * ph * row_w;
    thread_local std::vector<uint8_t> zeros;  // the k-padding row
    const int64_t ow16 = kernels::round_up(ow, 16);  // interleave_rows4_2d may read whole 16-byte steps
    if (static_cast<int64_t>(zeros.size()) < ow16) zeros.assign(static_cast<size_t>(ow16), 0);
    // k = (ci * kh + r) * kw + s, stepped rather than divided (three divisions per row were most of the
    // packing of a small layer such as LeNet-5's second convolution).
    int64_t ci = 4 * q0 / (kh * kw), r = (4 * q0 / kw) % kh, s = 4 * q0 % kw;
    for (int64_t q = q0; q < q1; ++q) {
      const uint8_t* rows[4];
      int64_t strides[4];
      for (int64_t j = 0; j < 4; ++j) {
        if (4 * q + j >= d.k) {
          rows[j] = zeros.data();  // zero weights pad k; the zero row keeps the bytes defined
          strides[j] = 0;
          continue;
        }
        const int64_t t = s * win.dilation_w;  // the tap's column offset
        rows[j] = group_plane + (ci * ph + r * win.dilation_h + y0 * win.stride_h) * row_w + (t % phases) * pws + t / phases;
        strides[j] = win.stride_h * row_w;
        if (++s == kw) {
          s = 0;
          if (++r == kh) {
            r = 0;
            ++ci;
          }
        }
      }
      // All rows of the band in one call; rows may be written in whole 16-pixel steps within this quad.
      kernels::interleave_rows4_2d(rows, strides, y1 - y0, ow, dst + q * mp * 4, room);
    }
  };
  // Channels [j0, j1) of group g over rows [y0, y1) from packed input: one GEMM, then the P-bit
  // accumulators and, with `out`, their requantization. Each output is its own dot product, so any split
  // of rows or channels gives the same registers.
  auto multiply = [&](int64_t g, int64_t y0, int64_t y1, int64_t j0, int64_t j1, const uint8_t* src_packed) {
    const int64_t m0 = y0 * ow, ml = (y1 - y0) * ow;
    const int64_t first = (g * d.n + j0) * d.m + m0;
    const kernels::FusedRequant rq{L.requant.data() + g * d.n + j0, q_.enc[L.output].zero_point, L.act_min, L.act_max,
                                   out_p + first};
    kernels::gemm_u8s8(isa, src_packed, ml, kq, f.w, g * d.n + j0, j1 - j0, f.init.data() + g * d.n + j0, pbits,
                       acc_p + first, d.m, fixed_point ? &rq : nullptr);
    if (out_p && !fixed_point)
      for (int64_t j = j0; j < j1; ++j) requantize_span(l, g * d.n + j, acc_p + first + (j - j0) * d.m, ml, out_p + first + (j - j0) * d.m);
  };
  // Rows [y0, y1) of groups [g0, g1), start to end in one thread.
  auto groups = [&](int64_t g0, int64_t g1, int64_t y0, int64_t y1) {
    const int64_t mp = kernels::round_up((y1 - y0) * ow, kernels::kMAlign);
    packed.resize(static_cast<size_t>(kq * mp * 4));
    for (int64_t g = g0; g < g1; ++g) {
      pack(g, y0, y1, 0, kq, packed.data(), mp, mp);
      multiply(g, y0, y1, 0, d.n, packed.data());
    }
  };
  if (images > 1) {
    // Image i's pixels from column i * m (each image's rows may spill whole 16-pixel steps into the next
    // image's columns, which are packed after them).
    for (size_t first = 0; first < images; first += static_cast<size_t>(images_per_chunk)) {
      const int64_t count = std::min<int64_t>(images_per_chunk, static_cast<int64_t>(images - first));
      const int64_t mp = kernels::round_up(count * d.m, kernels::kMAlign);
      packed.resize(static_cast<size_t>(kq * mp * 4));
      for (int64_t i = 0; i < count; ++i) {
        input = io[first + static_cast<size_t>(i)].in;
        fill_plane(0, oh);
        pack(0, 0, oh, 0, kq, packed.data() + i * d.m * 4, mp, mp - i * d.m);
      }
      multiply_group(first, count);
    }
    return;
  }
  if (!split) {
    fill_plane(0, oh);
    groups(0, d.groups, 0, oh);
    return;
  }
  // Batch 1 on a large layer, split over the threads with as few barriers as the shape allows (after them,
  // each thread runs to the end of the layer):
  // - bands of output rows where each band stays long (the GEMM pads pixels to 16);
  // - else, grouped convolutions: ranges of groups;
  // - else the k-quads of the packed input are shared out (one barrier), then blocks of output channels.
  const bool by_rows = oh >= nth_max && (oh / nth_max) * ow >= 64;
  const int64_t mp_all = kernels::round_up(d.m, kernels::kMAlign);
  thread_local std::vector<uint8_t> shared_packed;
  if (!by_rows && d.groups == 1) shared_packed.resize(static_cast<size_t>(kq * mp_all * 4));
  uint8_t* const shared_p = shared_packed.data();
#pragma omp parallel
  {
    const int64_t nth = omp_get_num_threads(), t = omp_get_thread_num();
    auto share = [&](int64_t n, int64_t unit, int64_t& lo, int64_t& hi) {
      const int64_t units = (n + unit - 1) / unit;
      lo = std::min(units * t / nth * unit, n);
      hi = std::min(units * (t + 1) / nth * unit, n);
    };
    int64_t lo = 0, hi = 0;
    if (by_rows) {
      share(oh, 1, lo, hi);
      if (hi > lo) {
        fill_plane(lo, hi);
        groups(0, d.groups, lo, hi);
      }
    } else if (d.groups > 1) {
      share(d.groups, 1, lo, hi);
      if (hi > lo) {
        fill_plane(0, oh);
        groups(lo, hi, 0, oh);
      }
    } else {
      share(kq, 1, lo, hi);
      if (hi > lo) {
        fill_plane(0, oh);
        pack(0, 0, oh, lo, hi, shared_p, mp_all, mp_all);
      }
#pragma omp barrier
      share(d.n, d.n >= 6 * nth ? 6 : 1, lo, hi);  // blocks of the kernel's 6 rows
      if (hi > lo) multiply(0, 0, oh, lo, hi, shared_p);
    }
  }
}

void IntegerEngine::accumulate_ref(size_t l, const std::vector<int32_t>& input, std::vector<int32_t>& acc) const {
  const QLayer& L = q_.layers[l];
  const Node& node = q_.graph.nodes[L.node];
  const model::GemmDims d = model::gemm_dims(q_.graph, node);
  const int32_t zp = q_.enc[L.inputs[0]].zero_point;
  const int pbits = q_.options.accbits;
  acc.resize(static_cast<size_t>(d.groups * d.n * d.m));
  // Products and sums in uint32: modular arithmetic is exact mod 2^32 (no signed-overflow UB), and the
  // P-bit register (P <= 32) keeps the low P bits. Scratch buffers are per thread to avoid allocations.
  thread_local std::vector<uint32_t> centered, col, sum;
  centered.resize(input.size());
  for (size_t i = 0; i < input.size(); ++i) centered[i] = static_cast<uint32_t>(input[i] - zp);
  if (node.op == model::OpKind::Gemm) {
    // M = 1: a dot product per output (vectorizes over k).
    for (int64_t n = 0; n < d.n; ++n) {
      const int32_t* w = L.weight.data() + n * d.k;
      uint32_t s = static_cast<uint32_t>(L.bias[n]);
      for (int64_t k = 0; k < d.k; ++k) s += static_cast<uint32_t>(w[k]) * centered[k];
      acc[n] = static_cast<int32_t>(wrap_signed(s, pbits));
    }
    return;
  }
  const Shape& in_shape = q_.graph.values[L.inputs[0]].shape;
  const Shape& out_shape = q_.graph.values[node.output].shape;
  col.resize(static_cast<size_t>(d.k * d.m));
  sum.resize(static_cast<size_t>(d.m));
  for (int64_t g = 0; g < d.groups; ++g) {
    model::im2col(centered.data(), in_shape, out_shape, node, g, uint32_t{0}, col.data());
    for (int64_t n = 0; n < d.n; ++n) {
      const int64_t oc = g * d.n + n;
      const int32_t* w = L.weight.data() + oc * d.k;
      std::fill(sum.begin(), sum.end(), static_cast<uint32_t>(L.bias[oc]));
      for (int64_t k = 0; k < d.k; ++k) {
        const uint32_t wk = static_cast<uint32_t>(w[k]);
        if (wk == 0) continue;
        const uint32_t* src = col.data() + k * d.m;
        uint32_t* dst = sum.data();
        for (int64_t m = 0; m < d.m; ++m) dst[m] += wk * src[m];
      }
      int32_t* out = acc.data() + oc * d.m;
      for (int64_t m = 0; m < d.m; ++m) out[m] = static_cast<int32_t>(wrap_signed(sum[m], pbits));
    }
  }
}

int32_t IntegerEngine::requantize(size_t l, int64_t channel, int32_t acc) const {
  const QLayer& L = q_.layers[l];
  if (q_.float_requant)
    return quant::float_requantize(acc, L.requant_scale[channel], q_.enc[L.output].zero_point, L.act_min, L.act_max);
  return quant::requantize_clamped(acc, L.requant[channel], q_.enc[L.output].zero_point, L.act_min, L.act_max);
}

void IntegerEngine::requantize_channels(size_t l, const int32_t* acc, const int32_t* channel, int64_t n, int32_t* out) const {
  const kernels::Isa isa = kernels::active_isa();
  const Lanes& ln = lanes_[l];
  if (ln.mult.empty() || isa == kernels::Isa::Scalar || n < 8) {
    for (int64_t i = 0; i < n; ++i) out[i] = requantize(l, channel[i], acc[i]);
    return;
  }
  thread_local std::vector<int32_t> mult, shift;
  mult.resize(static_cast<size_t>(n));
  shift.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    mult[i] = ln.mult[channel[i]];
    shift[i] = ln.shift[channel[i]];
  }
  const QLayer& L = q_.layers[l];
  kernels::requantize_lanes(isa, acc, n, mult.data(), shift.data(), q_.enc[L.output].zero_point, L.act_min, L.act_max, out);
}

void IntegerEngine::requantize_all(size_t l, const std::vector<int32_t>& acc, std::vector<int32_t>& out) const {
  requantize_all_impl(l, acc, out, false);
}

void IntegerEngine::requantize_all_impl(size_t l, const std::vector<int32_t>& acc, std::vector<int32_t>& out,
                                        bool threaded) const {
  const kernels::Isa isa = kernels::active_isa();
  if (isa == kernels::Isa::Scalar) return requantize_all_ref(l, acc, out);
  const QLayer& L = q_.layers[l];
  const int64_t m = pixels_[l];
  const int64_t channels = static_cast<int64_t>(acc.size()) / m;
  const int32_t zp = q_.enc[L.output].zero_point;
  out.resize(acc.size());
  int32_t* o = out.data();
  if (m == 1 && !lanes_[l].mult.empty()) {
    // One output per channel (fully connected): too short for a row kernel, one lane per channel instead.
    kernels::requantize_lanes(isa, acc.data(), channels, lanes_[l].mult.data(), lanes_[l].shift.data(), zp, L.act_min,
                              L.act_max, o);
    return;
  }
  auto row = [&](int64_t c) { requantize_span(l, c, acc.data() + c * m, m, o + c * m); };
  if (threaded) {
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < channels; ++c) row(c);
  } else {
    for (int64_t c = 0; c < channels; ++c) row(c);
  }
}

void IntegerEngine::requantize_span(size_t l, int64_t c, const int32_t* acc, int64_t n, int32_t* out) const {
  const QLayer& L = q_.layers[l];
  const int32_t zp = q_.enc[L.output].zero_point;
  if (q_.float_requant)
    kernels::requantize_row_float(acc, n, L.requant_scale[c], zp, L.act_min, L.act_max, out);
  else
    kernels::requantize_row(kernels::active_isa(), acc, n, L.requant[c], zp, L.act_min, L.act_max, out);
}

void IntegerEngine::requantize_all_ref(size_t l, const std::vector<int32_t>& acc, std::vector<int32_t>& out) const {
  const int64_t m = pixels_[l];
  out.resize(acc.size());
  for (int64_t i = 0; i < static_cast<int64_t>(acc.size()); ++i) out[i] = requantize(l, i / m, acc[i]);
}

void IntegerEngine::run_layer(size_t l, Trace& t) const { run_layer_impl(l, t, false); }

void IntegerEngine::run_layer_impl(size_t l, Trace& t, bool threaded) const {
  const QLayer& L = q_.layers[l];
  const std::vector<int32_t>& in = t.values[L.inputs[0]];
  std::vector<int32_t>& out = t.values[L.output];
  const Shape& is = q_.graph.values[L.inputs[0]].shape;
  const Shape& os = q_.graph.values[L.output].shape;
  switch (L.op) {
    case QOp::Compute: {
      std::vector<int32_t>& acc = t.acc[l];
      if (fast_layer(l) && kernels::active_isa() != kernels::Isa::Scalar) {
        acc.resize(fast_[l].init.size() * static_cast<size_t>(pixels_[l]));
        if (pixels_[l] > 1) {
          // Convolutions requantize each band of rows right after computing it (in the thread that did).
          out.resize(acc.size());
          const LayerIo io{in.data(), acc.data(), out.data()};
          accumulate_fast(l, &io, 1, threaded);
          return;
        }
        const LayerIo io{in.data(), acc.data(), nullptr};
        accumulate_fast(l, &io, 1, threaded);
      } else {
        accumulate_ref(l, in, acc);
      }
      requantize_all_impl(l, acc, out,
                          threaded && static_cast<int64_t>(acc.size()) * 64 >= layer_parallel_macs_ && omp_get_max_threads() > 1);
      return;
    }
    case QOp::Clamp:
      out.resize(in.size());
      for (size_t i = 0; i < in.size(); ++i) out[i] = std::clamp(in[i], L.act_min, L.act_max);
      return;
    case QOp::Reshape:
      out = in;
      return;
    case QOp::MaxPool:
    case QOp::AvgPool:
      out.resize(static_cast<size_t>(numel(os)));
      pool_layer(l, in, out);
      return;
    case QOp::GlobalAvgPool:
      out.resize(static_cast<size_t>(numel(os)));
      for (int64_t o = 0; o < numel(os); ++o) out[o] = pool_one(l, in, o);
      return;
    case QOp::Add: {
      const std::vector<int32_t>& b = t.values[L.inputs[1]];
      out.resize(in.size());
      const kernels::Isa isa = kernels::active_isa();
      if (isa == kernels::Isa::Scalar || q_.float_requant) {
        for (size_t i = 0; i < in.size(); ++i) out[i] = add_one(l, in[i], b[i]);
        return;
      }
      // add_one's three requantizations fused in one vector pass (kernels_test: equal to add_one's steps).
      const int64_t n = static_cast<int64_t>(in.size());
      const int32_t z1 = q_.enc[L.inputs[0]].zero_point, z2 = q_.enc[L.inputs[1]].zero_point;
      auto span = [&](int64_t i0, int64_t i1) {
        kernels::add_requantize(isa, in.data() + i0, b.data() + i0, i1 - i0, z1, z2, L.left_shift, L.add_in[0],
                                L.add_in[1], L.add_out, q_.enc[L.output].zero_point, L.act_min, L.act_max, out.data() + i0);
      };
      if (threaded && n * 128 >= layer_parallel_macs_ && omp_get_max_threads() > 1) {
#pragma omp parallel
        {
          const int64_t nth = omp_get_num_threads(), th = omp_get_thread_num();
          span(n * th / nth, n * (th + 1) / nth);
        }
      } else {
        span(0, n);
      }
      return;
    }
  }
  (void)is;
}

int32_t IntegerEngine::add_one(size_t l, int32_t a, int32_t b) const {
  // TFLite reference int8 Add: both operands to a common scale with left_shift headroom, sum, rescale.
  const QLayer& L = q_.layers[l];
  const int32_t z1 = q_.enc[L.inputs[0]].zero_point, z2 = q_.enc[L.inputs[1]].zero_point;
  if (q_.float_requant)
    return quant::float_add(a, z1, L.add_scale[0], b, z2, L.add_scale[1], q_.enc[L.output].zero_point, L.act_min, L.act_max);
  return quant::add_requantized(a, z1, b, z2, L.left_shift, L.add_in[0], L.add_in[1], L.add_out,
                                q_.enc[L.output].zero_point, L.act_min, L.act_max);
}

void IntegerEngine::pool_layer(size_t l, const std::vector<int32_t>& in, std::vector<int32_t>& out) const {
  // Windows entirely inside the image take a direct loop (same arithmetic as pool_one: max, or the
  // rounded mean of (q - zp) over kh*kw taps); border windows go through pool_one.
  const QLayer& L = q_.layers[l];
  const Shape& is = q_.graph.values[L.inputs[0]].shape;
  const Shape& os = q_.graph.values[L.output].shape;
  const model::Window& w = q_.graph.nodes[L.node].window;
  const int32_t zp = q_.enc[L.inputs[0]].zero_point;
  const bool is_max = L.op == QOp::MaxPool;
  if (!is_max && q_.float_requant) {
    // ONNX Runtime's float averaging (pool_one): no integer shortcut.
    for (int64_t o = 0; o < numel(os); ++o) out[o] = pool_one(l, in, o);
    return;
  }
  const int64_t h = is[1], wd = is[2], oh = os[1], ow = os[2], taps = w.kernel_h * w.kernel_w;
  for (int64_t c = 0; c < os[0]; ++c) {
    const int32_t* plane = in.data() + c * h * wd;
    for (int64_t y = 0; y < oh; ++y) {
      const int64_t y0 = y * w.stride_h - w.pads[0];
      const bool y_in = y0 >= 0 && y0 + (w.kernel_h - 1) * w.dilation_h < h;
      // The common 2x2 / stride 2 max pool: a straight loop over the row's interior windows.
      if (y_in && is_max && w.kernel_h == 2 && w.kernel_w == 2 && w.stride_h == 2 && w.stride_w == 2 &&
          w.dilation_h == 1 && w.dilation_w == 1 && w.pads[1] == 0 && 2 * ow <= wd) {
        max_pool_2x2_row(plane + y0 * wd, plane + (y0 + 1) * wd, ow, out.data() + (c * oh + y) * ow);
        continue;
      }
      for (int64_t x = 0; x < ow; ++x) {
        const int64_t o = (c * oh + y) * ow + x;
        const int64_t x0 = x * w.stride_w - w.pads[1];
        if (!y_in || x0 < 0 || x0 + (w.kernel_w - 1) * w.dilation_w >= wd) {
          out[o] = pool_one(l, in, o);
          continue;
        }
        const int32_t* win = plane + y0 * wd + x0;
        const int64_t dy = w.dilation_h * wd, dx = w.dilation_w;
        if (is_max) {
          int32_t m = win[0];
          for (int64_t r = 0; r < w.kernel_h; ++r)
            for (int64_t s = 0; s < w.kernel_w; ++s) m = std::max(m, win[r * dy + s * dx]);
          out[o] = m;
          continue;
        }
        int64_t acc = 0;
        for (int64_t r = 0; r < w.kernel_h; ++r)
          for (int64_t s = 0; s < w.kernel_w; ++s) acc += win[r * dy + s * dx] - zp;
        out[o] = static_cast<int32_t>(quant::rounding_divide(acc, taps) + zp);
      }
    }
  }
}

template <typename Input>
int32_t IntegerEngine::pool_one(size_t l, const Input& in, int64_t o) const {
  const QLayer& L = q_.layers[l];
  const Shape& is = q_.graph.values[L.inputs[0]].shape;
  const Shape& os = q_.graph.values[L.output].shape;
  const int32_t zp = q_.enc[L.inputs[0]].zero_point;
  const quant::Encoding& eout = q_.enc[L.output];
  if (L.op == QOp::GlobalAvgPool) {
    const int64_t hw = is[1] * is[2];
    int64_t acc = 0;
    for (int64_t i = 0; i < hw; ++i) acc += in[o * hw + i] - zp;
    if (q_.float_requant) {
      // ONNX Runtime (MLAS QLinearGlobalAveragePool): the integer sum times x_scale / (y_scale * N) in float32
      // (that order: with equal scales a mean of exactly k + 0.5 stays a tie and rounds to even).
      const float scale = static_cast<float>(q_.enc[L.inputs[0]].scale) /
                          (static_cast<float>(eout.scale) * static_cast<float>(hw));
      return quant::float_requantize(static_cast<int32_t>(acc), scale, eout.zero_point, eout.qmin, eout.qmax);
    }
    return static_cast<int32_t>(quant::rounding_divide(acc, hw) + zp);
  }
  const Node& node = q_.graph.nodes[L.node];
  const bool is_max = L.op == QOp::MaxPool;
  const int64_t c = o / (os[1] * os[2]), y = (o / os[2]) % os[1], x = o % os[2];
  const int64_t plane = c * is[1] * is[2];
  int64_t acc = is_max ? std::numeric_limits<int64_t>::min() : 0;
  // Average pooling of (q - zp): padding taps are real zeros, so they add nothing (but may count).
  const int64_t cnt = model::for_each_window_tap(node.window, is[1], is[2], y, x, [&](int64_t iy, int64_t ix) {
    const int64_t v = in[plane + iy * is[2] + ix];
    acc = is_max ? std::max(acc, v) : acc + (v - zp);
  });
  if (is_max) return static_cast<int32_t>(acc == std::numeric_limits<int64_t>::min() ? zp : acc);
  if (q_.float_requant) {
    // ONNX Runtime (QLinearAveragePool): the mean of the dequantized taps in float32, in window order,
    // then quantized with round half to even, in the file's integers (zero point added before rounding).
    const float sx = static_cast<float>(q_.enc[L.inputs[0]].scale);
    float sum = 0.0f;
    model::for_each_window_tap(node.window, is[1], is[2], y, x,
                               [&](int64_t iy, int64_t ix) { sum += sx * static_cast<float>(in[plane + iy * is[2] + ix] - zp); });
    if (cnt > 0) sum /= static_cast<float>(cnt);
    const int32_t off = eout.file_offset;
    const int32_t v = static_cast<int32_t>(std::nearbyint(sum / static_cast<float>(eout.scale) +
                                                          static_cast<float>(eout.zero_point + off))) - off;
    return std::clamp(v, eout.qmin, eout.qmax);
  }
  return static_cast<int32_t>(cnt > 0 ? quant::rounding_divide(acc, cnt) + zp : zp);
}
template int32_t IntegerEngine::pool_one(size_t, const std::vector<int32_t>&, int64_t) const;
template int32_t IntegerEngine::pool_one(size_t, const PatchedValue&, int64_t) const;

void IntegerEngine::run_layers(size_t from, Trace& t) const {
  for (size_t l = from; l < q_.layers.size(); ++l) run_layer(l, t);
}

bool IntegerEngine::grouped_layer(size_t l) const {
  if (!fast_layer(l) || pixels_[l] > kGroupMaxPixels) return false;
  const kernels::Isa isa = kernels::active_isa();
  if (isa == kernels::Isa::Scalar || model::gemm_dims(q_.graph, q_.graph.nodes[q_.layers[l].node]).groups != 1) return false;
  return !(winograd_ && fast_[l].wino_alone && kernels::winograd_available(isa));
}

bool IntegerEngine::winograd_stacks(size_t l, size_t images) const {
  // Transformed weights of a layer where Winograd does not pay alone exist only where stacking may pay
  // (padding 1, within kStackedWinogradWeightBytes): here only the group's size is left to decide.
  if (l >= fast_.size() || fast_[l].wino.u.empty() || fast_[l].wino_alone || images < 2 || !winograd_ ||
      !kernels::winograd_available(kernels::active_isa()))
    return false;
  const Shape& os = q_.graph.values[q_.layers[l].output].shape;
  return kernels::winograd_pays(fast_[l].wino.c, os[1], stacked_cols(os[2], images));
}

void IntegerEngine::run_layer_group(size_t l, Trace* traces, size_t n) const {
  if (n == 1 || !grouped_layer(l)) {
    for (size_t i = 0; i < n; ++i) run_layer(l, traces[i]);
    return;
  }
  const QLayer& L = q_.layers[l];
  thread_local std::vector<LayerIo> io;
  io.resize(n);
  const size_t size = fast_[l].init.size() * static_cast<size_t>(pixels_[l]);
  for (size_t i = 0; i < n; ++i) {
    traces[i].acc[l].resize(size);
    traces[i].values[L.output].resize(size);
    io[i] = {traces[i].values[L.inputs[0]].data(), traces[i].acc[l].data(), traces[i].values[L.output].data()};
  }
  accumulate_fast(l, io.data(), n, false);
}

void IntegerEngine::run(const float* image, Trace& t) const { run_image(image, t, false); }

void IntegerEngine::run_image(const float* image, Trace& t, bool threaded) const {
  t.values.resize(q_.graph.values.size());
  t.acc.resize(q_.layers.size());
  t.values[q_.input] = q_.quantize_input(image);
  for (size_t l = 0; l < q_.layers.size(); ++l) run_layer_impl(l, t, threaded);
}

void IntegerEngine::run_group(const float* const* images, Trace* traces, size_t n) const {
  for (size_t i = 0; i < n; ++i) {
    traces[i].values.resize(q_.graph.values.size());
    traces[i].acc.resize(q_.layers.size());
    traces[i].values[q_.input] = q_.quantize_input(images[i]);
  }
  // Grouped layers take all images at once; each run of other layers goes image by image, so that one
  // image's large early maps stay in cache from layer to layer.
  auto grouped = [&](size_t l) { return n > 1 && grouped_layer(l); };
  for (size_t l = 0; l < q_.layers.size();) {
    if (grouped(l)) {
      run_layer_group(l, traces, n);
      ++l;
      continue;
    }
    size_t end = l + 1;
    while (end < q_.layers.size() && !grouped(end)) ++end;
    for (size_t i = 0; i < n; ++i)
      for (size_t k = l; k < end; ++k) run_layer(k, traces[i]);
    l = end;
  }
}

size_t IntegerEngine::images_per_group(int threads) const {
  const int64_t fit = kGroupTraceBytes / std::max(threads, 1) / std::max<int64_t>(trace_bytes_, 1);
  return std::clamp<size_t>(static_cast<size_t>(std::max<int64_t>(fit, 1)), 1, group_images_);
}

size_t IntegerEngine::group_size(size_t n) const {
  // Enough groups for every thread, each at most images_per_group.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  return std::clamp<size_t>((n + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads), 1,
                            images_per_group(threads));
}

void IntegerEngine::run_batch(const float* const* images, Trace* traces, size_t n) const {
  if (n == 1 && !omp_in_parallel()) return run_image(images[0], traces[0], true);
  const size_t group = group_size(n), groups = (n + group - 1) / group;
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t g = 0; g < groups; ++g) run_group(images + g * group, traces + g * group, std::min(group, n - g * group));
}

void IntegerEngine::predict_batch(const float* const* images, int* top1, size_t n) const {
  if (n == 1 && !omp_in_parallel()) {
    thread_local Trace t;
    run_batch(images, &t, 1);
    top1[0] = predict(t);
    return;
  }
  const size_t group = group_size(n), groups = (n + group - 1) / group;
#pragma omp parallel
  {
    std::vector<Trace> t(group);
#pragma omp for schedule(dynamic, 1)
    for (size_t g = 0; g < groups; ++g) {
      const size_t first = g * group, count = std::min(group, n - first);
      run_group(images + first, t.data(), count);
      for (size_t i = 0; i < count; ++i) top1[first + i] = predict(t[i]);
    }
  }
}

int IntegerEngine::predict(const Trace& t) const {
  const auto& v = t.values[q_.output];
  return model::argmax(v.data(), v.size());
}

EvalResult evaluate(const IntegerEngine& e, const data::Dataset& ds, int64_t limit) {
  quant::check_input_fits(e.qgraph().graph, ds);
  quant::check_labels(e.qgraph().graph, ds);
  EvalResult r;
  r.images = limit > 0 ? std::min(limit, ds.count()) : ds.count();
  r.predictions.assign(static_cast<size_t>(r.images), -1);
  // Blocks of images through predict_batch (its groups of images over the threads).
  const int64_t block = 1024;
  std::vector<const float*> images;
  for (int64_t first = 0; first < r.images; first += block) {
    const int64_t count = std::min(block, r.images - first);
    images.resize(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) images[i] = ds.image(first + i);
    e.predict_batch(images.data(), r.predictions.data() + first, static_cast<size_t>(count));
  }
  for (int64_t i = 0; i < r.images; ++i) r.correct += r.predictions[i] == ds.labels[i];
  r.accuracy = r.images ? static_cast<double>(r.correct) / static_cast<double>(r.images) : 0.0;
  return r;
}

EvalResult evaluate_float(const model::Graph& g, const data::Dataset& ds, int64_t limit) {
  quant::check_input_fits(g, ds);
  quant::check_labels(g, ds);
  const model::FloatEngine fe(g);
  EvalResult r;
  r.images = limit > 0 ? std::min(limit, ds.count()) : ds.count();
  r.predictions.assign(static_cast<size_t>(r.images), -1);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t i = 0; i < r.images; ++i) {
    const std::vector<float> logits = fe.run(ds.image(i));
    r.predictions[i] = model::argmax(logits.data(), logits.size());
  }
  for (int64_t i = 0; i < r.images; ++i) r.correct += r.predictions[i] == ds.labels[i];
  r.accuracy = r.images ? static_cast<double>(r.correct) / static_cast<double>(r.images) : 0.0;
  return r;
}

}  // namespace ftdla::engine
