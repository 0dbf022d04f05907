// `--data images.npy --labels labels.npy`: the same images as IDX files give the same results, a 3x32x32
// model runs end to end on .npy data, and bad data gets one line naming the mismatch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/data/dataset.hpp"
#include "run_ftdla.hpp"
#include "support/npy_writer.hpp"
#include "support/onnx_builder.hpp"

namespace ftdla::cli {
namespace {

using ftdla::test::npy_bytes;
using ftdla::test::OnnxBuilder;
using ftdla::test::ramp;
using ftdla::test::raw_bytes;
using ftdla::test::write_bytes;
using test::read_file;
using test::Result;
using test::expect_one_line_error;
using test::fixture;
using test::ftdla;
using test::operator+;

/// A tiny 3x32x32 conv net with fixed pseudo-random weights: Conv 3->8 (3x3, pad 1), Relu, MaxPool 2,
/// Conv 8->16 (3x3, pad 1), Relu, MaxPool 2, Flatten, Gemm 1024->10.
std::string tiny_rgb_model() {
  OnnxBuilder b({1, 3, 32, 32});
  auto scaled = [](std::vector<float> v, float s) {
    for (auto& x : v) x *= s;
    return v;
  };
  b.init("w1", {8, 3, 3, 3}, scaled(ramp(8 * 27, 11), 0.4f));
  b.init("b1", {8}, scaled(ramp(8, 12), 0.1f));
  auto* c1 = b.node("Conv", {"input", "w1", "b1"}, "c1", "conv1");
  OnnxBuilder::ints(c1, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c1"}, "r1");
  auto* p1 = b.node("MaxPool", {"r1"}, "p1");
  OnnxBuilder::ints(p1, "kernel_shape", {2, 2});
  OnnxBuilder::ints(p1, "strides", {2, 2});
  b.init("w2", {16, 8, 3, 3}, scaled(ramp(16 * 72, 13), 0.2f));
  b.init("b2", {16}, scaled(ramp(16, 14), 0.1f));
  auto* c2 = b.node("Conv", {"p1", "w2", "b2"}, "c2", "conv2");
  OnnxBuilder::ints(c2, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c2"}, "r2");
  auto* p2 = b.node("MaxPool", {"r2"}, "p2");
  OnnxBuilder::ints(p2, "kernel_shape", {2, 2});
  OnnxBuilder::ints(p2, "strides", {2, 2});
  auto* f = b.node("Flatten", {"p2"}, "f");
  OnnxBuilder::i(f, "axis", 1);
  b.init("w3", {10, 1024}, scaled(ramp(10 * 1024, 15), 0.1f));
  b.init("b3", {10}, scaled(ramp(10, 16), 0.1f));
  auto* g = b.node("Gemm", {"f", "w3", "b3"}, "logits", "fc");
  OnnxBuilder::i(g, "transB", 1);
  return b.finish("logits");
}

class NpyCli : public ::testing::Test {
 protected:
  TempDir dir{"ftdla-npy-cli"};
  std::string model() {
    const std::string p = dir.file("tiny_rgb.onnx");
    write_file_atomic(p, tiny_rgb_model());
    return p;
  }
  const std::vector<std::string> rgb = {"--data", fixture("rgb32_images.npy"), "--labels", fixture("rgb32_labels.npy"),
                                        "--calib-images", "64"};
};

// The first 300 Fashion-MNIST test images, as IDX files (t10k and train: the same images, so that the
// calibration images are the same too) and as .npy files written here: eval gives the same figures.
TEST_F(NpyCli, NpyGivesExactlyTheAccuracyOfTheIdxFilesOnTheSameImages) {
  data::IdxArray images, labels;
  try {
    images = data::read_idx(std::string(data::kDefaultDataDir) + "/t10k-images-idx3-ubyte.gz");
    labels = data::read_idx(std::string(data::kDefaultDataDir) + "/t10k-labels-idx1-ubyte.gz");
  } catch (const ImportError& e) {
    GTEST_SKIP() << "Fashion-MNIST not installed: " << e.what();
  }
  const int64_t n = 300, per = 28 * 28;
  auto be32 = [](uint32_t v) {
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
    return s;
  };
  const std::string px(images.bytes.begin(), images.bytes.begin() + n * per);
  const std::string lab(labels.bytes.begin(), labels.bytes.begin() + n);
  const std::string idx_dir = dir.file("idx");
  ASSERT_EQ(std::system(("mkdir -p " + idx_dir).c_str()), 0);
  for (const char* split : {"t10k", "train"}) {
    write_bytes(idx_dir + "/" + split + "-images-idx3-ubyte", be32(0x803) + be32(n) + be32(28) + be32(28) + px);
    write_bytes(idx_dir + "/" + split + "-labels-idx1-ubyte", be32(0x801) + be32(n) + lab);
  }
  write_bytes(dir.file("u8.npy"), npy_bytes("|u1", {n, 28, 28}, px));
  std::vector<float> f(static_cast<size_t>(n * per));
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(images.bytes[i]) / 255.0f;
  write_bytes(dir.file("f32.npy"), npy_bytes("<f4", {n, 1, 28, 28}, raw_bytes(f), 2));
  write_bytes(dir.file("labels.npy"), npy_bytes("<i8", {n}, raw_bytes(std::vector<int64_t>(lab.begin(), lab.end()))));

  auto eval = [&](const std::vector<std::string>& data, const std::string& precision) {
    const std::string out = dir.file("eval.json");
    std::vector<std::string> args{"eval", "--precision", precision, "--json", out};
    if (precision == "int") args = args + std::vector<std::string>{"--calib-images", "300"};  // float refuses it
    const Result r = ftdla(args + data);
    EXPECT_EQ(r.status, 0) << r.command << "\n" << r.err;
    return nlohmann::json::parse(read_file(out));
  };
  for (const char* precision : {"int", "float"}) {
    const nlohmann::json idx = eval({"--data", idx_dir}, precision);
    EXPECT_EQ(idx["images"], n);
    EXPECT_GT(idx["accuracy"].get<double>(), 0.5);
    for (const char* images_file : {"u8.npy", "f32.npy"}) {
      SCOPED_TRACE(std::string(precision) + " " + images_file);
      const nlohmann::json npy = eval({"--data", dir.file(images_file), "--labels", dir.file("labels.npy")}, precision);
      EXPECT_EQ(npy["images"], n);
      EXPECT_EQ(npy["correct"], idx["correct"]);
      EXPECT_EQ(npy["accuracy"], idx["accuracy"]);
    }
  }
  // Under faults too: the same campaign counts, trial by trial the same images and faults.
  auto inject = [&](const std::vector<std::string>& data) {
    const std::string out = dir.file("inject.json");
    const Result r = ftdla(std::vector<std::string>{"inject", "--faults", "2", "--trials", "300", "--images", "300",
                                                    "--calib-images", "300", "--json", out} + data);
    EXPECT_EQ(r.status, 0) << r.command << "\n" << r.err;
    return nlohmann::json::parse(read_file(out));
  };
  EXPECT_EQ(inject({"--data", idx_dir})["counts"], inject({"--data", dir.file("u8.npy"), "--labels", dir.file("labels.npy")})["counts"]);
}

TEST_F(NpyCli, A3x32x32ModelRunsEndToEndOnNpyData) {
  const std::string m = model(), out = dir.file("out.json");
  for (const char* precision : {"float", "int"}) {
    // The float model refuses calibration options: drop --calib-images 64 for it.
    const std::vector<std::string> data = std::string(precision) == "int" ? rgb : std::vector<std::string>(rgb.begin(), rgb.end() - 2);
    const Result r = ftdla(std::vector<std::string>{"eval", m, "--precision", precision, "--json", out} + data);
    ASSERT_EQ(r.status, 0) << r.command << "\n" << r.err;
    const nlohmann::json j = nlohmann::json::parse(read_file(out));
    EXPECT_EQ(j["images"], 64);
    EXPECT_GE(j["accuracy"].get<double>(), 0.0);
    EXPECT_EQ(j["labels"], fixture("rgb32_labels.npy"));
  }
  {
    const Result r = ftdla(std::vector<std::string>{"inject", m, "--ber", "1e-3", "--trials", "200", "--images", "64",
                                                    "--json", out} + rgb);
    ASSERT_EQ(r.status, 0) << r.command << "\n" << r.err;
    const nlohmann::json j = nlohmann::json::parse(read_file(out));
    EXPECT_EQ(j["counts"]["trials"], 200);
    EXPECT_GT(j["counts"]["faults"].get<int64_t>(), 0);
    EXPECT_TRUE(j.contains("trials_per_second"));
  }
  {
    const Result r = ftdla(std::vector<std::string>{"characterize", m, "--trials", "10", "--neurons", "2", "--images", "16",
                                                    "--json", out} + rgb);
    ASSERT_EQ(r.status, 0) << r.command << "\n" << r.err;
    const nlohmann::json j = nlohmann::json::parse(read_file(out));
    EXPECT_EQ(j["completed"], true);
    EXPECT_GT(j["injections"].get<int64_t>(), 0);
  }
  // Per-channel normalization: one value per channel is accepted and echoed, a wrong count is not.
  const Result per = ftdla(std::vector<std::string>{"eval", m, "--mean", "0.49,0.48,0.45", "--std", "0.25,0.24,0.26", "--json", out} + rgb);
  ASSERT_EQ(per.status, 0) << per.err;
  const nlohmann::json j = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(j["mean"].size(), 3u);
  EXPECT_EQ(j["std"].size(), 3u);
  expect_one_line_error(ftdla(std::vector<std::string>{"eval", m, "--mean", "0.5,0.5"} + rgb), {"mean", "2 values", "3 channels"});
  expect_one_line_error(ftdla(std::vector<std::string>{"eval", m, "--std", "0.5,x,1"} + rgb), {"--std", "0.5,x,1"});
  expect_one_line_error(ftdla(std::vector<std::string>{"eval", m, "--std", "0.5,0,1"} + rgb), {"--std", "> 0"});
}

TEST_F(NpyCli, MismatchesAreNamed) {
  // The shipped LeNet-5 (1x28x28) on 3x32x32 images, and the 3x32x32 model on Fashion-MNIST.
  expect_one_line_error(ftdla(std::vector<std::string>{"eval"} + rgb), {"[1,28,28]", "[3,32,32]"});
  expect_one_line_error(ftdla({"eval", model(), "--images", "10", "--calib-images", "10"}), {"[3,32,32]", "[1,28,28]"});
  // 64 images, 4 labels.
  expect_one_line_error(ftdla({"eval", model(), "--data", fixture("rgb32_images.npy"), "--labels", fixture("npy_labels_i32.npy")}),
                        {"rgb32_images.npy", "64 images", "npy_labels_i32.npy", "4 labels"});
  // Labels that are not classes of the model (10 outputs).
  std::vector<int64_t> many(64);
  for (int64_t i = 0; i < 64; ++i) many[static_cast<size_t>(i)] = i;
  write_bytes(dir.file("many.npy"), npy_bytes("<i8", {64}, raw_bytes(many)));
  expect_one_line_error(ftdla({"eval", model(), "--data", fixture("rgb32_images.npy"), "--labels", dir.file("many.npy"), "--calib-images", "8"}),
                        {"label 10", "image 10", "10 values"});
  // Types the reader does not take.
  expect_one_line_error(ftdla({"eval", "--data", fixture("npy_f64.npy"), "--labels", fixture("npy_labels_u8.npy")}),
                        {"npy_f64.npy", "<f8"});
  expect_one_line_error(ftdla({"eval", "--data", fixture("npy_fortran.npy"), "--labels", fixture("npy_labels_u8.npy")}),
                        {"npy_fortran.npy", "fortran_order"});
  // --data x.npy without --labels, --labels with an IDX directory.
  expect_one_line_error(ftdla({"eval", "--data", fixture("rgb32_images.npy")}), {"--labels"});
  expect_one_line_error(ftdla({"eval", "--labels", fixture("rgb32_labels.npy"), "--images", "10"}), {"--labels", "directory"});
}

}  // namespace
}  // namespace ftdla::cli
