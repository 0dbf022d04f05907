// SPDX-License-Identifier: MIT
#include "ftdla/opt/design.hpp"

#include <limits>
#include <numeric>
#include <utility>

#include "ftdla/core/error.hpp"

namespace ftdla::opt {

std::vector<std::vector<double>> latin_hypercube(size_t n, size_t d, Rng& rng, size_t tries) {
  FTDLA_ASSERT(d >= 1 && tries >= 1);
  std::vector<std::vector<double>> best;
  double best_min = -1.0;
  std::vector<size_t> perm(n);
  for (size_t t = 0; t < tries; ++t) {
    std::vector<std::vector<double>> pts(n, std::vector<double>(d));
    for (size_t k = 0; k < d; ++k) {
      std::iota(perm.begin(), perm.end(), size_t{0});
      for (size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);  // Fisher-Yates
      for (size_t i = 0; i < n; ++i) {
        pts[i][k] = (static_cast<double>(perm[i]) + rng.uniform()) / static_cast<double>(n);
      }
    }
    double min_d2 = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 1; j < n; ++j) {
        double s = 0.0;
        for (size_t k = 0; k < d; ++k) s += (pts[i][k] - pts[j][k]) * (pts[i][k] - pts[j][k]);
        min_d2 = std::min(min_d2, s);
      }
    }
    if (min_d2 > best_min) {
      best_min = min_d2;
      best = std::move(pts);
    }
  }
  return best;
}

}  // namespace ftdla::opt
