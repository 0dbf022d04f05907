// SPDX-License-Identifier: MIT
#include "ftdla/cost/component_table.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ftdla/core/error.hpp"

namespace ftdla::cost {
namespace {

constexpr double kEps = 1e-9;

// The message of the ConfigError that `fn` throws ("" if it throws nothing).
template <class Fn>
std::string config_error_of(Fn fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ComponentTable, DefaultsReproduceCitedNumbersAtTheirWidths) {
  const ComponentTable t;
  // Energies: Horowitz ISSCC 2014, 45 nm [V]; areas: Aladdin 40 nm with its scaling rules [V].
  EXPECT_NEAR(t.adder(8).energy_pj, 0.03, kEps);
  EXPECT_NEAR(t.adder(16).energy_pj, 0.05, kEps);
  EXPECT_NEAR(t.adder(32).energy_pj, 0.1, kEps);
  EXPECT_NEAR(t.adder(8).area_um2, 278.0 * 8 / 32, kEps);
  EXPECT_NEAR(t.adder(16).area_um2, 278.0 * 16 / 32, kEps);
  EXPECT_NEAR(t.adder(32).area_um2, 278.0, kEps);
  EXPECT_NEAR(t.multiplier(8, 8).energy_pj, 0.2, kEps);
  EXPECT_NEAR(t.multiplier(32, 32).energy_pj, 3.1, kEps);
  EXPECT_NEAR(t.multiplier(8, 8).area_um2, 6350.0 / 16, kEps);
  EXPECT_NEAR(t.multiplier(32, 32).area_um2, 6350.0, kEps);
  // Aladdin 40 nm [V].
  EXPECT_NEAR(t.register_bits(1).area_um2, 5.98, kEps);
  EXPECT_NEAR(t.register_bits(1).energy_pj, 0.009, kEps);
  EXPECT_NEAR(t.comparator(32).area_um2, 71.0, kEps);
  EXPECT_NEAR(t.shifter(32).energy_pj, 0.417, kEps);
  EXPECT_NEAR(t.sram_read_32b_energy_pj, 5.0, kEps);
  EXPECT_NEAR(t.dram_read_32b_energy_pj, 640.0, kEps);
}

TEST(ComponentTable, AdderInterpolatesLinearlyBetweenAnchors) {
  const ComponentTable t;
  EXPECT_NEAR(t.adder(24).area_um2, (139.0 + 278.0) / 2, kEps);
  EXPECT_NEAR(t.adder(12).energy_pj, (0.03 + 0.05) / 2, kEps);
  EXPECT_NEAR(t.adder(4).area_um2, 69.5 / 2, kEps);  // below 8 bits: proportional
  EXPECT_NEAR(t.adder(64).area_um2, 556.0, kEps);   // above 32 bits: proportional
}

TEST(ComponentTable, MultiplierScalesWithProductOfWidths) {
  const ComponentTable t;
  EXPECT_NEAR(t.multiplier(4, 8).area_um2, 6350.0 / 16 / 2, kEps);  // n = 32: proportional below 8×8
  EXPECT_NEAR(t.multiplier(16, 16).energy_pj, 0.2 + (3.1 - 0.2) * (256.0 - 64.0) / (1024.0 - 64.0), kEps);
  EXPECT_NEAR(t.multiplier(8, 10).area_um2, t.multiplier(10, 8).area_um2, kEps);
}

TEST(ComponentTable, CostsAreMonotoneInWidth) {
  const ComponentTable t;
  for (int w = 1; w < 64; ++w) {
    EXPECT_LT(t.adder(w).area_um2, t.adder(w + 1).area_um2) << w;
    EXPECT_LT(t.adder(w).energy_pj, t.adder(w + 1).energy_pj) << w;
    EXPECT_LT(t.comparator(w).area_um2, t.comparator(w + 1).area_um2) << w;
    EXPECT_LT(t.shifter(w).energy_pj, t.shifter(w + 1).energy_pj) << w;
    EXPECT_LT(t.register_bits(w).area_um2, t.register_bits(w + 1).area_um2) << w;
  }
  for (int a = 1; a < 40; ++a)
    for (int b = 1; b < 40; b += 7) {
      EXPECT_LT(t.multiplier(a, b).area_um2, t.multiplier(a + 1, b).area_um2) << a << "x" << b;
      EXPECT_LT(t.multiplier(a, b).energy_pj, t.multiplier(a + 1, b).energy_pj) << a << "x" << b;
    }
}

TEST(ComponentTable, BitCostsUseTheirRatios) {
  const ComponentTable t;
  EXPECT_NEAR(t.hardened_bits(3).area_um2, 3 * t.hardened_bit_area_ratio * 5.98, kEps);
  EXPECT_NEAR(t.hardened_bits(3).energy_pj, 3 * t.hardened_bit_area_ratio * 0.009, kEps);
  EXPECT_NEAR(t.voter_bits(2).area_um2, 2 * t.voter_bit_area_ratio * 5.98, kEps);
  EXPECT_LT(t.range_corrector_bits(8, false).area_um2, t.range_corrector_bits(8, true).area_um2);
  // A TMR bit is three flops and a voter.
  EXPECT_NEAR(t.hardened_bits(1).area_um2, (3 * t.register_bits(1) + t.voter_bits(1)).area_um2,
              0.05 * t.hardened_bits(1).area_um2);
  EXPECT_THROW(t.register_bits(-1), ConfigError);
  EXPECT_THROW(t.adder(0), ConfigError);
}

TEST(ComponentTable, RequantizerIsDominatedByItsMultiplier) {
  const ComponentTable t;
  const ComponentCost r = t.requantizer(32);
  EXPECT_GT(r.area_um2, t.multiplier(32, 32).area_um2);
  EXPECT_LT(r.area_um2, 1.5 * t.multiplier(32, 32).area_um2);
}

TEST(ComponentTable, PeCostNeverDecreasesWithProtection) {
  const ComponentTable t;
  double prev_area = 0.0, prev_out_energy = 0.0;
  for (int h = 0; h <= 8; ++h) {
    accel::PeConfig c;
    c.harden_out_bits = h;
    const PeCost cost = t.pe(c);
    EXPECT_GT(cost.area_um2, prev_area) << h;
    EXPECT_GT(cost.out_load_energy_pj, prev_out_energy) << h;
    prev_area = cost.area_um2;
    prev_out_energy = cost.out_load_energy_pj;
  }
  accel::PeConfig c;
  const PeCost plain = t.pe(c);
  c.harden_acc_bits = 4;
  const PeCost acc_hard = t.pe(c);
  EXPECT_GT(acc_hard.area_um2, plain.area_um2);
  EXPECT_GT(acc_hard.mac_energy_pj, plain.mac_energy_pj);
  // Unprotected W8/A8/P32 PE: an 8×10 multiplier, 10- and 32-bit adders, 56 flops.
  const double expected = t.multiplier(8, 10).area_um2 + t.adder(10).area_um2 + t.adder(32).area_um2 + 56 * 5.98;
  EXPECT_NEAR(plain.area_um2, expected, kEps);
  c.harden_out_bits = 9;
  EXPECT_THROW(t.pe(c), ConfigError);
}

TEST(ComponentTable, JsonOverridesOnlyTheGivenKeys) {
  const ComponentTable t =
      ComponentTable::from_json(nlohmann::json{{"adder_8b_area_um2", 40.0}, {"hardened_bit_area_ratio", 1.8}});
  EXPECT_NEAR(t.adder(8).area_um2, 40.0, kEps);
  EXPECT_NEAR(t.hardened_bit_area_ratio, 1.8, kEps);
  EXPECT_NEAR(t.adder(32).area_um2, 278.0, kEps);
  EXPECT_NEAR(t.register_bit_area_um2, 5.98, kEps);
  EXPECT_NEAR(ComponentTable::from_json(nlohmann::json{{"register_bit_area_um2", 7}}).register_bit_area_um2, 7.0, kEps);
}

TEST(ComponentTable, UnknownKeyIsRejectedWithSuggestion) {
  const std::string msg =
      config_error_of([] { ComponentTable::from_json(nlohmann::json{{"adder_8b_area", 40.0}}); });
  EXPECT_NE(msg.find("cost.components.adder_8b_area"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'adder_8b_area_um2'"), std::string::npos) << msg;
  const std::string msg2 =
      config_error_of([] { ComponentTable::from_json(nlohmann::json{{"hardend_bit_area_ratio", 2}}, "my.table"); });
  EXPECT_NE(msg2.find("my.table.hardend_bit_area_ratio: unknown key"), std::string::npos) << msg2;
  EXPECT_NE(msg2.find("'hardened_bit_area_ratio'"), std::string::npos) << msg2;
}

TEST(ComponentTable, NegativeOrNonNumericValuesAreRejected) {
  for (const nlohmann::json& bad : {nlohmann::json(-1.0), nlohmann::json("36"), nlohmann::json(true),
                                    nlohmann::json(nullptr), nlohmann::json::array({1, 2})}) {
    const std::string msg =
        config_error_of([&] { ComponentTable::from_json(nlohmann::json{{"voter_bit_area_ratio", bad}}); });
    EXPECT_NE(msg.find("cost.components.voter_bit_area_ratio: must be a number >= 0"), std::string::npos)
        << bad.dump() << ": " << msg;
  }
  EXPECT_NE(config_error_of([] { ComponentTable::from_json(nlohmann::json::array()); }).find("must be a JSON object"),
            std::string::npos);
}

TEST(ComponentTable, DecreasingAnchorsAreRejected) {
  const std::string msg =
      config_error_of([] { ComponentTable::from_json(nlohmann::json{{"multiplier_32x32_area_um2", 100.0}}); });
  EXPECT_NE(msg.find("cost.components.multiplier_32x32_area_um2: must be >= multiplier_8x8_area_um2"),
            std::string::npos)
      << msg;
  ComponentTable t;
  t.adder_16b_energy_pj = 0.01;
  EXPECT_EQ(t.validate().size(), 1u);
  EXPECT_TRUE(ComponentTable{}.validate().empty());
}

TEST(ComponentTable, JsonRoundTrip) {
  ComponentTable t;
  t.shifter_32b_area_um2 = 123.5;
  t.range_corrector_signed_bit_area_ratio = 0.5;
  const nlohmann::json j = t.to_json();
  EXPECT_EQ(j.size(), 22u);
  EXPECT_DOUBLE_EQ(j.at("shifter_32b_area_um2").get<double>(), 123.5);
  EXPECT_EQ(ComponentTable::from_json(j).to_json(), j);
  EXPECT_EQ(ComponentTable::from_json(ComponentTable{}.to_json()).to_json(), ComponentTable{}.to_json());
}

}  // namespace
}  // namespace ftdla::cost
