// SPDX-License-Identifier: MIT
#include "ftdla/cost/component_table.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ftdla/core/error.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::cost {
namespace {

struct Field {
  const char* key;
  double ComponentTable::*member;
};

// Every JSON key, in the order of the struct's members.
constexpr std::array<Field, 22> kFields{{
    {"adder_8b_area_um2", &ComponentTable::adder_8b_area_um2},
    {"adder_16b_area_um2", &ComponentTable::adder_16b_area_um2},
    {"adder_32b_area_um2", &ComponentTable::adder_32b_area_um2},
    {"adder_8b_energy_pj", &ComponentTable::adder_8b_energy_pj},
    {"adder_16b_energy_pj", &ComponentTable::adder_16b_energy_pj},
    {"adder_32b_energy_pj", &ComponentTable::adder_32b_energy_pj},
    {"multiplier_8x8_area_um2", &ComponentTable::multiplier_8x8_area_um2},
    {"multiplier_32x32_area_um2", &ComponentTable::multiplier_32x32_area_um2},
    {"multiplier_8x8_energy_pj", &ComponentTable::multiplier_8x8_energy_pj},
    {"multiplier_32x32_energy_pj", &ComponentTable::multiplier_32x32_energy_pj},
    {"sram_read_32b_energy_pj", &ComponentTable::sram_read_32b_energy_pj},
    {"dram_read_32b_energy_pj", &ComponentTable::dram_read_32b_energy_pj},
    {"register_bit_area_um2", &ComponentTable::register_bit_area_um2},
    {"register_bit_energy_pj", &ComponentTable::register_bit_energy_pj},
    {"comparator_32b_area_um2", &ComponentTable::comparator_32b_area_um2},
    {"comparator_32b_energy_pj", &ComponentTable::comparator_32b_energy_pj},
    {"shifter_32b_area_um2", &ComponentTable::shifter_32b_area_um2},
    {"shifter_32b_energy_pj", &ComponentTable::shifter_32b_energy_pj},
    {"hardened_bit_area_ratio", &ComponentTable::hardened_bit_area_ratio},
    {"voter_bit_area_ratio", &ComponentTable::voter_bit_area_ratio},
    {"range_corrector_unsigned_bit_area_ratio", &ComponentTable::range_corrector_unsigned_bit_area_ratio},
    {"range_corrector_signed_bit_area_ratio", &ComponentTable::range_corrector_signed_bit_area_ratio},
}};

// Anchored pairs that must not decrease with width, else the scaling rules stop being monotone.
constexpr std::array<std::array<const char*, 2>, 6> kIncreasing{{
    {"adder_8b_area_um2", "adder_16b_area_um2"},
    {"adder_16b_area_um2", "adder_32b_area_um2"},
    {"adder_8b_energy_pj", "adder_16b_energy_pj"},
    {"adder_16b_energy_pj", "adder_32b_energy_pj"},
    {"multiplier_8x8_area_um2", "multiplier_32x32_area_um2"},
    {"multiplier_8x8_energy_pj", "multiplier_32x32_energy_pj"},
}};

double value_of(const ComponentTable& t, const char* key) {
  for (const auto& f : kFields)
    if (std::string(f.key) == key) return t.*f.member;
  FTDLA_ASSERT(false);
  return 0.0;
}

std::string closest_key(const std::string& full_key) {
  const std::string key = full_key.substr(0, kSuggestPrefix);
  const char* best = kFields[0].key;
  std::size_t best_d = edit_distance(key, best);
  for (const auto& f : kFields) {
    const std::size_t d = edit_distance(key, f.key);
    if (d < best_d) {
      best_d = d;
      best = f.key;
    }
  }
  return best;
}

void require_positive_width(const char* where, int bits) {
  if (bits < 1) throw ConfigError(std::string(where) + ": width must be >= 1 (got " + std::to_string(bits) + ")");
}

// Piecewise-linear interpolation through (x[i], y[i]) (x increasing), proportional to x (through the origin)
// below the first and above the last anchor: continuous, and monotone when the y[i] do not decrease.
template <std::size_t N>
double interpolate(double x, const std::array<double, N>& xs, const std::array<double, N>& ys) {
  if (x <= xs[0]) return ys[0] * x / xs[0];
  for (std::size_t i = 1; i < N; ++i)
    if (x <= xs[i]) return ys[i - 1] + (x - xs[i - 1]) / (xs[i] - xs[i - 1]) * (ys[i] - ys[i - 1]);
  return ys[N - 1] * x / xs[N - 1];
}

}  // namespace

ComponentCost ComponentTable::adder(int width_bits) const {
  require_positive_width("ComponentTable::adder()", width_bits);
  constexpr std::array<double, 3> widths{8.0, 16.0, 32.0};
  const double w = width_bits;
  return {interpolate(w, widths, {adder_8b_area_um2, adder_16b_area_um2, adder_32b_area_um2}),
          interpolate(w, widths, {adder_8b_energy_pj, adder_16b_energy_pj, adder_32b_energy_pj})};
}

