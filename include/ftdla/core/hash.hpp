// SPDX-License-Identifier: MIT
// FNV-1a 64: a cheap, stable content hash for fingerprints and file checksums (not cryptographic: it
// catches truncation and accidental edits, not a deliberate forgery).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace ftdla {

inline constexpr uint64_t kFnv1aBasis = 14695981039346656037ULL;

inline uint64_t fnv1a64(const void* data, size_t n, uint64_t h = kFnv1aBasis) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

inline uint64_t fnv1a64(const std::string& s, uint64_t h = kFnv1aBasis) { return fnv1a64(s.data(), s.size(), h); }

/// 16 lower-case hex digits.
inline std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace ftdla
