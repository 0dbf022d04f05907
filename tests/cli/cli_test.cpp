// The real `ftdla` program on bad input: every problem gives a non-zero exit and a one-line message on
// stderr that names it. Plus the happy path of `eval --json` and `info`, and what `--max-memory` changes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/hash.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/text.hpp"
#include "ftdla/data/dataset.hpp"
#include "run_ftdla.hpp"
#include "support/npy_writer.hpp"

namespace ftdla::cli {
namespace {


// Fast settings for commands that quantize the model: few calibration and test images.
const std::vector<std::string> kFast = {"--calib-images", "64", "--images", "20"};

using test::kBinary;
using test::read_file;
using test::Result;
using test::expect_one_line_error;
using test::fixture;
using test::ftdla;
using test::operator+;

// --- Model files -------------------------------------------------------------------------------------

TEST(CliModelErrors, TruncatedOnnxFile) {
  for (const char* cmd : {"info", "eval"}) {
    const Result r = ftdla({cmd, fixture("bad_truncated.onnx")});
    expect_one_line_error(r, {"bad_truncated.onnx", "not a valid ONNX model"});
    EXPECT_EQ(r.status, 1);
  }
}

TEST(CliModelErrors, NonOnnxFile) {
  const Result r = ftdla({"info", fixture("bad_not_onnx.onnx")});
  expect_one_line_error(r, {"bad_not_onnx.onnx", "not a valid ONNX model"});
}

TEST(CliModelErrors, MissingModelFile) {
  const Result r = ftdla({"info", "/nonexistent/model.onnx"});
  expect_one_line_error(r, {"/nonexistent/model.onnx"});
}

TEST(CliModelErrors, UnsupportedOpNamesOpAndNode) {
  for (const char* cmd : {"info", "eval"}) {
    const Result r = ftdla(std::vector<std::string>{cmd, fixture("bad_unsupported_op.onnx")} +
                           (std::string(cmd) == "eval" ? kFast : std::vector<std::string>{}));
    expect_one_line_error(r, {"Sigmoid", "my_sigmoid", "unsupported op"});
  }
}

TEST(CliModelErrors, InputShapeThatDoesNotFitTheData) {
  for (const char* precision : {"int", "float"}) {
    // The float model takes no calibration option (it would be refused).
    const std::vector<std::string> fast = std::string(precision) == "int" ? kFast : std::vector<std::string>{"--images", "20"};
    const Result r = ftdla(std::vector<std::string>{"eval", fixture("bad_input_shape.onnx"), "--precision", precision} + fast);
    expect_one_line_error(r, {"[3,32,32]", "[1,28,28]"});
  }
}

// --- Data ----------------------------------------------------------------------------------------------

TEST(CliDataErrors, MissingDatasetDirectory) {
  const Result r = ftdla(std::vector<std::string>{"eval", "--data", "/nonexistent"} + kFast);
  expect_one_line_error(r, {"/nonexistent", "not found"});
}

void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
}

/// Plain (not gzipped) IDX files: `images` 28x28 images and `labels` labels.
void write_idx_split(const std::string& dir, const std::string& prefix, uint32_t images, uint32_t labels) {
  std::string img, lab;
  put_be32(img, 0x00000803);
  put_be32(img, images);
  put_be32(img, 28);
  put_be32(img, 28);
  for (uint32_t i = 0; i < images * 28 * 28; ++i) img += static_cast<char>(i % 251);
  put_be32(lab, 0x00000801);
  put_be32(lab, labels);
  for (uint32_t i = 0; i < labels; ++i) lab += static_cast<char>(i % 10);
  std::ofstream(dir + "/" + prefix + "-images-idx3-ubyte", std::ios::binary) << img;
  std::ofstream(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary) << lab;
}

/// --calib-images 5 for the integer model; nothing for the float one (which refuses calibration options).
std::vector<std::string> calib5(const std::string& precision) {
  return precision == "int" ? std::vector<std::string>{"--calib-images", "5"} : std::vector<std::string>{};
}

TEST(CliDataErrors, ImageLabelCountMismatch) {
  const TempDir d("ftdla-cli");
  write_idx_split(d.path(), "t10k", 5, 4);
  write_idx_split(d.path(), "train", 5, 5);
  for (const char* precision : {"int", "float"}) {
    const Result r = ftdla(std::vector<std::string>{"eval", "--data", d.path(), "--precision", precision} + calib5(precision));
    expect_one_line_error(r, {"5", "4"});
    EXPECT_TRUE(r.err.find("label") != std::string::npos) << r.err;
  }
}

TEST(CliDataErrors, WellFormedPlainIdxSetEvaluates) {
  // The same writer with matching counts gives a working data set: the mismatch test fails for the
  // right reason.
  const TempDir d("ftdla-cli");
  write_idx_split(d.path(), "t10k", 5, 5);
  write_idx_split(d.path(), "train", 5, 5);
  const Result r = ftdla({"eval", "--data", d.path(), "--calib-images", "5"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("5 images"), std::string::npos) << r.out;
}

/// Like write_idx_split, with label i equal to `label(i)`.
template <typename Label>
void write_idx_split_labels(const std::string& dir, const std::string& prefix, uint32_t images, Label label) {
  write_idx_split(dir, prefix, images, images);
  std::string lab;
  put_be32(lab, 0x00000801);
  put_be32(lab, images);
  for (uint32_t i = 0; i < images; ++i) lab += static_cast<char>(label(i));
  std::ofstream(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary) << lab;
}

TEST(CliDataErrors, LabelOutsideTheModelsClassesNamesTheImage) {
  // LeNet-5 has 10 classes: label 10 (first at image 7) and 200 can never be predicted.
  const TempDir d("ftdla-cli");
  write_idx_split_labels(d.path(), "t10k", 12, [](uint32_t i) { return i == 7 || i == 9 ? (i == 7 ? 10 : 200) : i % 10; });
  write_idx_split(d.path(), "train", 5, 5);
  for (const char* precision : {"int", "float"}) {
    const Result r = ftdla(std::vector<std::string>{"eval", "--data", d.path(), "--precision", precision} + calib5(precision));
    expect_one_line_error(r, {"label 10 of image 7", "10 classes"});
  }
  const Result inj = ftdla({"inject", "--data", d.path(), "--faults", "1", "--trials", "5", "--calib-images", "5"});
  expect_one_line_error(inj, {"label 10 of image 7"});
}

TEST(CliDataErrors, EmptyTestSetIsAnError) {
  // Accuracy over no images used to print 0.0000 (and optimize called designs feasible on nothing).
  const TempDir d("ftdla-cli");
  write_idx_split(d.path(), "t10k", 0, 0);
  write_idx_split(d.path(), "train", 5, 5);
  const Result r = ftdla({"eval", "--data", d.path(), "--calib-images", "5"});
  expect_one_line_error(r, {d.path(), "no images"});
  const Result opt = ftdla({"optimize", "--data", d.path(), "--calib-images", "5", "--budget", "1", "--cache", "none"});
  expect_one_line_error(opt, {"no images"});
}

// --- Quantization options -------------------------------------------------------------------------------

TEST(CliQuantErrors, BitWidthsOutOfRange) {
  struct Case {
    const char* option;
    const char* value;
    const char* key;
  };
  for (const Case c : {Case{"--wbits", "1", "wbits"}, Case{"--wbits", "17", "wbits"}, Case{"--abits", "17", "abits"},
                       Case{"--abits", "1", "abits"}, Case{"--accbits", "40", "accbits"}, Case{"--accbits", "7", "accbits"}}) {
    for (const char* cmd : {"eval", "inject"}) {
      std::vector<std::string> args = {cmd, c.option, c.value, "--calib-images", "64"};
      if (std::string(cmd) == "inject") args = args + std::vector<std::string>{"--faults", "1", "--trials", "1", "--images", "2"};
      else args = args + std::vector<std::string>{"--images", "20"};
      const Result r = ftdla(args);
      expect_one_line_error(r, {c.key, c.value});
      EXPECT_EQ(r.status, 2) << r.command;
    }
  }
}

// --- inject -------------------------------------------------------------------------------------------------

const std::vector<std::string> kInjectFast = {"--calib-images", "64", "--images", "10"};

TEST(CliInjectErrors, UnknownSite) {
  const Result r = ftdla(std::vector<std::string>{"inject", "--site", "bogus", "--faults", "1", "--trials", "10"} + kInjectFast);
  expect_one_line_error(r, {"site", "bogus"});
}

TEST(CliInjectErrors, BitErrorRateOutsideZeroOne) {
  for (const char* ber : {"-1", "2", "1.5"}) {
    const Result r = ftdla(std::vector<std::string>{"inject", "--ber", ber, "--trials", "10"} + kInjectFast);
    expect_one_line_error(r, {"--ber", ber});
  }
}

TEST(CliInjectErrors, ZeroTrials) {
  const Result r = ftdla(std::vector<std::string>{"inject", "--faults", "1", "--trials", "0"} + kInjectFast);
  expect_one_line_error(r, {"--trials"});
}

TEST(CliInjectErrors, ZeroArrayRows) {
  const Result r = ftdla(std::vector<std::string>{"inject", "--faults", "1", "--trials", "10", "--rows", "0"} + kInjectFast);
  expect_one_line_error(r, {"rows"});
}

TEST(CliInjectErrors, NoFaultModel) {
  const Result r = ftdla(std::vector<std::string>{"inject", "--trials", "10"} + kInjectFast);
  expect_one_line_error(r, {"--ber", "--faults", "--permanent"});
}

TEST(CliInjectErrors, ResumeFileFromADifferentConfigurationIsRejectedAndKept) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("campaign.json");
  const std::vector<std::string> base = std::vector<std::string>{"inject", "--faults", "1", "--trials", "40", "--json", out} + kInjectFast;
  const Result first = ftdla(base + std::vector<std::string>{"--seed", "1"});
  ASSERT_EQ(first.status, 0) << first.err;
  const std::string saved = read_file(out);
  ASSERT_FALSE(saved.empty());
  struct stat before{};
  ASSERT_EQ(::stat(out.c_str(), &before), 0);

  const std::vector<std::vector<std::string>> changes = {
      {"--seed", "2"}, {"--site", "acc", "--seed", "1"}, {"--seed", "1", "--wbits", "6"}, {"--seed", "1", "--rows", "16"}};
  for (const auto& change : changes) {
    const Result r = ftdla(base + change + std::vector<std::string>{"--resume"});
    expect_one_line_error(r, {out, "different configuration"});
    EXPECT_EQ(read_file(out), saved) << "resume file was modified by: " << r.command;
  }
  struct stat after{};
  ASSERT_EQ(::stat(out.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "resume file was replaced";
  // Only the saved file is there: no leftover temporary from an atomic write.
  const int only_saved = std::system(("test \"$(ls -A " + shell_quote(d.path()) + ")\" = campaign.json").c_str());
  EXPECT_EQ(only_saved, 0) << "unexpected files in " << d.path();

  // Resuming with the same configuration is accepted.
  const Result same = ftdla(base + std::vector<std::string>{"--seed", "1", "--resume"});
  EXPECT_EQ(same.status, 0) << same.err;
}

TEST(CliOptimizeErrors, ResumeFileFromADifferentConfigurationIsRejectedAndKept) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("optimize.json"), space = d.file("space.json");
  write_file_atomic(space, R"({"k": [8], "fraction": [0.0], "lanes": [8], "harden_max": 1})");
  // The options that may change: seed, budget, trials, ber, objective.
  auto args = [&](std::vector<std::string> v) {
    const std::vector<std::string> fixed = {"optimize", "--cache", "none", "--calib-images", "64", "--max-trials", "50", "--images",
                                            "100", "--validation-images", "0", "--space", space, "--json", out};
    return fixed + v;
  };
  const std::vector<std::string> same_config = {"--seed", "1", "--budget", "2", "--trials", "50"};
  const Result first = ftdla(args(same_config));
  ASSERT_EQ(first.status, 0) << first.err;
  const std::string saved = read_file(out);
  const auto j = nlohmann::json::parse(saved);
  EXPECT_EQ(j.at("completed"), true);
  EXPECT_TRUE(j.contains("checksum") && j.contains("config") && j.contains("measurements"));
  const std::vector<std::vector<std::string>> changes = {
      {"--seed", "2", "--budget", "2", "--trials", "50"},
      {"--seed", "1", "--budget", "3", "--trials", "50"},
      {"--seed", "1", "--budget", "2", "--trials", "40"},
      {"--seed", "1", "--budget", "2", "--trials", "50", "--ber", "1e-3"},
      {"--seed", "1", "--budget", "2", "--trials", "50", "--objective", "energy"}};
  for (const auto& change : changes) {
    const Result r = ftdla(args(change + std::vector<std::string>{"--resume"}));
    expect_one_line_error(r, {out, "different configuration"});
    EXPECT_EQ(read_file(out), saved) << "resume file was modified by: " << r.command;
  }
  expect_one_line_error(ftdla(std::vector<std::string>{"optimize", "--json", "-", "--resume"}), {"--resume"});
  // The same configuration resumes the completed run to the same result (timing and memory aside).
  const Result same = ftdla(args(same_config + std::vector<std::string>{"--resume"}));
  ASSERT_EQ(same.status, 0) << same.err;
  auto strip = [](nlohmann::json x) {
    for (const char* k : {"checksum", "peak_rss_mb"}) x.erase(k);
    for (auto& h : x["history"]) h.erase("seconds");
    for (auto& [name, b] : x["baselines"].items()) b.erase("seconds");
    if (x["best"].is_object()) x["best"].erase("seconds");
    return x;
  };
  EXPECT_EQ(strip(nlohmann::json::parse(read_file(out))), strip(j));
}

TEST(CliInjectErrors, ResumeWithoutSavedFile) {
  const TempDir d("ftdla-cli");
  const Result r = ftdla(std::vector<std::string>{"inject", "--faults", "1", "--trials", "10", "--json", d.file("none.json"), "--resume"} +
                         kInjectFast);
  expect_one_line_error(r, {"none.json"});
}

/// `j` with the checksum a resumable result file carries (FNV-1a 64 of the compact dump without it):
/// what someone editing a file by hand could recompute.
nlohmann::json rechecksum(nlohmann::json j) {
  j.erase("checksum");
  j["checksum"] = "fnv1a64:" + hex64(fnv1a64(j.dump()));
  return j;
}

TEST(CliInjectErrors, CorruptResumeFilesAreOneLineErrors) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("campaign.json");
  const std::vector<std::string> base = std::vector<std::string>{"inject", "--faults", "1", "--trials", "40", "--json", out} + kInjectFast;
  ASSERT_EQ(ftdla(base).status, 0);
  const nlohmann::json good = nlohmann::json::parse(read_file(out));
  ASSERT_TRUE(good.contains("checksum"));
  const std::vector<std::string> resume = base + std::vector<std::string>{"--resume"};
  ASSERT_EQ(ftdla(resume).status, 0) << "the intact file resumes: the errors below come from the edits";
  auto counts = [&](const char* key, int64_t v) {
    nlohmann::json j = good;
    j["counts"][key] = v;
    return rechecksum(j);
  };
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {counts("trials", -1000), "trials = -1000 is negative"},  // used to segfault in Injector::run
      {counts("sdc", 41), "exceeds trials"},                     // used to fail an assertion (exit 3)
      {counts("sdc", -5), "sdc = -5 is negative"},               // used to finish with wrong totals
  };
  for (const auto& [j, names] : cases) {
    write_file_atomic(out, j.dump(2));
    const Result r = ftdla(resume);
    expect_one_line_error(r, {out, names});
    EXPECT_EQ(r.status, 1) << r.command;
  }
  nlohmann::json edited = good;
  edited["counts"]["faults"] = good["counts"]["faults"].get<int64_t>() + 1;  // a plausible hand edit, old checksum
  write_file_atomic(out, edited.dump(2));
  expect_one_line_error(ftdla(resume), {out, "checksum mismatch"});
  const std::string text = good.dump(2);
  write_file_atomic(out, text.substr(0, text.size() - 40));
  expect_one_line_error(ftdla(resume), {out, "not a ftdla result file"});
}

