// SPDX-License-Identifier: MIT
// Small text helpers for error messages.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

namespace ftdla {

/// Levenshtein distance (insertions, deletions, substitutions all cost 1).
inline std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// Longest key prefix compared for a suggestion: edit_distance is O(|a| |b|), and a huge key is no typo.
inline constexpr std::size_t kSuggestPrefix = 256;

/// The candidate closest to `key` by edit distance (first on ties); empty if there are none.
inline std::string closest_match(const std::string& key, const std::vector<std::string>& candidates) {
  const std::string k = key.substr(0, kSuggestPrefix);
  std::string best;
  std::size_t best_d = ~std::size_t{0};
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(k, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

/// `s` for an error message: at most `max` characters, cut ones replaced by "..." (input may be huge).
inline std::string excerpt(const std::string& s, std::size_t max = 80) {
  // Names and headers come from files: control bytes (a newline would split a one-line error) and
  // non-ASCII bytes are shown as \xNN.
  static const char* hex = "0123456789abcdef";
  std::string r;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      r += static_cast<char>(c);
    } else {
      r += "\\x";
      r += hex[c >> 4];
      r += hex[c & 15];
    }
  }
  return s.size() <= max ? r : r + "...";
}

/// Quote for /bin/sh: wrap in single quotes, each embedded ' becomes '\''.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace ftdla
