// SPDX-License-Identifier: MIT
// Conv -> GEMM lowering shared by the float and integer engines and the accelerator mapping.
// For group g: col[kk][m] with kk = (c, r, s) over the group's C/g input channels (row-major) and
// m = (oh, ow) row-major over the output; out[k][m] = sum_kk w[k][kk] * col[kk][m].
#pragma once
#include <cstdint>

#include "ftdla/model/graph.hpp"

namespace ftdla::model {

/// GEMM view of a Conv or Gemm node: M output pixels x N output channels x K reduction length, per group.
struct GemmDims {
  int64_t groups = 1;
  int64_t m = 1;  ///< output pixels (oh * ow; 1 for Gemm)
  int64_t n = 1;  ///< output channels per group
  int64_t k = 1;  ///< reduction length (C/g * R * S; in features for Gemm)
};

inline GemmDims gemm_dims(const Graph& g, const Node& node) {
  GemmDims d;
  if (node.op == OpKind::Conv) {
    const Shape& out = g.values[node.output].shape;
    d.groups = node.groups;
    d.m = out[1] * out[2];
    d.n = node.weight.shape[0] / node.groups;
    d.k = node.weight.shape[1] * node.weight.shape[2] * node.weight.shape[3];
  } else {
    d.n = node.weight.shape[0];
    d.k = node.weight.shape[1];
  }
  return d;
}

/// Fill col [K x M] for group `group` of a conv node; out-of-image taps get `pad`.
/// `in` is [C,H,W]; `in_shape` its shape; `out_shape` [K,OH,OW].
template <typename T>
void im2col(const T* in, const Shape& in_shape, const Shape& out_shape, const Node& node, int64_t group, T pad,
            T* col) {
  const Window& w = node.window;
  const int64_t cg = node.weight.shape[1], kh = w.kernel_h, kw = w.kernel_w;
  const int64_t h = in_shape[1], wd = in_shape[2], oh = out_shape[1], ow = out_shape[2];
  const int64_t m = oh * ow;
  for (int64_t c = 0; c < cg; ++c) {
    const T* plane = in + (group * cg + c) * h * wd;
    for (int64_t r = 0; r < kh; ++r) {
      for (int64_t s = 0; s < kw; ++s) {
        T* row = col + ((c * kh + r) * kw + s) * m;
        for (int64_t y = 0; y < oh; ++y) {
          const int64_t iy = y * w.stride_h - w.pads[0] + r * w.dilation_h;
          T* dst = row + y * ow;
          if (iy < 0 || iy >= h) {
            for (int64_t x = 0; x < ow; ++x) dst[x] = pad;
            continue;
          }
          const T* src = plane + iy * wd;
          for (int64_t x = 0; x < ow; ++x) {
            const int64_t ix = x * w.stride_w - w.pads[1] + s * w.dilation_w;
            dst[x] = (ix < 0 || ix >= wd) ? pad : src[ix];
          }
        }
      }
    }
  }
}

/// Visit the pooling window of output (y, x) in floor/ceil mode: f(iy, ix) for in-image taps; returns
/// the number of taps counted for averaging (includes pad taps when count_include_pad).
template <typename F>
int64_t for_each_window_tap(const Window& w, int64_t h, int64_t wd, int64_t y, int64_t x, F&& f) {
  const int64_t y0 = y * w.stride_h - w.pads[0], x0 = x * w.stride_w - w.pads[1];
  int64_t counted = 0;
  for (int64_t r = 0; r < w.kernel_h; ++r) {
    const int64_t iy = y0 + r * w.dilation_h;
    if (iy >= h + w.pads[2]) break;  // ceil-mode windows may run past the padding: not counted
    for (int64_t s = 0; s < w.kernel_w; ++s) {
      const int64_t ix = x0 + s * w.dilation_w;
      if (ix >= wd + w.pads[3]) break;
      const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
      if (inside) f(iy, ix);
      if (inside || w.count_include_pad) ++counted;
    }
  }
  return counted;
}

/// Visit every output (oy, ox) of a window op whose window reads input position (y, x), with the tap
/// (r, s) that reads it: f(oy, ox, r, s). `out_h`, `out_w` bound the output.
template <typename F>
void for_each_output_reading(const Window& w, int64_t y, int64_t x, int64_t out_h, int64_t out_w, F&& f) {
  for (int64_t r = 0; r < w.kernel_h; ++r) {
    const int64_t ny = y + w.pads[0] - r * w.dilation_h;
    if (ny < 0 || ny % w.stride_h) continue;
    const int64_t oy = ny / w.stride_h;
    if (oy >= out_h) continue;
    for (int64_t s = 0; s < w.kernel_w; ++s) {
      const int64_t nx = x + w.pads[1] - s * w.dilation_w;
      if (nx < 0 || nx % w.stride_w) continue;
      const int64_t ox = nx / w.stride_w;
      if (ox < out_w) f(oy, ox, r, s);
    }
  }
}

}  // namespace ftdla::model