ComponentCost ComponentTable::multiplier(int a_bits, int b_bits) const {
  require_positive_width("ComponentTable::multiplier()", a_bits);
  require_positive_width("ComponentTable::multiplier()", b_bits);
  constexpr std::array<double, 2> products{64.0, 1024.0};  // 8×8 and 32×32
  const double n = static_cast<double>(a_bits) * b_bits;
  return {interpolate(n, products, {multiplier_8x8_area_um2, multiplier_32x32_area_um2}),
          interpolate(n, products, {multiplier_8x8_energy_pj, multiplier_32x32_energy_pj})};
}

ComponentCost ComponentTable::comparator(int width_bits) const {
  require_positive_width("ComponentTable::comparator()", width_bits);
  return (width_bits / 32.0) * ComponentCost{comparator_32b_area_um2, comparator_32b_energy_pj};
}

ComponentCost ComponentTable::shifter(int width_bits) const {
  require_positive_width("ComponentTable::shifter()", width_bits);
  return (width_bits / 32.0) * ComponentCost{shifter_32b_area_um2, shifter_32b_energy_pj};
}

ComponentCost ComponentTable::register_bits(int bits) const {
  if (bits < 0)
    throw ConfigError("ComponentTable::register_bits(): bit count must be >= 0 (got " + std::to_string(bits) + ")");
  return static_cast<double>(bits) * ComponentCost{register_bit_area_um2, register_bit_energy_pj};
}

ComponentCost ComponentTable::voter_bits(int bits) const { return voter_bit_area_ratio * register_bits(bits); }

ComponentCost ComponentTable::hardened_bits(int bits) const { return hardened_bit_area_ratio * register_bits(bits); }

ComponentCost ComponentTable::range_corrector_bits(int bits, bool is_signed) const {
  return (is_signed ? range_corrector_signed_bit_area_ratio : range_corrector_unsigned_bit_area_ratio) *
         register_bits(bits);
}

ComponentCost ComponentTable::requantizer(int acc_bits) const {
  require_positive_width("ComponentTable::requantizer()", acc_bits);
  return multiplier(acc_bits, kRequantMultiplierBits) + adder(2 * acc_bits) + shifter(acc_bits) + adder(acc_bits) +
         adder(acc_bits) + 2.0 * comparator(acc_bits);
}

PeCost ComponentTable::pe(const accel::PeConfig& c) const {
  c.require_valid();
  const int w = c.wbits, a = c.abits, p = c.accbits, h = c.harden_out_bits, ha = c.harden_acc_bits;
  const ComponentCost arith = multiplier(w, a + 2) + adder(a + 2) + adder(p);
  const ComponentCost acc_reg = register_bits(p - ha) + hardened_bits(ha);
  const ComponentCost out_reg = register_bits(a - h) + hardened_bits(h);
  PeCost cost;
  cost.area_um2 = arith.area_um2 + register_bits(w + a).area_um2 + acc_reg.area_um2 + out_reg.area_um2;
  cost.mac_energy_pj = arith.energy_pj + register_bits(a).energy_pj + acc_reg.energy_pj;
  cost.out_load_energy_pj = out_reg.energy_pj;
  cost.weight_load_energy_pj = register_bits(w).energy_pj;
  return cost;
}

std::vector<std::string> ComponentTable::validate(const std::string& where) const {
  std::vector<std::string> problems;
  for (const auto& f : kFields) {
    const double v = this->*f.member;
    if (!std::isfinite(v) || v < 0.0)
      problems.push_back(where + "." + f.key + ": must be a finite number >= 0 (got " + std::to_string(v) + ")");
  }
  for (const auto& [lo, hi] : kIncreasing) {
    const double vlo = value_of(*this, lo), vhi = value_of(*this, hi);
    if (vhi < vlo)
      problems.push_back(where + "." + hi + ": must be >= " + lo + " (got " + std::to_string(vhi) + ", expected >= " +
                         std::to_string(vlo) + ")");
  }
  return problems;
}

ComponentTable ComponentTable::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw ConfigError(where + ": must be a JSON object (got " + std::string(j.type_name()) + ")");
  ComponentTable t;
  for (const auto& item : j.items()) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    const auto it = std::find_if(kFields.begin(), kFields.end(), [&](const Field& f) { return key == f.key; });
    if (it == kFields.end())
      throw ConfigError(where + "." + excerpt(key) + ": unknown key (did you mean '" + closest_key(key) + "'?)");
    if (!value.is_number())
      throw ConfigError(where + "." + key + ": must be a number >= 0 (got " + json_excerpt(value) + ")");
    const double v = value.get<double>();
    if (!(v >= 0.0)) throw ConfigError(where + "." + key + ": must be a number >= 0 (got " + json_excerpt(value) + ")");
    t.*(it->member) = v;
  }
  const auto problems = t.validate(where);
  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    throw ConfigError(msg);
  }
  return t;
}

nlohmann::json ComponentTable::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : kFields) j[f.key] = this->*f.member;
  return j;
}

}  // namespace ftdla::cost