TEST(CliInjectErrors, ResumeWithAnotherModelAtTheSamePathIsRejected) {
  const TempDir d("ftdla-cli");
  const std::string model = d.file("model.onnx"), out = d.file("campaign.json");
  const std::string lenet = read_file(std::string(FTDLA_SOURCE_DIR) + "/models/lenet5.onnx");
  write_file_atomic(model, lenet);
  const std::vector<std::string> base = std::vector<std::string>{"inject", model, "--faults", "1", "--trials", "20", "--json", out} + kInjectFast;
  ASSERT_EQ(ftdla(base).status, 0);
  EXPECT_EQ(ftdla(base + std::vector<std::string>{"--resume"}).status, 0) << "same bytes: resumable";
  // Same path, different weights: the middle of the file is fc1's float data; flipping bit 0 of one byte
  // changes one weight slightly (still a valid model of the same shape).
  std::string changed = lenet;
  changed[changed.size() / 2] ^= 0x01;
  write_file_atomic(model, changed);
  const std::string saved = read_file(out);
  expect_one_line_error(ftdla(base + std::vector<std::string>{"--resume"}), {out, "different configuration", "model_fnv1a64"});
  EXPECT_EQ(read_file(out), saved);
}

TEST(CliCharacterizeErrors, ResumeCountsOutsideTheirStratumAreRejected) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("vuln.json");
  const std::vector<std::string> base = {"characterize", "--trials", "10", "--neurons", "2", "--images", "10",
                                         "--calib-images", "64", "--json", out};
  ASSERT_EQ(ftdla(base).status, 0);
  nlohmann::json j = nlohmann::json::parse(read_file(out));
  ASSERT_TRUE(j.contains("checksum"));
  const int64_t sdc0 = j["strata_sdc"][0].get<int64_t>();
  EXPECT_EQ(ftdla(base + std::vector<std::string>{"--resume"}).status, 0) << "intact file: resumable";
  j["strata_sdc"][0] = 11;  // more SDCs than the stratum's 10 injections
  write_file_atomic(out, rechecksum(j).dump(2));
  expect_one_line_error(ftdla(base + std::vector<std::string>{"--resume"}), {out, "strata_sdc[0] = 11"});
  j["strata_sdc"][0] = sdc0 == 0 ? 1 : sdc0 - 1;  // a plausible hand edit, old checksum
  write_file_atomic(out, j.dump(2));
  expect_one_line_error(ftdla(base + std::vector<std::string>{"--resume"}), {out, "checksum mismatch"});
}

