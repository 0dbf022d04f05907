// SPDX-License-Identifier: MIT
// QGraph::quantize_input on its own, compiled with -fno-trapping-math (see src/quant/CMakeLists.txt): the
// flag only tells the compiler that floating-point exceptions are not observed, so it may evaluate both
// sides of the clamps' selects and vectorize the loop; every value stays the IEEE result.
#include <cmath>

#include "ftdla/quant/float_requant.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::quant {

std::vector<int32_t> QGraph::quantize_input(const float* image) const {
  const Encoding& e = enc[input];
  const int64_t n = numel(graph.values[input].shape);
  std::vector<int32_t> q(static_cast<size_t>(n));
  if (float_requant) {
    // ONNX Runtime's QuantizeLinear: x / scale in float32, clamped, rounded half to even.
    const float s = static_cast<float>(e.scale);
    for (int64_t i = 0; i < n; ++i) q[i] = float_to_register(image[i] / s, e.zero_point, e.qmin, e.qmax);
    return q;
  }
  // clamp(quantize_real(x), qmin, qmax) inline and without branches (an out-of-line call per pixel was a
  // tenth of a LeNet-5 inference): x / scale is clamped to one step beyond the register's range first
  // (rounding is monotonic, and NaN lands on lo, as in round_clamp), then rounded half away from zero as
  // round_half_away does. A test checks it against round_clamp on ties, NaN, infinities and huge values.
  // This file is built with -fno-trapping-math, which lets GCC vectorize the selects (same IEEE values).
  const double scale = e.scale, lo = e.qmin - e.zero_point - 1.0, hi = e.qmax - e.zero_point + 1.0;
  const int32_t zp = e.zero_point, qmin = e.qmin, qmax = e.qmax;
  int32_t* const out = q.data();
  for (int64_t i = 0; i < n; ++i) {
    double x = static_cast<double>(image[i]) / scale;
    x = x >= lo ? x : lo;
    x = x <= hi ? x : hi;
    const double t = std::trunc(x), f = x - t;
    const int32_t r = static_cast<int32_t>(t) + (f >= 0.5 ? 1 : 0) - (f <= -0.5 ? 1 : 0) + zp;
    out[i] = r < qmin ? qmin : r > qmax ? qmax : r;
  }
  return q;
}

}  // namespace ftdla::quant
