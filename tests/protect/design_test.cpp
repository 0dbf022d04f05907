// Design-point JSON: defaults, presets, round trip, and one test per validation rule (type + key path).
#include "ftdla/protect/design.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <limits>
#include <string>

#include "ftdla/core/error.hpp"

namespace ftdla::protect {
namespace {

using nlohmann::json;

// Parse `doc` and require a ConfigError whose message contains `needle` (normally the key path + ':').
void expect_config_error(const json& doc, const std::string& needle) {
  try {
    (void)parse_design(doc);
    ADD_FAILURE() << "no ConfigError for " << doc.dump() << " (expected '" << needle << "')";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "document " << doc.dump() << "\n  message: " << e.what() << "\n  expected to contain: " << needle;
  }
}

TEST(ParseDesign, EmptyDocumentGivesTheDefaults) {
  const DesignPoint d = parse_design(json::object());
  EXPECT_EQ(d, DesignPoint{});
  EXPECT_EQ(d.preset, Preset::None);
  EXPECT_EQ(d.k, 0);
  EXPECT_TRUE(d.k_per_layer.empty());
  EXPECT_EQ(d.mode, ProtectMode::Fraction);
  EXPECT_EQ(d.fraction, 0.0);
  EXPECT_EQ(d.lanes, 0);
  EXPECT_EQ(d.harden_bits, 0);
  EXPECT_EQ(d.accel.rows, 32);
  EXPECT_EQ(d.accel.cols, 32);
  EXPECT_EQ(d.accel.dataflow, accel::Dataflow::WeightStationary);
  EXPECT_EQ(d.accel.wbits, 8);
  EXPECT_EQ(d.accel.abits, 8);
  EXPECT_EQ(d.accel.accbits, 32);
  EXPECT_FALSE(d.protects_channels());
  EXPECT_FALSE(d.range_corrector());
  EXPECT_EQ(d.live_bits(), 8);
}

TEST(ParseDesign, EchoHasEveryKeyWithDefaultsFilledIn) {
  const json j = to_json(parse_design(json::parse(R"({"harden_bits": 2})")));
  for (const char* key : {"preset", "k", "k_per_layer", "protected", "lanes", "harden_bits", "accel"})
    EXPECT_TRUE(j.contains(key)) << key;
  for (const char* key : {"rows", "cols", "dataflow", "wbits", "abits", "accbits"}) EXPECT_TRUE(j["accel"].contains(key)) << key;
  EXPECT_EQ(j["preset"], "none");
  EXPECT_EQ(j["harden_bits"], 2);
  EXPECT_EQ(j["protected"], 0.0);
  EXPECT_EQ(j["accel"]["dataflow"], "ws");
}

TEST(ParseDesign, Presets) {
  const DesignPoint tmr = parse_design(json::parse(R"({"preset": "full_tmr"})"));
  EXPECT_EQ(tmr.preset, Preset::FullTmr);
  EXPECT_FALSE(tmr.protects_channels());
  EXPECT_FALSE(tmr.range_corrector());
  const DesignPoint none = parse_design(json::parse(R"({"preset": "unprotected", "accel": {"rows": 16}})"));
  EXPECT_EQ(none.preset, Preset::Unprotected);
  EXPECT_EQ(none.accel.rows, 16);
  // Neutral knob values are accepted with a preset (the echo of a preset design parses back).
  EXPECT_EQ(parse_design(to_json(tmr)), tmr);
  const DesignPoint ref = reference_design(parse_design(json::parse(R"({"harden_bits": 3, "accel": {"cols": 8}})")),
                                           Preset::Unprotected);
  EXPECT_EQ(ref.preset, Preset::Unprotected);
  EXPECT_EQ(ref.harden_bits, 0);
  EXPECT_EQ(ref.accel.cols, 8);
}

TEST(ParseDesign, FractionAndExplicitChannelForms) {
  const DesignPoint f = parse_design(json::parse(R"({"protected": 0.25, "lanes": 8})"));
  EXPECT_EQ(f.mode, ProtectMode::Fraction);
  EXPECT_DOUBLE_EQ(f.fraction, 0.25);
  EXPECT_TRUE(f.protects_channels());
  const DesignPoint c = parse_design(
      json::parse(R"({"protected": [{"layer": "conv1", "channels": [3, 0]}, {"layer": "fc", "channels": []}], "lanes": 2})"));
  EXPECT_EQ(c.mode, ProtectMode::Channels);
  ASSERT_EQ(c.channels.size(), 2u);
  EXPECT_EQ(c.channels[0].layer, "conv1");
  EXPECT_EQ(c.channels[0].channels, (std::vector<int64_t>{3, 0}));
  EXPECT_TRUE(c.protects_channels());
  // An explicit list with no channels protects nothing and needs no lanes.
  EXPECT_FALSE(parse_design(json::parse(R"({"protected": [{"layer": "fc", "channels": []}]})")).protects_channels());
}

TEST(ParseDesign, RoundTripsThroughToJson) {
  for (const char* doc : {
           R"({})",
           R"({"k": 5, "harden_bits": 3, "protected": 0.1, "lanes": 8})",
           R"({"k_per_layer": {"a": 4, "b": 6}, "protected": [{"layer": "a", "channels": [1, 2]}], "lanes": 1})",
           R"({"accel": {"rows": 8, "cols": 4, "dataflow": "os", "wbits": 4, "abits": 6, "accbits": 16}, "harden_bits": 6})",
           R"({"preset": "unprotected"})",
       }) {
    const DesignPoint d = parse_design(json::parse(doc));
    EXPECT_EQ(parse_design(to_json(d)), d) << doc;
  }
}

TEST(ParseDesign, IntegralFloatsAreIntegers) {
  const DesignPoint d = parse_design(json::parse(R"({"k": 5.0, "lanes": 8.0, "protected": 0.5, "harden_bits": 2.0})"));
  EXPECT_EQ(d.k, 5);
  EXPECT_EQ(d.lanes, 8);
  EXPECT_EQ(d.harden_bits, 2);
}

TEST(ParseDesign, RangeCorrectorIsOnIffSomeKBelowA) {
  EXPECT_FALSE(parse_design(json::parse(R"({"k": 8})")).range_corrector());
  EXPECT_TRUE(parse_design(json::parse(R"({"k": 7})")).range_corrector());
  EXPECT_TRUE(parse_design(json::parse(R"({"k_per_layer": {"x": 4}})")).range_corrector());
  EXPECT_FALSE(parse_design(json::parse(R"({"k_per_layer": {"x": 8}})")).range_corrector());
  EXPECT_EQ(parse_design(json::parse(R"({"k": 5})")).live_bits(), 5);
}

TEST(ParseDesign, ToQuantOptionsAndArraySpec) {
  const DesignPoint d = parse_design(json::parse(
      R"({"k": 6, "k_per_layer": {"fc": 4}, "accel": {"rows": 16, "cols": 8, "dataflow": "os", "wbits": 6, "abits": 7, "accbits": 24}})"));
  quant::QuantOptions base;
  base.calib_images = 77;
  const quant::QuantOptions q = to_quant_options(d, base);
  EXPECT_EQ(q.wbits, 6);
  EXPECT_EQ(q.abits, 7);
  EXPECT_EQ(q.accbits, 24);
  EXPECT_EQ(q.k, 6);
  EXPECT_EQ(q.k_per_layer.at("fc"), 4);
  EXPECT_EQ(q.calib_images, 77);  // not a design knob: kept from base
  EXPECT_NO_THROW(q.validate());
  const accel::ArraySpec s = to_array_spec(d);
  EXPECT_EQ(s.rows, 16);
  EXPECT_EQ(s.cols, 8);
  EXPECT_EQ(s.dataflow, accel::Dataflow::OutputStationary);
}

TEST(ParseDesignValidation, ExactMessageForHardenBits) {
  try {
    (void)parse_design(json::parse(R"({"harden_bits": 9})"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "design.harden_bits: must be in [0, 8] (got 9)");
  }
}

TEST(ParseDesignValidation, UnknownKeysSuggestTheClosestKey) {
  expect_config_error(json::parse(R"({"hardn_bits": 2})"), "design.hardn_bits: unknown key (did you mean 'harden_bits'?)");
  expect_config_error(json::parse(R"({"lane": 2})"), "design.lane: unknown key (did you mean 'lanes'?)");
  expect_config_error(json::parse(R"({"accel": {"rowz": 2}})"), "design.accel.rowz: unknown key (did you mean 'rows'?)");
  expect_config_error(json::parse(R"({"protected": [{"layer": "a", "chanels": [1]}]})"),
                      "design.protected[0].chanels: unknown key (did you mean 'channels'?)");
}

TEST(ParseDesignValidation, EveryRuleNamesItsKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([])", "design: must be a JSON object"},
      {R"({"preset": "tmr"})", "design.preset: unknown preset 'tmr'"},
      {R"({"preset": 3})", "design.preset:"},
      {R"({"k": 1})", "design.k: must be 0 (no constraint) or in [2, 8] (got 1)"},
      {R"({"k": 9})", "design.k:"},
      {R"({"k": -1})", "design.k:"},
      {R"({"k": "5"})", "design.k: must be an integer"},
      {R"({"k": 5.5})", "design.k: must be an integer"},
      {R"({"k_per_layer": 5})", "design.k_per_layer: must be an object"},
      {R"({"k_per_layer": {"conv1": 1}})", "design.k_per_layer.conv1: must be in [2, 8] (got 1)"},
      {R"({"k_per_layer": {"conv1": 9}})", "design.k_per_layer.conv1:"},
      {R"({"k_per_layer": {"conv1": true}})", "design.k_per_layer.conv1: must be an integer"},
      {R"({"protected": 1.5, "lanes": 1})", "design.protected: fraction must be in [0, 1] (got 1.5)"},
      {R"({"protected": -0.1})", "design.protected: fraction must be in [0, 1]"},
      {R"({"protected": "half"})", "design.protected: must be a fraction in [0, 1] or an array"},
      {R"({"protected": [3]})", "design.protected[0]: must be a JSON object"},
      {R"({"protected": [{"channels": [1]}], "lanes": 1})", "design.protected[0].layer: missing"},
      {R"({"protected": [{"layer": 3, "channels": [1]}], "lanes": 1})", "design.protected[0].layer: must be a string"},
      {R"({"protected": [{"layer": "", "channels": [1]}], "lanes": 1})", "design.protected[0].layer: must be a non-empty"},
      {R"({"protected": [{"layer": "a"}], "lanes": 1})", "design.protected[0].channels: missing"},
      {R"({"protected": [{"layer": "a", "channels": 1}], "lanes": 1})", "design.protected[0].channels: must be an array"},
      {R"({"protected": [{"layer": "a", "channels": [0, "x"]}], "lanes": 1})", "design.protected[0].channels[1]: must be an integer"},
      {R"({"protected": [{"layer": "a", "channels": [-1]}], "lanes": 1})", "design.protected[0].channels[0]: must be >= 0 (got -1)"},
      {R"({"protected": [{"layer": "a", "channels": [4, 2, 4]}], "lanes": 1})", "design.protected[0].channels[2]: duplicate channel 4"},
      {R"({"protected": [{"layer": "a", "channels": [1]}, {"layer": "a", "channels": [2]}], "lanes": 1})",
       "design.protected[1].layer: layer 'a' listed twice (also design.protected[0])"},
      {R"({"lanes": -1})", "design.lanes: must be in [0, 4096] (got -1)"},
      {R"({"lanes": 4097})", "design.lanes: must be in [0, 4096] (got 4097)"},
      {R"({"lanes": 2.5})", "design.lanes: must be an integer"},
      {R"({"protected": 0.1})", "design.lanes: must be >= 1 when channels are protected (got 0)"},
      {R"({"protected": [{"layer": "a", "channels": [0]}]})", "design.lanes: must be >= 1 when channels are protected"},
      {R"({"harden_bits": -1})", "design.harden_bits: must be in [0, 8] (got -1)"},
      {R"({"k": 5, "harden_bits": 6})", "design.harden_bits: must be in [0, 5] (got 6)"},
      {R"({"accel": {"abits": 4}, "harden_bits": 5})", "design.harden_bits: must be in [0, 4] (got 5)"},
      {R"({"accel": {"abits": 4}, "k": 5})", "design.k: must be 0 (no constraint) or in [2, 4] (got 5)"},
      {R"({"accel": 32})", "design.accel: must be a JSON object"},
      {R"({"accel": {"rows": 0}})", "design.accel.rows: must be in [1, 1024] (got 0)"},
      {R"({"accel": {"rows": 1025}})", "design.accel.rows: must be in [1, 1024] (got 1025)"},
      {R"({"accel": {"cols": 0}})", "design.accel.cols: must be in [1, 1024] (got 0)"},
      {R"({"accel": {"dataflow": "xs"}})", "design.accel.dataflow: unknown dataflow 'xs' (expected ws or os)"},
      {R"({"accel": {"dataflow": 1}})", "design.accel.dataflow: must be \"ws\" or \"os\""},
      {R"({"accel": {"wbits": 1}})", "design.accel.wbits: must be in [2, 16] (got 1)"},
      {R"({"accel": {"abits": 17}})", "design.accel.abits: must be in [2, 16] (got 17)"},
      {R"({"accel": {"accbits": 7}})", "design.accel.accbits: must be in [8, 32] (got 7)"},
      {R"({"accel": {"accbits": 33}})", "design.accel.accbits: must be in [8, 32] (got 33)"},
      {R"({"preset": "full_tmr", "harden_bits": 2})", "design.harden_bits: must be absent or neutral with preset 'full_tmr' (got 2)"},
      {R"({"preset": "full_tmr", "lanes": 4})", "design.lanes: must be absent or neutral with preset 'full_tmr'"},
      {R"({"preset": "unprotected", "k": 5})", "design.k: must be absent or neutral with preset 'unprotected'"},
      {R"({"preset": "unprotected", "k_per_layer": {"a": 5}})", "design.k_per_layer: must be absent or neutral"},
      {R"({"preset": "full_tmr", "protected": 0.2, "lanes": 1})", "design.protected: must be absent or neutral"},
  };
  for (const auto& [doc, needle] : cases) expect_config_error(json::parse(doc), needle);
}

TEST(ParseDesignValidation, IntegersThatWouldWrapAndHugeEchoesAreRejectedCleanly) {
  // 4294967302 = 2^32 + 6 used to wrap to 6 through an int conversion.
  expect_config_error(json::parse(R"({"k": 4294967302})"), "design.k: must be in");
  expect_config_error(json::parse(R"({"accel": {"rows": 4294967328}})"), "design.accel.rows: must be in");
  expect_config_error(json::parse(R"({"k": 18446744073709551615})"), "design.k: must be an integer");
  // A 1 MB key or value is echoed cut to 80 characters, not whole.
  const std::string huge(1 << 20, 'x');
  for (const json& doc : {json{{huge, 1}}, json{{"k", huge}}, json{{"accel", {{"dataflow", huge}}}}}) {
    try {
      (void)parse_design(doc);
      ADD_FAILURE() << "no ConfigError";
    } catch (const ConfigError& e) {
      EXPECT_LT(std::string(e.what()).size(), 300u);
      EXPECT_NE(std::string(e.what()).find("xxx..."), std::string::npos) << std::string(e.what()).substr(0, 300);
    }
  }
}

TEST(ParseDesignValidation, CustomRootPathAppearsInMessages) {
  try {
    (void)parse_design(json::parse(R"({"lanes": -3})"), "points[4]");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "points[4].lanes: must be in [0, 4096] (got -3)");
  }
}

TEST(ParseDesignValidation, ValidateCatchesEditsMadeInCode) {
  DesignPoint d;
  d.fraction = 0.3;  // protected without lanes
  EXPECT_THROW(d.validate(), ConfigError);
  d.lanes = 4;
  EXPECT_NO_THROW(d.validate());
  d.fraction = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(d.validate(), ConfigError);
}

}  // namespace
}  // namespace ftdla::protect
