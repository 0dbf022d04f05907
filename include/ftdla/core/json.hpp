// SPDX-License-Identifier: MIT
// Reading untrusted JSON: bounded nesting, strict integers, short echoes in error messages.
#pragma once
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ftdla/core/error.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla {

/// Deeper nesting than any ftdla file uses; a hostile document (millions of '[') is refused early
/// instead of exhausting memory.
inline constexpr int kMaxJsonDepth = 64;

/// A JSON value for an error message: its dump, cut to 80 characters.
inline std::string json_excerpt(const nlohmann::json& v) { return excerpt(v.dump()); }

/// Parse `text`; throws E ("<where>: not valid JSON (...)" or "<where>: JSON nested deeper than 64 levels").
template <typename E = ImportError>
nlohmann::json parse_json(const std::string& text, const std::string& where) {
  struct TooDeep {};
  try {
    return nlohmann::json::parse(text, [](int depth, nlohmann::json::parse_event_t ev, nlohmann::json&) {
      if (depth > kMaxJsonDepth && (ev == nlohmann::json::parse_event_t::object_start ||
                                    ev == nlohmann::json::parse_event_t::array_start))
        throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    throw E(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const nlohmann::json::exception& e) {
    throw E(where + ": not valid JSON (" + excerpt(e.what(), 160) + ")");
  }
}

/// An integral JSON number in [lo, hi]: an integer, or a float with an integral value (optimizers emit
/// reals). Anything else (4.7, 4294967302 for an int, a string) throws ConfigError naming `path`.
inline int64_t json_int(const nlohmann::json& v, const std::string& path, int64_t lo, int64_t hi) {
  bool ok = false;
  int64_t x = 0;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    ok = u <= static_cast<uint64_t>(INT64_MAX);
    x = static_cast<int64_t>(u);
  } else if (v.is_number_integer()) {
    ok = true;
    x = v.get<int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    // |d| < 2^53: exactly representable, so the integral test is exact.
    ok = std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0;
    x = ok ? static_cast<int64_t>(d) : 0;
  }
  if (!ok) throw ConfigError(path + ": must be an integer (got " + json_excerpt(v) + ")");
  if (x < lo || x > hi)
    throw ConfigError(path + ": must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (got " +
                      json_excerpt(v) + ")");
  return x;
}

}  // namespace ftdla