// --- --max-memory ---------------------------------------------------------------------------------------------

TEST(CliMaxMemory, NonsenseValuesAreRejectedByEveryCommandThatBuildsAGoldenSet) {
  const std::string design = std::string(FTDLA_SOURCE_DIR) + "/examples/configs/design_full_tmr.json";
  const std::vector<std::vector<std::string>> commands = {
      std::vector<std::string>{"inject", "--faults", "1", "--trials", "10"} + kInjectFast,
      {"characterize", "--trials", "10", "--images", "10", "--calib-images", "64"},
      {"evaluate", "--design", design, "--cache", "none", "--calib-images", "64"},
      {"optimize", "--budget", "1", "--cache", "none", "--calib-images", "64"}};
  for (const auto& cmd : commands) {
    for (const char* bad : {"0", "abc", "-1", "0K", "4X", "1.5", "99999999999999999999", "8388608T"}) {
      const Result r = ftdla(cmd + std::vector<std::string>{"--max-memory=" + std::string(bad)});
      expect_one_line_error(r, {"--max-memory", bad});
      EXPECT_EQ(r.status, 2) << r.command;
    }
  }
  // The separate-argument form too, and the help shows the default.
  const Result r = ftdla(commands[0] + std::vector<std::string>{"--max-memory", "abc"});
  expect_one_line_error(r, {"--max-memory", "abc"});
  EXPECT_EQ(r.status, 2);
  for (const char* cmd : {"inject", "characterize", "evaluate", "optimize"}) {
    const Result help = ftdla({cmd, "--help"});
    EXPECT_EQ(help.status, 0) << cmd;
    EXPECT_NE(help.out.find("--max-memory SIZE=4GiB"), std::string::npos) << help.out;
  }
}

