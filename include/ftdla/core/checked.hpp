// SPDX-License-Identifier: MIT
// Overflow-checked int64 arithmetic for sizes derived from untrusted input (model shapes, file headers).
#pragma once
#include <cstdint>
#include <string>

#include "ftdla/core/error.hpp"

namespace ftdla {

[[noreturn, gnu::cold, gnu::noinline]] inline void throw_overflow(const std::string& what, int64_t a, int64_t b, char op) {
  throw ValidationError(what + ": size overflows int64 (" + std::to_string(a) + " " + op + " " + std::to_string(b) + ")");
}

/// a * b; throws ValidationError naming `what` on int64 overflow.
inline int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw_overflow(what, a, b, '*');
  return r;
}

/// a + b; throws ValidationError naming `what` on int64 overflow.
inline int64_t checked_add(int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw_overflow(what, a, b, '+');
  return r;
}

}  // namespace ftdla
