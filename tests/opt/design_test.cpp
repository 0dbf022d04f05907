// SPDX-License-Identifier: MIT
#include "ftdla/opt/design.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ftdla::opt {
namespace {

TEST(LatinHypercube, EachStratumOfEachDimensionHoldsExactlyOnePoint) {
  Rng rng(3);
  for (size_t n : {1u, 2u, 7u, 20u}) {
    for (size_t d : {1u, 3u, 6u}) {
      const auto pts = latin_hypercube(n, d, rng);
      ASSERT_EQ(pts.size(), n);
      for (size_t k = 0; k < d; ++k) {
        std::set<size_t> strata;
        for (const auto& p : pts) {
          ASSERT_EQ(p.size(), d);
          ASSERT_GE(p[k], 0.0);
          ASSERT_LT(p[k], 1.0);
          strata.insert(static_cast<size_t>(p[k] * static_cast<double>(n)));
        }
        EXPECT_EQ(strata.size(), n) << "n=" << n << " d=" << d << " dim " << k;
      }
    }
  }
}

TEST(LatinHypercube, MaximinSelectionSpreadsPointsAtLeastAsWellAsOneDraw) {
  auto min_dist2 = [](const std::vector<std::vector<double>>& pts) {
    double m = 1e300;
    for (size_t i = 0; i < pts.size(); ++i)
      for (size_t j = i + 1; j < pts.size(); ++j) {
        double s = 0;
        for (size_t k = 0; k < pts[i].size(); ++k) s += (pts[i][k] - pts[j][k]) * (pts[i][k] - pts[j][k]);
        m = std::min(m, s);
      }
    return m;
  };
  // The best of 20 designs includes the first draw of the same stream, so it can only be better.
  Rng a(9), b(9);
  EXPECT_GE(min_dist2(latin_hypercube(10, 2, a, 20)), min_dist2(latin_hypercube(10, 2, b, 1)));
  Rng c(9), d(9);
  EXPECT_EQ(latin_hypercube(10, 3, c), latin_hypercube(10, 3, d));  // deterministic
}

}  // namespace
}  // namespace ftdla::opt