TEST(CliMaxMemory, GoldenRunsRecomputedUnderATinyBoundGiveTheSameCounts) {
  const TempDir d("ftdla-cli");
  auto run = [&](const std::vector<std::string>& extra) {
    const std::string out = d.file("inject.json");
    const Result r = ftdla(std::vector<std::string>{"inject", "--faults", "2", "--trials", "200", "--json", out} + kInjectFast + extra);
    EXPECT_EQ(r.status, 0) << r.command << "\n" << r.err;
    return nlohmann::json::parse(read_file(out));
  };
  const nlohmann::json stored = run({});
  EXPECT_EQ(stored["golden_stored"], true);
  EXPECT_GT(stored["golden_mb"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(stored["max_memory_mb"].get<double>(), 4096.0);
  EXPECT_GT(stored["peak_rss_mb"].get<double>(), 0.0);
  EXPECT_LT(stored["peak_rss_mb"].get<double>(), 1e6);
  EXPECT_EQ(stored["counts"]["trials"], 200);

  const nlohmann::json recomputed = run({"--max-memory", "1K"});
  EXPECT_EQ(recomputed["golden_stored"], false);
  EXPECT_EQ(recomputed["golden_mb"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(recomputed["max_memory_mb"].get<double>(), 1.0 / 1024);
  EXPECT_GT(recomputed["peak_rss_mb"].get<double>(), 0.0);
  EXPECT_EQ(recomputed["counts"], stored["counts"]);
  EXPECT_EQ(recomputed["config"], stored["config"]) << "the bound is not part of the configuration (resume works across it)";
}

// --- Happy paths -------------------------------------------------------------------------------------------

TEST(CliEval, JsonHasTheDocumentedKeys) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("out.json");
  const Result r = ftdla({"eval", "--images", "200", "--calib-images", "64", "--json", out});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(out));
  for (const char* key : {"model", "precision", "images", "accuracy", "wbits", "abits", "accbits", "peak_rss_mb"})
    EXPECT_TRUE(j.contains(key)) << "missing key '" << key << "' in " << j.dump();
  EXPECT_NE(j["model"].get<std::string>().find("lenet5.onnx"), std::string::npos);
  EXPECT_EQ(j["precision"], "int");
  EXPECT_EQ(j["images"], 200);
  EXPECT_GE(j["accuracy"].get<double>(), 0.0);
  EXPECT_LE(j["accuracy"].get<double>(), 1.0);
  EXPECT_GT(j["accuracy"].get<double>(), 0.5) << "LeNet-5 on 200 Fashion-MNIST images";
  EXPECT_EQ(j["wbits"], 8);
  EXPECT_EQ(j["abits"], 8);
  EXPECT_EQ(j["accbits"], 32);
  EXPECT_GT(j["peak_rss_mb"].get<double>(), 0.0);
}

TEST(CliEval, BitWidthsAreEchoedAndQuantOptionsWithFloatPrecisionAreRejected) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("out.json");
  const Result r = ftdla({"eval", "--images", "50", "--wbits", "6", "--abits", "7", "--accbits", "24",
                          "--calib-images", "64", "--json", out});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(j["precision"], "int");
  EXPECT_EQ(j["images"], 50);
  EXPECT_EQ(j["wbits"], 6);
  EXPECT_EQ(j["abits"], 7);
  EXPECT_EQ(j["accbits"], 24);
  EXPECT_EQ(j["quantization"], "calibrated");
  EXPECT_EQ(j["requantization"], "fixed_point");
  // The float model uses none of them: each is refused rather than ignored.
  for (const auto& opt : std::vector<std::vector<std::string>>{{"--wbits", "6"}, {"--calib", "percentile"}, {"--calib-images", "64"},
                                                                {"--range", "rescale"}, {"--requant", "float"}})
    expect_one_line_error(ftdla(std::vector<std::string>{"eval", "--images", "50", "--precision", "float"} + opt),
                          {opt[0], "--precision float"});
}

TEST(CliEval, PreQuantizedModelUsesItsOwnScales) {
  const std::string qdq = fixture("qdq/lenet5_qdq.onnx");
  const TempDir d("ftdla-cli");
  const std::string out = d.file("out.json");
  const Result r = ftdla({"eval", qdq, "--images", "300", "--json", out});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(j["quantization"], "model");
  EXPECT_EQ(j["requantization"], "float");
  EXPECT_GT(j["accuracy"].get<double>(), 0.8);
  const Result fixed = ftdla({"eval", qdq, "--images", "300", "--requant", "fixed", "--json", "-"});
  ASSERT_EQ(fixed.status, 0) << fixed.err;
  EXPECT_EQ(nlohmann::json::parse(fixed.out)["requantization"], "fixed_point");
  const Result recal = ftdla({"eval", qdq, "--images", "300", "--quantization", "calibrate", "--wbits", "6", "--calib-images", "64", "--json", "-"});
  ASSERT_EQ(recal.status, 0) << recal.err;
  EXPECT_EQ(nlohmann::json::parse(recal.out)["quantization"], "calibrated");
  // Options that would change the model's own quantization are refused, naming what to do instead.
  expect_one_line_error(ftdla({"eval", qdq, "--images", "50", "--wbits", "6"}), {"8-bit", "calibrate"});
  expect_one_line_error(ftdla({"eval", qdq, "--images", "50", "--calib", "percentile"}), {"--calib", "own scales"});
  expect_one_line_error(ftdla({"eval", "--images", "50", "--quantization", "model"}), {"no scales of its own"});
  expect_one_line_error(ftdla({"eval", qdq, "--images", "50", "--requant", "nearest"}), {"--requant"});
}

TEST(CliEval, CalibrationImagesFromAnNpyFile) {
  // The first 64 training images as .npy calibrate exactly as --calib-images 64 on the IDX set.
  const TempDir d("ftdla-cli");
  const Result idx = ftdla({"eval", "--images", "300", "--calib-images", "64", "--json", "-"});
  ASSERT_EQ(idx.status, 0) << idx.err;
  const data::Dataset train = data::load_split(data::kDefaultDataDir, "train", {0.0f, 1.0f, 64});
  std::string bytes(train.pixels.size(), '\0');
  for (size_t i = 0; i < train.pixels.size(); ++i) bytes[i] = static_cast<char>(static_cast<int>(train.pixels[i] * 255.0f + 0.5f));
  ftdla::test::write_bytes(d.file("calib.npy"), ftdla::test::npy_bytes("|u1", {64, 28, 28}, bytes));
  const Result npy = ftdla({"eval", "--images", "300", "--calib-data", d.file("calib.npy"), "--json", "-"});
  ASSERT_EQ(npy.status, 0) << npy.err;
  EXPECT_EQ(nlohmann::json::parse(npy.out)["accuracy"], nlohmann::json::parse(idx.out)["accuracy"]);
  EXPECT_EQ(nlohmann::json::parse(npy.out)["calib_data"], d.file("calib.npy"));
  expect_one_line_error(ftdla({"eval", "--images", "50", "--calib-data", d.file("nope.npy")}), {"nope.npy"});
}

// --- decisions on intervals, validation -----------------------------------------------------------------

TEST(CliOptimize, NonsenseDecisionOptionsAreRejected) {
  const std::vector<std::string> base = {"optimize", "--budget", "1", "--cache", "none", "--calib-images", "64"};
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--risk", "0"}, "--risk"},           {{"--risk", "0.5"}, "--risk"},
      {{"--risk", "-1"}, "--risk"},          {{"--trials", "0"}, "--trials"},
      {{"--trials", "500", "--max-trials", "400"}, "--max-trials"},
      {{"--validation-images", "10000"}, "--validation-images"}};
  for (const auto& [extra, name] : cases) {
    const Result r = ftdla(base + extra);
    expect_one_line_error(r, {name});
    EXPECT_EQ(r.status, 2) << r.command;
  }
  const Result help = ftdla({"optimize", "--help"});
  for (const char* opt : {"--risk", "--max-trials", "--validation-images", "--validation-trials"})
    EXPECT_NE(help.out.find(opt), std::string::npos) << opt;
}

