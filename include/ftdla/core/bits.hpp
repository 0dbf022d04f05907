// SPDX-License-Identifier: MIT
// Bit helpers for fixed-width two's-complement and unsigned registers.
// Convention everywhere in ftdla: bit 0 is the LSB; "the top h bits" of a w-bit register are bits [w-h, w).
#pragma once
#include <cstdint>

namespace ftdla {

/// Mask of the low `width` bits (0 <= width <= 63).
constexpr uint64_t low_mask(int width) { return width >= 64 ? ~uint64_t{0} : ((uint64_t{1} << width) - 1); }

/// Interpret the low `width` bits of `raw` as a two's-complement number.
constexpr int64_t sign_extend(uint64_t raw, int width) {
  const uint64_t m = low_mask(width);
  raw &= m;
  const uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((raw ^ sign)) - static_cast<int64_t>(sign);
}

/// Wrap `v` to a `width`-bit two's-complement register (what a P-bit accumulator holds after overflow).
constexpr int64_t wrap_signed(int64_t v, int width) { return sign_extend(static_cast<uint64_t>(v), width); }

/// Flip bit `bit` of a value held in a `width`-bit register; `is_signed` says how the register is read back.
constexpr int64_t flip_bit(int64_t v, int bit, int width, bool is_signed) {
  const uint64_t raw = (static_cast<uint64_t>(v) ^ (uint64_t{1} << bit)) & low_mask(width);
  return is_signed ? sign_extend(raw, width) : static_cast<int64_t>(raw);
}

/// Force bit `bit` to `value` (stuck-at fault) in a `width`-bit register.
constexpr int64_t force_bit(int64_t v, int bit, int width, bool is_signed, bool value) {
  uint64_t raw = static_cast<uint64_t>(v) & low_mask(width);
  raw = value ? (raw | (uint64_t{1} << bit)) : (raw & ~(uint64_t{1} << bit));
  return is_signed ? sign_extend(raw, width) : static_cast<int64_t>(raw);
}

/// Value of bit `bit` of `v` (two's complement).
constexpr bool get_bit(int64_t v, int bit) { return (static_cast<uint64_t>(v) >> bit) & 1u; }

}  // namespace ftdla
