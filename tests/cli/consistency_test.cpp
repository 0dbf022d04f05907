// One CLI: the same names for the same things in every command, nothing accepted and then ignored, no
// negative counts or seeds, output paths checked before any work, `--json -`, suggestions for mistyped
// commands, --version, --quiet, and defaults and an example in every --help.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "run_ftdla.hpp"

namespace ftdla::cli {
namespace {

using test::read_file;
using test::Result;
using test::expect_one_line_error;
using test::fixture;
using test::ftdla;
using test::operator+;

const std::string kDesign = std::string(FTDLA_SOURCE_DIR) + "/examples/configs/design_full_tmr.json";
const std::vector<std::string> kEval = {"eval", "--images", "20", "--calib-images", "64"};
const std::vector<std::string> kInject = {"inject", "--faults", "1", "--trials", "20", "--images", "10", "--calib-images", "64"};
const std::vector<std::string> kCharacterize = {"characterize", "--trials", "5", "--neurons", "1", "--images", "5", "--calib-images", "64"};
const std::vector<std::string> kEvaluate = {"evaluate", "--design", kDesign, "--cache", "none", "--calib-images", "64",
                                            "--trials", "50", "--max-trials", "50", "--images", "100", "--validation-images", "0"};
const std::vector<std::string> kOptimize = {"optimize", "--budget", "1", "--cache", "none", "--calib-images", "64",
                                            "--trials", "50", "--max-trials", "50", "--images", "100", "--validation-images", "0"};

// --- --images is test images, --trials is faulty inferences, everywhere ---------------------------------

TEST(CliNames, ImagesAndTrialsMeanTheSameInEveryCommand) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("out.json");
  {
    const Result r = ftdla(kEval + std::vector<std::string>{"--json", out});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(read_file(out))["images"], 20);
  }
  {
    const Result r = ftdla(kCharacterize + std::vector<std::string>{"--json", out});
    ASSERT_EQ(r.status, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(read_file(out));
    EXPECT_EQ(j["samples"], 5);
    EXPECT_EQ(j["images"], 5);
  }
  {
    const Result r = ftdla(kEvaluate + std::vector<std::string>{"--json", out});
    ASSERT_EQ(r.status, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(read_file(out));
    EXPECT_EQ(j["environment"]["fault_images"], 100);
    EXPECT_EQ(j["environment"]["eval_images"], 100);
    EXPECT_EQ(j["environment"]["trials"], 50);
  }
}

TEST(CliNames, OldNamesStillWorkWithAWarning) {
  const TempDir d("ftdla-cli");
  const std::string a = d.file("a.json"), b = d.file("b.json");
  const Result now = ftdla({"eval", "--images", "20", "--calib-images", "64", "--json", a});
  const Result old = ftdla({"eval", "--limit", "20", "--calib-images", "64", "--json", b});
  ASSERT_EQ(now.status, 0) << now.err;
  ASSERT_EQ(old.status, 0) << old.err;
  EXPECT_NE(old.err.find("--limit is deprecated, use --images"), std::string::npos) << old.err;
  nlohmann::json ja = nlohmann::json::parse(read_file(a)), jb = nlohmann::json::parse(read_file(b));
  for (auto* j : {&ja, &jb})
    for (const char* k : {"seconds", "peak_rss_mb"}) j->erase(k);
  EXPECT_EQ(ja, jb);
  const Result samples = ftdla({"characterize", "--samples", "5", "--neurons", "1", "--images", "5", "--calib-images", "64"});
  EXPECT_EQ(samples.status, 0) << samples.err;
  EXPECT_NE(samples.err.find("--samples is deprecated, use --trials"), std::string::npos) << samples.err;
  // Both names at once is an error.
  const Result both = ftdla({"eval", "--images", "20", "--limit", "30"});
  EXPECT_EQ(both.status, 2);
  EXPECT_NE(both.err.find("--limit"), std::string::npos) << both.err;
}

// --- options that would be ignored are rejected ------------------------------------------------------------

TEST(CliIgnoredOptions, BitWidthsInEvaluateAndOptimizeAreRejectedWithWhereToSetThem) {
  for (const char* opt : {"--abits", "--wbits", "--accbits"}) {
    expect_one_line_error(ftdla(kEvaluate + std::vector<std::string>{opt, "6"}), {opt, "--design", "accel"});
    expect_one_line_error(ftdla(kOptimize + std::vector<std::string>{opt, "6"}), {opt, "--space", "accel"});
  }
}

TEST(CliIgnoredOptions, OptionsThatOnlyApplyWithAnotherNeedIt) {
  expect_one_line_error(ftdla(kInject + std::vector<std::string>{"--pes", "2"}), {"--pes", "--permanent"});
  expect_one_line_error(ftdla(kInject + std::vector<std::string>{"--confidence", "0.9"}), {"--confidence", "--margin"});
  expect_one_line_error(ftdla(kCharacterize + std::vector<std::string>{"--confidence", "0.9"}), {"--confidence", "--margin"});
  expect_one_line_error(ftdla(kEval + std::vector<std::string>{"--percentile", "99.9"}), {"--percentile", "--calib percentile"});
  EXPECT_EQ(ftdla(kEval + std::vector<std::string>{"--percentile", "99.9", "--calib", "percentile"}).status, 0);
  expect_one_line_error(ftdla(kEvaluate + std::vector<std::string>{"--validation-trials", "100"}), {"--validation-trials", "--held-out"});
  expect_one_line_error(ftdla(kOptimize + std::vector<std::string>{"--validation-trials", "100"}), {"--validation-trials", "--validation-images 0"});
  // info maps onto the array only with --accel, and reads no data.
  expect_one_line_error(ftdla({"info", "--rows", "16"}), {"--rows", "--accel"});
  expect_one_line_error(ftdla({"info", "--data", "/tmp"}), {"--data"});
  EXPECT_EQ(ftdla({"info", "--accel", "--rows", "16"}).status, 0);
}

// --- unsigned and count options reject negatives --------------------------------------------------------------

TEST(CliNegatives, AreRejectedNotWrapped) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {kOptimize + std::vector<std::string>{"--budget", "-3"}, "--budget"},
      {kOptimize + std::vector<std::string>{"--seed", "-1"}, "--seed"},
      {kEvaluate + std::vector<std::string>{"--seed", "-1"}, "--seed"},
      {kInject + std::vector<std::string>{"--seed", "-1"}, "--seed"},
      {kCharacterize + std::vector<std::string>{"--seed", "-1"}, "--seed"},
      {kCharacterize + std::vector<std::string>{"--stability-seed", "-2"}, "--stability-seed"},
      {kInject + std::vector<std::string>{"--images", "-5"}, "--images"},
      {kInject + std::vector<std::string>{"--trials", "-5"}, "--trials"},
      {kEval + std::vector<std::string>{"--images", "-1"}, "--images"},
      {kEval + std::vector<std::string>{"--calib-images", "-1"}, "--calib-images"},
      {kOptimize + std::vector<std::string>{"--max-trials", "-100"}, "--max-trials"},
  };
  for (const auto& [args, name] : cases) {
    const Result r = ftdla(args);
    expect_one_line_error(r, {name, "must be >= 0"});
    EXPECT_EQ(r.status, 2) << r.command;
  }
}