TEST(CliOptimize, SpaceIntegersThatWouldWrapOrTruncateAreRejected) {
  const TempDir d("ftdla-cli");
  const std::string space = d.file("space.json");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"k": [4294967302]})", "space.k[0]"},  // used to run as k = 6
      {R"({"k": [4.7]})", "space.k[0]: must be an integer"},  // used to run as k = 4
      {R"({"lanes": [1, 2.5]})", "space.lanes[1]: must be an integer"},
      {R"({"harden_max": 1e10})", "space.harden_max"},
      {R"({"accel": {"rows": 4294967328}})", "space.accel.rows"}};
  for (const auto& [text, name] : cases) {
    write_file_atomic(space, text);
    const Result r = ftdla({"optimize", "--space", space, "--budget", "1", "--cache", "none"});
    expect_one_line_error(r, {name});
    EXPECT_EQ(r.status, 2) << text;
  }
}

TEST(CliOptimize, HostileJsonGivesAShortOneLineError) {
  const TempDir d("ftdla-cli");
  const std::string space = d.file("space.json");
  write_file_atomic(space, std::string(5000000, '['));  // used to exhaust memory at 50M levels
  expect_one_line_error(ftdla({"optimize", "--space", space, "--budget", "1"}), {space, "nested deeper than 64"});
  const std::string huge(10 << 20, 'k');
  for (const std::string& text : {"{\"" + huge + "\": 1}", "{\"k\": [\"" + huge + "\"]}", "{\"k\": [1, " + huge + "]}"}) {
    write_file_atomic(space, text);
    const Result r = ftdla({"optimize", "--space", space, "--budget", "1"});
    expect_one_line_error(r, {"space"});
    EXPECT_LT(r.err.size(), 400u) << "error echoes the huge value: " << r.err.substr(0, 400);
  }
}

