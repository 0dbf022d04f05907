// SPDX-License-Identifier: MIT
// Deterministic, explicitly seeded random numbers. Campaigns derive one stream per
// (seed, index) so results never depend on thread or process count.
#pragma once
#include <cmath>
#include <cstdint>

namespace ftdla {

/// SplitMix64 finalizer: a strong 64-bit mix (Steele, Lea, Flood, OOPSLA 2014).
constexpr uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Small fast generator (xoshiro256** by Blackman & Vigna), seeded through SplitMix64.
/// Satisfies UniformRandomBitGenerator so it works with <random> distributions.
class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed = 0) {
    uint64_t z = seed;
    for (auto& w : s_) { z = mix64(z); w = z; }
  }
  /// Stream number `index` of seed `seed`: independent of how work is split among threads/ranks.
  static Rng derive(uint64_t seed, uint64_t index) { return Rng(mix64(seed ^ mix64(index + 0x632be59bd9b4e019ULL))); }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~uint64_t{0}; }
  result_type operator()() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform integer in [0, n) without modulo bias (Lemire's method); n > 0.
  uint64_t below(uint64_t n) {
    __uint128_t m = static_cast<__uint128_t>((*this)()) * n;
    uint64_t l = static_cast<uint64_t>(m);
    if (l < n) {
      const uint64_t t = -n % n;
      while (l < t) { m = static_cast<__uint128_t>((*this)()) * n; l = static_cast<uint64_t>(m); }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  /// Standard normal (Box-Muller; deterministic, no cached second value).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4]{};
};

}  // namespace ftdla
