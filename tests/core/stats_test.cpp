#include "ftdla/core/stats.hpp"

#include <gtest/gtest.h>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/rng.hpp"

namespace ftdla {
namespace {

TEST(Wilson, MatchesHandComputedInterval) {
  // 5 of 100 at 95%: z = 1.959964; center = (0.05 + z²/200)/(1+z²/100) = 0.068815...,
  // half = z*sqrt(0.05*0.95/100 + z²/40000)/(1+z²/100) = 0.046755... -> [0.02154, 0.11175].
  const RateEstimate r = wilson(5, 100);
  EXPECT_DOUBLE_EQ(r.rate, 0.05);
  EXPECT_NEAR(r.lo, 0.021543, 1e-5);
  EXPECT_NEAR(r.hi, 0.111750, 1e-5);
}

TEST(Wilson, ZeroSuccessesGiveRuleOfThreeUpperBound) {
  const RateEstimate r = wilson(0, 1000);
  EXPECT_EQ(r.lo, 0.0);
  // Wilson with 0 successes: hi = (z²/n) / (1 + z²/n) = 3.8415 / 1003.8415 (close to the "rule of 3").
  EXPECT_NEAR(r.hi, 3.841459 / 1003.841459, 1e-7);
}

TEST(Wilson, NoTrialsIsUninformative) {
  const RateEstimate r = wilson(0, 0);
  EXPECT_EQ(r.lo, 0.0);
  EXPECT_EQ(r.hi, 1.0);
}

TEST(NormalQuantile, KnownValues) {
  EXPECT_NEAR(normal_quantile_two_sided(0.95), 1.959964, 1e-6);
  EXPECT_NEAR(normal_quantile_two_sided(0.99), 2.575829, 1e-6);
  EXPECT_THROW(normal_quantile_two_sided(1.0), ConfigError);
  EXPECT_THROW(normal_quantile_two_sided(0.0), ConfigError);
}

TEST(Leveugle, MatchesFactsTable) {
  // The published table rounds to nearest (4,899 = 4899.2); we round up so the margin is guaranteed.
  EXPECT_EQ(leveugle_sample_size(1e4, 0.01, 0.95), 4900u);
  EXPECT_EQ(leveugle_sample_size(1e6, 0.01, 0.95), 9513u);
  EXPECT_EQ(leveugle_sample_size(1e4, 0.05, 0.95), 370u);
  EXPECT_EQ(leveugle_sample_size(0, 0.05, 0.95), 385u);  // 384.15 rounds up
  EXPECT_THROW(leveugle_sample_size(1e4, 0.0, 0.95), ConfigError);
  EXPECT_THROW(leveugle_sample_size(1e4, 0.01, 1.5), ConfigError);
}

TEST(Bits, FlipTwiceIsIdentity) {
  for (int64_t v : {-128, -1, 0, 5, 127}) {
    for (int b = 0; b < 8; ++b) {
      EXPECT_EQ(flip_bit(flip_bit(v, b, 8, true), b, 8, true), v);
    }
  }
  EXPECT_EQ(flip_bit(1, 7, 8, true), -127);
  EXPECT_EQ(flip_bit(1, 7, 8, false), 129);
  EXPECT_EQ(wrap_signed(int64_t{1} << 31, 32), -(int64_t{1} << 31));
  EXPECT_EQ(force_bit(0, 3, 8, false, true), 8);
  EXPECT_EQ(sign_extend(0xFF, 8), -1);
}

TEST(Rng, DerivedStreamsAreReproducibleAndDistinct) {
  Rng a = Rng::derive(42, 7), b = Rng::derive(42, 7), c = Rng::derive(42, 8);
  const uint64_t x = a();
  EXPECT_EQ(x, b());
  EXPECT_NE(x, c());
  Rng r(1);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.below(10), 10u);
}

}  // namespace
}  // namespace ftdla