TEST(CliOptimize, ValidatesTheChosenDesignAndEveryBaselineOnHeldOutImages) {
  const TempDir d("ftdla-cli");
  const std::string out = d.file("opt.json"), space = d.file("space.json");
  write_file_atomic(space, R"({"k": [7, 8], "fraction": [0.0], "lanes": [8], "harden_max": 2})");
  const Result r = ftdla({"optimize", "--budget", "2", "--cache", "none", "--calib-images", "64", "--space", space,
                          "--trials", "100", "--max-trials", "400", "--images", "500",
                          "--validation-images", "1000", "--validation-trials", "300", "--json", out});
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(j["risk"], 0.05);
  EXPECT_EQ(j["validation_images"], 1000);
  EXPECT_EQ(j["search_images"], 9000);
  int64_t total = 0;
  for (const auto& h : j["history"]) {
    EXPECT_GE(h["injections"].get<int64_t>(), 100);
    EXPECT_LE(h["injections"].get<int64_t>(), 400);
  }
  for (const char* b : {"unprotected", "full_tmr", "algorithm_only", "architecture_only", "circuit_only"}) {
    const auto& e = j["baselines"][b];
    if (!e["cached"].get<bool>()) total += e["injections"].get<int64_t>();
    const auto& v = e["validation"];
    ASSERT_TRUE(v.is_object()) << b;
    EXPECT_EQ(v["injections"], 300) << b;
    EXPECT_EQ(v["images"], 300) << b;  // 300 trials, one per held-out image
    EXPECT_NE(v["seed"], j["seed"]) << b;
    for (const char* key : {"faulty_accuracy", "faulty_accuracy_ci95", "feasible", "decision", "reliability_target"})
      EXPECT_TRUE(v.contains(key)) << b << " " << key;
    const double lo = v["faulty_accuracy_ci95"][0], hi = v["faulty_accuracy_ci95"][1], acc = v["faulty_accuracy"];
    EXPECT_LE(lo, acc);
    EXPECT_GE(hi, acc);
  }
  EXPECT_GT(j["injections"].get<int64_t>(), 0);
  EXPECT_GE(j["injections"].get<int64_t>(), total);
  EXPECT_EQ(j["baselines"]["full_tmr"]["validation"]["decision"], "feasible");
  EXPECT_EQ(j["baselines"]["unprotected"]["validation"]["decision"], "infeasible");
  EXPECT_NE(r.out.find("faulty (validated)"), std::string::npos) << r.out;
}

TEST(CliInfo, ListsTheLayers) {
  const Result r = ftdla({"info"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("lenet5.onnx"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MACs"), std::string::npos) << r.out;
  for (const char* op : {"Conv", "Gemm", "MaxPool"}) EXPECT_NE(r.out.find(op), std::string::npos) << op << " in\n" << r.out;
  // A header line, the summary line and at least one line per LeNet-5 layer (2 conv, 2 pool, 3 fc).
  EXPECT_GE(std::count(r.out.begin(), r.out.end(), '\n'), 2 + 7) << r.out;
}

}  // namespace
}  // namespace ftdla::cli