// --- output paths are checked before any work ---------------------------------------------------------------------

TEST(CliOutputPaths, UnwritablePathsFailBeforeAnyWork) {
  const TempDir d("ftdla-cli");
  // The data directory does not exist either: the output path is checked first.
  const std::vector<std::string> no_data = {"--data", "/nonexistent/data"};
  const std::string bad = "/nonexistent/dir/out.json";
  const std::vector<std::vector<std::string>> commands = {kEval, kInject, kCharacterize, kEvaluate, kOptimize};
  for (const auto& cmd : commands) {
    const auto t0 = std::chrono::steady_clock::now();
    const Result r = ftdla(cmd + no_data + std::vector<std::string>{"--json", bad});
    expect_one_line_error(r, {"--json", "/nonexistent/dir", "does not exist"});
    EXPECT_EQ(r.status, 2) << r.command;
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0) << r.command;
    // A directory where the file should be.
    expect_one_line_error(ftdla(cmd + std::vector<std::string>{"--json", d.path()}), {"--json", "is a directory"});
  }
  expect_one_line_error(ftdla(kCharacterize + no_data + std::vector<std::string>{"--csv", "/nonexistent/a/b"}), {"--csv", "/nonexistent/a"});
  expect_one_line_error(ftdla({"rtl", "-o", "/nonexistent/pe.v"}), {"--output", "/nonexistent"});
  expect_one_line_error(ftdla(kOptimize + no_data + std::vector<std::string>{"--cache", "/nonexistent/c.jsonl"}), {"--cache"});
}

// --- --json - -----------------------------------------------------------------------------------------------------

TEST(CliJsonStdout, JsonAloneOnStdoutAndTextOnStderr) {
  for (const auto& cmd : {kEval, kInject, kCharacterize, kEvaluate}) {
    const Result r = ftdla(cmd + std::vector<std::string>{"--json", "-"});
    ASSERT_EQ(r.status, 0) << r.command << "\n" << r.err;
    nlohmann::json j;
    EXPECT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.command << " stdout:\n" << r.out;
    EXPECT_TRUE(j.is_object()) << r.command;
    EXPECT_FALSE(r.err.empty()) << "the text goes to stderr: " << r.command;
    EXPECT_FALSE(std::filesystem::exists("-")) << "wrote a file named '-'";
  }
  expect_one_line_error(ftdla(kInject + std::vector<std::string>{"--json", "-", "--resume"}), {"--resume"});
}

