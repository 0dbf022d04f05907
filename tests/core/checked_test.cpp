// Size arithmetic on untrusted shapes, and the untrusted-JSON helpers.
#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "ftdla/core/checked.hpp"
#include "ftdla/core/hash.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/tensor.hpp"

namespace ftdla {
namespace {

TEST(Numel, OverflowIsAnErrorNamingTheShape) {
  EXPECT_EQ(numel({}), 1);
  EXPECT_EQ(numel({3, 4, 5}), 60);
  EXPECT_EQ(numel({INT64_MAX}), INT64_MAX);
  try {
    (void)numel({1 << 30, 1 << 30, 1 << 30});
    ADD_FAILURE() << "expected ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("[1073741824,1073741824,1073741824]"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)numel({INT64_MAX, 2}), ValidationError);
}

TEST(Checked, MulAndAddThrowOnOverflowOnly) {
  EXPECT_EQ(checked_mul(1 << 20, 1 << 20, "x"), int64_t{1} << 40);
  EXPECT_EQ(checked_add(INT64_MAX - 1, 1, "x"), INT64_MAX);
  EXPECT_THROW((void)checked_mul(INT64_MAX, 2, "x"), ValidationError);
  EXPECT_THROW((void)checked_add(INT64_MAX, 1, "x"), ValidationError);
  EXPECT_THROW((void)checked_add(INT64_MIN, -1, "x"), ValidationError);
}

TEST(Fnv1a, KnownVectors) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a64(std::string()), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64(std::string("a")), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(hex64(0xaf63dc4c8601ec8cULL), "af63dc4c8601ec8c");
}

TEST(JsonParse, DeepNestingIsRefusedWithAClearError) {
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_NO_THROW(parse_json(ok, "f.json"));
  const std::string deep = std::string(1000000, '[');
  try {
    (void)parse_json<ConfigError>(deep, "f.json");
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "f.json: JSON nested deeper than 64 levels");
  }
}

TEST(JsonParse, ErrorsDoNotEchoAHugeToken) {
  const std::string huge = "{\"k\": " + std::string(1 << 20, 'x') + "}";
  try {
    (void)parse_json(huge, "f.json");
    ADD_FAILURE() << "expected ImportError";
  } catch (const ImportError& e) {
    EXPECT_LT(std::string(e.what()).size(), 300u) << e.what();
    EXPECT_NE(std::string(e.what()).find("f.json: not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(JsonInt, RejectsFractionsAndValuesThatWouldWrap) {
  using nlohmann::json;
  EXPECT_EQ(json_int(json(4), "k", 2, 8), 4);
  EXPECT_EQ(json_int(json(4.0), "k", 2, 8), 4);
  EXPECT_THROW((void)json_int(json(4.7), "k", 2, 8), ConfigError);
  EXPECT_THROW((void)json_int(json(4294967302ULL), "k", 0, INT_MAX), ConfigError);
  EXPECT_THROW((void)json_int(json(18446744073709551615ULL), "k", INT64_MIN, INT64_MAX), ConfigError);
  EXPECT_THROW((void)json_int(json(1e300), "k", INT64_MIN, INT64_MAX), ConfigError);
  EXPECT_THROW((void)json_int(json("4"), "k", 2, 8), ConfigError);
  EXPECT_THROW((void)json_int(json(-1), "k", 0, 8), ConfigError);
  try {
    (void)json_int(json(std::string(1000, 'v')), "space.k[0]", 2, 8);
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_LT(msg.size(), 160u) << msg;
    EXPECT_NE(msg.find("space.k[0]: must be an integer"), std::string::npos) << msg;
    EXPECT_NE(msg.find("..."), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace ftdla
