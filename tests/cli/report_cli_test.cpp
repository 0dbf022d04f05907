// `ftdla report` and `--report` on characterize / optimize: the real program on the result files in
// tests/fixtures/report/ and on bad input (exit status, one-line message).
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "run_ftdla.hpp"

namespace ftdla::cli {
namespace {

using test::read_file;
using test::Result;

std::string fixture(const std::string& name) { return std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/report/" + name; }

using test::ftdla;

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size())) ++n;
  return n;
}

/// The shared one-line-error check, with this exact exit status.
void expect_one_line_error(const Result& r, int status, std::initializer_list<std::string> names) {
  EXPECT_EQ(r.status, status) << r.command << "\n" << r.err;
  test::expect_one_line_error(r, names);
}

TEST(CliReport, WritesOneSelfContainedFileFromCharacterizeAndOptimizeResults) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("report.html");
  const Result r = ftdla({"report", fixture("characterize_lenet5.json"), fixture("optimize_lenet5_bo.json"),
                          fixture("optimize_lenet5_random.json"), "-o", out, "--title", "LeNet <5>"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("3 results"), std::string::npos) << r.out;
  const std::string html = read_file(out);
  EXPECT_NE(html.find("<title>LeNet &lt;5&gt;</title>"), std::string::npos);
  for (const char* id : {"heatmap-1", "channels-1", "convergence-2", "tradeoff-2", "comparison-2", "convergence-3", "tradeoff-3",
                         "comparison-3"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  // LeNet-5: 5 compute layers x 8 bits of the int8 neuron registers.
  EXPECT_EQ(count(html, "<rect class=\"cell\""), 40u);
  EXPECT_EQ(html.find("http"), std::string::npos);
  // The two searches of the same model are drawn together in both convergence plots.
  EXPECT_EQ(count(html, ">random (seed 1)<"), 2u);
  EXPECT_EQ(count(html, ">bo (seed 1)<"), 2u);
}

TEST(CliReport, BadInputGetsOneLine) {
  const TempDir d("ftdla-cli");
  const std::string bad = d.file("bad.json"), other = d.file("eval.json"), out = d.file("r.html");
  write_file_atomic(bad, "{\"history\": [1, 2,\n");
  write_file_atomic(other, "{\"model\": \"x\", \"clean_accuracy\": 0.9}");
  expect_one_line_error(ftdla({"report", bad, "-o", out}), 1, {bad, "not valid JSON"});
  expect_one_line_error(ftdla({"report", fixture("optimize_lenet5_bo.json"), other, "-o", out}), 1,
                        {other, "not a ftdla characterize or optimize result"});
  expect_one_line_error(ftdla({"report", d.file("missing.json"), "-o", out}), 1, {"missing.json", "cannot read"});
  expect_one_line_error(ftdla({"report", fixture("optimize_lenet5_bo.json")}), 2, {"--output"});
  expect_one_line_error(ftdla({"report", "-o", out}), 2, {"results"});
  EXPECT_TRUE(test::read_file(out).empty()) << "no report written on failure";
}

TEST(CliReport, CharacterizeAndOptimizeWriteTheReportAtTheEnd) {
  const TempDir d("ftdla-cli");
  {
    const std::string json = d.file("c.json"), html = d.file("c.html");
    const Result r = ftdla({"characterize", "--trials", "10", "--images", "10", "--calib-images", "64", "--json", json,
                            "--report", html});
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string h = read_file(html);
    EXPECT_NE(h.find("id=\"heatmap-1\""), std::string::npos);
    EXPECT_NE(h.find("id=\"channels-1\""), std::string::npos);
    EXPECT_NE(h.find(json), std::string::npos) << "the report names its JSON";
  }
  {
    const std::string html = d.file("o.html"), space = d.file("space.json");
    write_file_atomic(space, R"({"k": [7, 8], "fraction": [0.0], "lanes": [8], "harden_max": 2})");
    // Without --json: the report alone.
    const Result r = ftdla({"optimize", "--budget", "2", "--cache", "none", "--calib-images", "64", "--space", space, "--trials",
                            "100", "--max-trials", "400", "--images", "300", "--validation-images",
                            "1000", "--validation-trials", "300", "--report", html});
    ASSERT_EQ(r.status, 0) << r.err;
    const std::string h = read_file(html);
    for (const char* id : {"convergence-1", "tradeoff-1", "comparison-1"}) EXPECT_NE(h.find(id), std::string::npos) << id;
    EXPECT_NE(h.find("(validated)"), std::string::npos);
  }
}

}  // namespace
}  // namespace ftdla::cli