// --- JSON names say what they count ---------------------------------------------------------------------------------

TEST(CliJsonNames, InjectReportsTrialsPerSecond) {
  const Result r = ftdla(kInject + std::vector<std::string>{"--json", "-"});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j.contains("trials_per_second")) << j.dump();
  EXPECT_FALSE(j.contains("faults_per_second"));
  EXPECT_GT(j["trials_per_second"].get<double>(), 0.0);
}

// --- commands, --version, --quiet -------------------------------------------------------------------------------------

TEST(CliRoot, MistypedCommandsGetASuggestion) {
  for (const auto& [typed, meant] : std::vector<std::pair<std::string, std::string>>{
           {"optimise", "optimize"}, {"evl", "eval"}, {"injct", "inject"}, {"characterise", "characterize"}}) {
    const Result r = ftdla({typed, "--budget", "1"});
    expect_one_line_error(r, {"unknown command '" + typed + "'", "did you mean '" + meant + "'?"});
    EXPECT_EQ(r.status, 2);
  }
  const Result far = ftdla({"xyzzyplugh"});
  expect_one_line_error(far, {"unknown command 'xyzzyplugh'", "optimize"});
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
  // Options before the command are skipped when looking for it.
  expect_one_line_error(ftdla({"--quiet", "optimise"}), {"did you mean 'optimize'?"});
}

TEST(CliRoot, VersionAndQuiet) {
  const Result v = ftdla({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out.rfind("ftdla ", 0), 0u) << v.out;
  // --quiet before or after the command; optimize then prints no per-evaluation progress lines, the same
  // results.
  const TempDir d("ftdla-cli");
  const std::string space = d.file("space.json");
  write_file_atomic(space, R"({"k": [8], "fraction": [0.0], "lanes": [8], "harden_max": 0})");
  const Result loud = ftdla(kOptimize + std::vector<std::string>{"--space", space});
  const Result quiet1 = ftdla(std::vector<std::string>{"--quiet"} + kOptimize + std::vector<std::string>{"--space", space});
  const Result quiet2 = ftdla(kOptimize + std::vector<std::string>{"--space", space, "-q"});
  ASSERT_EQ(loud.status, 0) << loud.err;
  ASSERT_EQ(quiet1.status, 0) << quiet1.err;
  ASSERT_EQ(quiet2.status, 0) << quiet2.err;
  EXPECT_NE(loud.out.find("#1 best"), std::string::npos) << loud.out;
  for (const Result* q : {&quiet1, &quiet2}) {
    EXPECT_EQ(q->out.find("#1 best"), std::string::npos) << q->out;
    EXPECT_NE(q->out.find("search: 1 evaluations"), std::string::npos) << q->out;
    EXPECT_LT(q->out.size(), loud.out.size());
  }
}

// --- --help: defaults and an example ------------------------------------------------------------------------------------

TEST(CliHelp, EveryCommandShowsDefaultsAndAnExample) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"info", {"--rows INT=32", "--dataflow TEXT=ws"}},
      {"eval", {"=int", "--images INT=0", "--mean TEXT=0", "--calib-images INT=512"}},
      {"inject", {"--images INT=100", "--seed UINT=1", "--site TEXT=neuron", "--max-memory SIZE=4GiB"}},
      {"characterize", {"--neurons INT=", "--images INT=", "--trials INT "}},
      {"evaluate", {"--ber FLOAT=0.002", "--trials INT=250", "--validation-trials INT=20000"}},
      {"optimize", {"--budget UINT=30", "--method TEXT=bo", "--objective TEXT=area", "--risk FLOAT=0.05"}},
      {"rtl", {"--wbits INT=8", "--accbits INT=32", "--module TEXT=ftdla_pe"}},
  };
  for (const auto& [cmd, defaults] : cases) {
    const Result r = ftdla({cmd, "--help"});
    EXPECT_EQ(r.status, 0) << cmd;
    for (const auto& d : defaults) EXPECT_NE(r.out.find(d), std::string::npos) << cmd << ": no '" << d << "' in\n" << r.out;
    EXPECT_NE(r.out.find("Example: ftdla " + cmd + " "), std::string::npos) << cmd << ":\n" << r.out;
  }
  const Result root = ftdla({"--help"});
  EXPECT_NE(root.out.find("--version"), std::string::npos) << root.out;
  EXPECT_NE(root.out.find("--quiet"), std::string::npos) << root.out;
}

}  // namespace
}  // namespace ftdla::cli
