// SPDX-License-Identifier: MIT
// Internal: lenient reads of result JSON fields (a missing or non-numeric field reads as NaN).
#pragma once
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace ftdla::report {

/// j[key] as a number, or `fallback` if j is not an object, lacks key, or it is not a number.
inline double number(const nlohmann::json& j, const char* key, double fallback = std::numeric_limits<double>::quiet_NaN()) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

/// j[key] as a [lo, hi] pair of numbers, or NaNs.
inline std::pair<double, double> interval(const nlohmann::json& j, const char* key) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  if (!j.is_object()) return {nan, nan};
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_number() || !(*it)[1].is_number()) return {nan, nan};
  return {(*it)[0].get<double>(), (*it)[1].get<double>()};
}

}  // namespace ftdla::report
