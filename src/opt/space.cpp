// SPDX-License-Identifier: MIT
#include "ftdla/opt/space.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "ftdla/core/error.hpp"

namespace ftdla::opt {
namespace {

std::string fmt(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

void check_point(const Space& s, const std::vector<double>& x, const char* where) {
  if (x.size() != s.dimension()) {
    throw ValidationError(std::string(where) + ": point has " + std::to_string(x.size()) +
                          " coordinates (expected " + std::to_string(s.dimension()) + ")");
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) {
      throw ValidationError(std::string(where) + ": coordinate '" + s.knobs[i].name + "' is " + fmt(x[i]) +
                            " (expected a finite number)");
    }
  }
}

// Nearest listed value; ties go to the smaller value (values are strictly increasing).
size_t nearest_index(const std::vector<double>& values, double v) {
  const auto it = std::lower_bound(values.begin(), values.end(), v);
  if (it == values.begin()) return 0;
  if (it == values.end()) return values.size() - 1;
  const size_t hi = static_cast<size_t>(it - values.begin());
  return (v - values[hi - 1] <= values[hi] - v) ? hi - 1 : hi;
}

double round_knob(const Knob& k, double v) {
  switch (k.kind) {
    case KnobKind::Real: return std::clamp(v, k.lo, k.hi);
    case KnobKind::Integer: return std::clamp(std::round(v), k.lo, k.hi);
    case KnobKind::Categorical: return k.values[nearest_index(k.values, v)];
  }
  return v;
}

double level_value(const Knob& k, uint64_t level) {
  return k.kind == KnobKind::Categorical ? k.values[level] : k.lo + static_cast<double>(level);
}

}  // namespace

const char* to_string(KnobKind kind) {
  switch (kind) {
    case KnobKind::Integer: return "integer";
    case KnobKind::Real: return "real";
    case KnobKind::Categorical: return "categorical";
  }
  return "?";
}

Knob Knob::integer(std::string name, int64_t lo, int64_t hi) {
  return Knob{std::move(name), KnobKind::Integer, static_cast<double>(lo), static_cast<double>(hi), {}};
}
Knob Knob::real(std::string name, double lo, double hi) {
  return Knob{std::move(name), KnobKind::Real, lo, hi, {}};
}
Knob Knob::categorical(std::string name, std::vector<double> values) {
  Knob k{std::move(name), KnobKind::Categorical, 0.0, 0.0, std::move(values)};
  if (!k.values.empty()) {
    k.lo = k.values.front();
    k.hi = k.values.back();
  }
  return k;
}

uint64_t Knob::levels() const {
  switch (kind) {
    case KnobKind::Real: return 0;
    case KnobKind::Integer: return static_cast<uint64_t>(hi - lo) + 1;
    case KnobKind::Categorical: return values.size();
  }
  return 0;
}

std::vector<std::string> Space::problems() const {
  std::vector<std::string> out;
  if (knobs.empty()) out.push_back("opt.space: has no knobs (expected at least one)");
  std::set<std::string> seen;
  for (size_t i = 0; i < knobs.size(); ++i) {
    const Knob& k = knobs[i];
    const std::string where = "opt.space." + (k.name.empty() ? "knobs[" + std::to_string(i) + "]" : k.name);
    if (k.name.empty()) out.push_back(where + ": name is empty");
    else if (!seen.insert(k.name).second) out.push_back(where + ": duplicate knob name");
    if (k.kind == KnobKind::Categorical) {
      if (k.values.empty()) {
        out.push_back(where + ": categorical knob has no values (expected at least one)");
        continue;
      }
      for (size_t j = 0; j < k.values.size(); ++j) {
        if (!std::isfinite(k.values[j])) {
          out.push_back(where + ": value " + fmt(k.values[j]) + " is not finite");
        } else if (j > 0 && !(k.values[j] > k.values[j - 1])) {
          out.push_back(where + ": values must be strictly increasing (got " + fmt(k.values[j - 1]) + " then " +
                        fmt(k.values[j]) + ")");
        }
      }
      continue;
    }
    if (!std::isfinite(k.lo) || !std::isfinite(k.hi)) {
      out.push_back(where + ": bounds must be finite (got lo = " + fmt(k.lo) + ", hi = " + fmt(k.hi) + ")");
      continue;
    }
    if (k.lo > k.hi) {
      out.push_back(where + ": lo > hi (got lo = " + fmt(k.lo) + ", hi = " + fmt(k.hi) + ")");
    }
    if (k.kind == KnobKind::Integer) {
      if (k.lo != std::floor(k.lo) || k.hi != std::floor(k.hi)) {
        out.push_back(where + ": integer knob needs integral bounds (got lo = " + fmt(k.lo) +
                      ", hi = " + fmt(k.hi) + ")");
      } else if (k.hi - k.lo > 9.0e15) {
        out.push_back(where + ": integer range too wide (got " + fmt(k.hi - k.lo) + " levels, expected < 9e15)");
      }
    }
  }
  return out;
}

void Space::validate() const {
  const auto p = problems();
  if (p.empty()) return;
  std::string msg;
  for (const auto& s : p) msg += (msg.empty() ? "" : "; ") + s;
  throw ConfigError(msg);
}

bool Space::is_finite() const {
  return std::none_of(knobs.begin(), knobs.end(), [](const Knob& k) { return k.kind == KnobKind::Real; });
}

std::optional<uint64_t> Space::lattice_size() const {
  if (!is_finite()) return std::nullopt;
  uint64_t n = 1;
  for (const Knob& k : knobs) {
    const uint64_t l = k.levels();
    if (l != 0 && n > std::numeric_limits<uint64_t>::max() / l) return std::nullopt;
    n *= l;
  }
  return n;
}

std::vector<double> Space::round(const std::vector<double>& x) const {
  check_point(*this, x, "Space::round()");
  std::vector<double> r(x.size());
  for (size_t i = 0; i < x.size(); ++i) r[i] = round_knob(knobs[i], x[i]);
  return r;
}

uint64_t Space::level_of(size_t knob, double value) const {
  const Knob& k = knobs[knob];
  if (k.kind == KnobKind::Categorical) return nearest_index(k.values, value);
  FTDLA_ASSERT(k.kind == KnobKind::Integer);
  return static_cast<uint64_t>(std::clamp(std::round(value), k.lo, k.hi) - k.lo);
}

std::vector<double> Space::to_unit(const std::vector<double>& x) const {
  const std::vector<double> r = round(x);
  std::vector<double> u(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    const Knob& k = knobs[i];
    if (k.kind == KnobKind::Real) {
      u[i] = k.hi > k.lo ? (r[i] - k.lo) / (k.hi - k.lo) : 0.0;
    } else {
      const uint64_t levels = k.levels();
      u[i] = levels > 1 ? static_cast<double>(level_of(i, r[i])) / static_cast<double>(levels - 1) : 0.0;
    }
  }
  return u;
}

namespace {
/// Map u in [0,1]^d to a point: real knobs linearly, discrete knobs through `level(v, levels)`.
template <typename Level>
std::vector<double> map_unit(const Space& sp, const std::vector<double>& u, const char* where, Level&& level) {
  check_point(sp, u, where);
  std::vector<double> x(u.size());
  for (size_t i = 0; i < u.size(); ++i) {
    const Knob& k = sp.knobs[i];
    const double v = std::clamp(u[i], 0.0, 1.0);
    x[i] = k.kind == KnobKind::Real ? k.lo + v * (k.hi - k.lo) : level_value(k, level(v, k.levels()));
  }
  return x;
}
}  // namespace

std::vector<double> Space::from_unit(const std::vector<double>& u) const {
  // Nearest level on the normalized axis (the inverse of to_unit).
  return map_unit(*this, u, "Space::from_unit()", [](double v, uint64_t levels) {
    return static_cast<uint64_t>(std::round(v * static_cast<double>(levels - 1)));
  });
}

std::vector<double> Space::from_uniform(const std::vector<double>& u) const {
  // Equal probability mass per level.
  return map_unit(*this, u, "Space::from_uniform()", [](double v, uint64_t levels) {
    return std::min(levels - 1, static_cast<uint64_t>(v * static_cast<double>(levels)));
  });
}

std::vector<double> Space::lattice_point(uint64_t index) const {
  const auto size = lattice_size();
  if (!is_finite()) throw ConfigError("Space::lattice_point(): the space has a real knob (expected a lattice)");
  if (size && index >= *size) {
    throw ValidationError("Space::lattice_point(): index " + std::to_string(index) + " out of range (size " +
                          std::to_string(*size) + ")");
  }
  std::vector<double> x(knobs.size());
  for (size_t i = knobs.size(); i-- > 0;) {
    const uint64_t l = knobs[i].levels();
    x[i] = level_value(knobs[i], index % l);
    index /= l;
  }
  return x;
}

uint64_t Space::lattice_index(const std::vector<double>& x) const {
  if (!is_finite()) throw ConfigError("Space::lattice_index(): the space has a real knob (expected a lattice)");
  if (!lattice_size()) throw ConfigError("Space::lattice_index(): the lattice has more than 2^64 points");
  const std::vector<double> r = round(x);
  uint64_t index = 0;
  for (size_t i = 0; i < r.size(); ++i) index = index * knobs[i].levels() + level_of(i, r[i]);
  return index;
}

std::vector<std::vector<double>> Space::lattice(uint64_t max_points) const {
  for (const Knob& k : knobs) {
    if (k.kind == KnobKind::Real) {
      throw ConfigError("Space::lattice(): knob '" + k.name + "' is real (expected only integer/categorical knobs)");
    }
  }
  const auto size = lattice_size();
  if (!size || *size > max_points) {
    throw ConfigError("Space::lattice(): the lattice has " + (size ? std::to_string(*size) : std::string("> 2^64")) +
                      " points (expected at most " + std::to_string(max_points) + ")");
  }
  std::vector<std::vector<double>> out;
  out.reserve(*size);
  for (uint64_t i = 0; i < *size; ++i) out.push_back(lattice_point(i));
  return out;
}

std::string to_string(const std::vector<double>& x) {
  std::string s = "(";
  for (size_t i = 0; i < x.size(); ++i) s += (i ? ", " : "") + fmt(x[i]);
  return s + ")";
}

}  // namespace ftdla::opt
