// SPDX-License-Identifier: MIT
#include "ftdla/opt/space.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ftdla/core/error.hpp"

namespace ftdla::opt {
namespace {

Space mixed_space() {
  return Space{{Knob::integer("k", 2, 6), Knob::real("f", -1.0, 1.0), Knob::categorical("w", {4, 8, 16})}};
}

// Expects validate() to throw ConfigError whose message contains every string in `needles`.
void expect_config_error(const Space& s, std::initializer_list<const char*> needles) {
  try {
    s.validate();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    for (const char* n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(Space, RoundsIntegersClampsRealsAndSnapsCategoricals) {
  const Space s = mixed_space();
  EXPECT_EQ(s.round({3.4, 0.3, 11.0}), (std::vector<double>{3, 0.3, 8}));
  EXPECT_EQ(s.round({3.5, 5.0, 13.0}), (std::vector<double>{4, 1.0, 16}));   // half away from zero; clamp; nearest
  EXPECT_EQ(s.round({-10, -5.0, 12.0}), (std::vector<double>{2, -1.0, 8}));  // clamp low; tie -> smaller value
  EXPECT_EQ(s.round({99, 0.0, 1e9}), (std::vector<double>{6, 0.0, 16}));
  EXPECT_THROW(s.round({1, 2}), ValidationError);
  EXPECT_THROW(s.round({1, std::nan(""), 4}), ValidationError);
}

TEST(Space, UnitMapsLevelsEvenlyAndRoundTrips) {
  const Space s = mixed_space();
  EXPECT_EQ(s.to_unit({2, -1.0, 4}), (std::vector<double>{0.0, 0.0, 0.0}));
  EXPECT_EQ(s.to_unit({6, 1.0, 16}), (std::vector<double>{1.0, 1.0, 1.0}));
  EXPECT_EQ(s.to_unit({3, 0.0, 8}), (std::vector<double>{0.25, 0.5, 0.5}));
  for (const std::vector<double>& x : {std::vector<double>{5, 0.25, 16}, std::vector<double>{2, -0.75, 8}}) {
    const auto back = s.from_unit(s.to_unit(x));
    ASSERT_EQ(back.size(), 3u);
    EXPECT_EQ(back[0], x[0]);
    EXPECT_NEAR(back[1], x[1], 1e-15);
    EXPECT_EQ(back[2], x[2]);
  }
}

TEST(Space, FromUniformGivesEveryLevelEqualMass) {
  const Space s{{Knob::integer("k", 0, 4)}};
  std::vector<int> count(5, 0);
  for (int i = 0; i < 1000; ++i) ++count[static_cast<size_t>(s.from_uniform({(i + 0.5) / 1000.0})[0])];
  for (int c : count) EXPECT_EQ(c, 200);
}

TEST(Space, LatticeEnumeratesEveryPointOnceInMixedRadixOrder) {
  const Space s{{Knob::integer("a", -1, 1), Knob::categorical("b", {0.5, 2.0}), Knob::integer("c", 10, 13)}};
  ASSERT_TRUE(s.is_finite());
  ASSERT_EQ(s.lattice_size(), 24u);
  const auto pts = s.lattice();
  ASSERT_EQ(pts.size(), 24u);
  EXPECT_EQ(pts.front(), (std::vector<double>{-1, 0.5, 10}));
  EXPECT_EQ(pts[1], (std::vector<double>{-1, 0.5, 11}));  // last knob fastest
  EXPECT_EQ(pts.back(), (std::vector<double>{1, 2.0, 13}));
  std::set<std::vector<double>> unique(pts.begin(), pts.end());
  EXPECT_EQ(unique.size(), 24u);
  for (uint64_t i = 0; i < pts.size(); ++i) {
    EXPECT_EQ(s.round(pts[i]), pts[i]);
    EXPECT_EQ(s.lattice_index(pts[i]), i);
  }
  EXPECT_THROW(s.lattice_point(24), ValidationError);
}

TEST(Space, LatticeRejectsRealKnobsAndOversizedLattices) {
  EXPECT_FALSE(mixed_space().lattice_size().has_value());
  EXPECT_THROW(mixed_space().lattice(), ConfigError);
  const Space big{{Knob::integer("a", 0, 999), Knob::integer("b", 0, 999), Knob::integer("c", 0, 999)}};
  EXPECT_EQ(big.lattice_size(), 1'000'000'000u);
  try {
    (void)big.lattice(1000);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("1000000000"), std::string::npos) << e.what();
  }
}

TEST(Space, ValidationNamesTheKnob) {
  EXPECT_NO_THROW(mixed_space().validate());
  expect_config_error(Space{{Knob::integer("rows", 8, 4)}}, {"opt.space.rows", "lo > hi"});
  expect_config_error(Space{{Knob::categorical("width", {})}}, {"opt.space.width", "no values"});
  expect_config_error(Space{{Knob::categorical("width", {8, 4})}}, {"opt.space.width", "increasing"});
  expect_config_error(Space{{Knob{"tmr", KnobKind::Integer, 0.5, 3.0, {}}}}, {"opt.space.tmr", "integral"});
  expect_config_error(Space{{Knob::real("ber", 0.0, INFINITY)}}, {"opt.space.ber", "finite"});
  expect_config_error(Space{{Knob::real("a", 0, 1), Knob::real("a", 0, 1)}}, {"opt.space.a", "duplicate"});
  expect_config_error(Space{}, {"no knobs"});
  // All problems are reported at once.
  expect_config_error(Space{{Knob::integer("p", 3, 1), Knob::categorical("q", {})}}, {"opt.space.p", "opt.space.q"});
}

TEST(Space, SingleLevelKnobsAreFixed) {
  const Space s{{Knob::integer("k", 3, 3), Knob::real("r", 2.0, 2.0)}};
  EXPECT_NO_THROW(s.validate());
  EXPECT_EQ(s.round({7, 9}), (std::vector<double>{3, 2.0}));
  EXPECT_EQ(s.to_unit({3, 2.0}), (std::vector<double>{0.0, 0.0}));
}

}  // namespace
}  // namespace ftdla::opt
