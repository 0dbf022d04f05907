// SPDX-License-Identifier: MIT
// Design space of a black-box search: named integer, real and numeric-categorical knobs, rounding to
// valid points, normalization to the unit cube, and lattice enumeration for grid search.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ftdla::opt {

/// What values a knob may take.
enum class KnobKind {
  Integer,      ///< every integer in [lo, hi]
  Real,         ///< every real in [lo, hi]
  Categorical,  ///< one of `values` (numbers, strictly increasing; treated as ordered levels)
};

/// "integer", "real", "categorical".
const char* to_string(KnobKind kind);

/// One coordinate of the design space.
struct Knob {
  std::string name;               ///< unique, non-empty; used in error messages and reports
  KnobKind kind = KnobKind::Real;
  double lo = 0.0;                ///< Integer/Real: lower bound (Integer: an integral value)
  double hi = 1.0;                ///< Integer/Real: upper bound, hi >= lo (lo == hi fixes the knob)
  std::vector<double> values;     ///< Categorical only: allowed values, finite and strictly increasing

  static Knob integer(std::string name, int64_t lo, int64_t hi);
  static Knob real(std::string name, double lo, double hi);
  static Knob categorical(std::string name, std::vector<double> values);

  /// Number of distinct values: hi - lo + 1 (Integer), values.size() (Categorical), 0 for Real.
  uint64_t levels() const;
};

/// A box of knobs. Points are `std::vector<double>` in knob order, in the knobs' own units.
///
/// Normalization: Real knobs map linearly [lo, hi] -> [0, 1]; Integer and Categorical knobs map their
/// level index i in [0, L) to i / (L - 1) (0 when L == 1), so a numeric categorical is an ordinal knob.
/// (Garrido-Merchan & Hernandez-Lobato 2020 use one-hot argmax for unordered categoricals; ftdla's
/// categoricals are numeric choices such as word widths, for which the order carries information.)
struct Space {
  std::vector<Knob> knobs;

  /// All problems found (empty when valid), each "opt.space.<knob>: what (got X, expected Y)".
  std::vector<std::string> problems() const;
  /// Throws ConfigError listing every problem (see problems()). Checks: at least one knob, names
  /// non-empty and unique, bounds finite with lo <= hi, integer bounds integral, categorical values
  /// non-empty, finite and strictly increasing.
  void validate() const;

  /// Number of knobs d.
  size_t dimension() const { return knobs.size(); }
  /// True when every knob is Integer or Categorical (the space is a finite lattice).
  bool is_finite() const;
  /// Number of lattice points (product of levels); nullopt when a knob is Real or the product exceeds
  /// 2^64 - 1.
  std::optional<uint64_t> lattice_size() const;

  /// Nearest valid point: Real clamped to [lo, hi], Integer rounded half away from zero then clamped,
  /// Categorical snapped to the nearest listed value (ties -> the smaller value).
  /// Throws ValidationError when x has the wrong size or a non-finite coordinate.
  std::vector<double> round(const std::vector<double>& x) const;
  /// Map a point to [0,1]^d (see class comment). The point is rounded first. Throws as round().
  std::vector<double> to_unit(const std::vector<double>& x) const;
  /// Inverse of to_unit: u in [0,1]^d (clamped) -> the valid point whose normalized value is nearest.
  std::vector<double> from_unit(const std::vector<double>& u) const;
  /// Map u in [0,1)^d to a point so that uniform u gives a uniform point: every level of a discrete
  /// knob gets the same probability mass 1/L (level floor(u L)). Used by random sampling and LHS.
  std::vector<double> from_uniform(const std::vector<double>& u) const;

  /// Level index of coordinate `knob` of a valid (rounded) point, in [0, levels).
  uint64_t level_of(size_t knob, double value) const;
  /// Lattice point number `index` in [0, lattice_size()): mixed radix, the LAST knob varies fastest.
  /// Throws ConfigError when the space is not finite, ValidationError when index is out of range.
  std::vector<double> lattice_point(uint64_t index) const;
  /// Inverse of lattice_point for a valid point (rounded first). Throws like lattice_point().
  uint64_t lattice_index(const std::vector<double>& x) const;
  /// Every lattice point in lattice_point order. Throws ConfigError when the space is not finite or has
  /// more than `max_points` points (the message gives the size).
  std::vector<std::vector<double>> lattice(uint64_t max_points = 1'000'000) const;
};

/// "(3, 0.25, 16)": a point for error messages and logs.
std::string to_string(const std::vector<double>& x);

}  // namespace ftdla::opt
