// `ftdla run`: tensors in and out (.pb, .npy), single-operator models, the integer model against the
// in-process integer engine, and one-line errors for bad tensors and options.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ftdla/core/temp_dir.hpp"
#include "ftdla/data/dataset.hpp"
#include "ftdla/data/tensor_io.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "onnx/onnx_pb.h"
#include "run_ftdla.hpp"
#include "support/npy_writer.hpp"
#include "support/onnx_builder.hpp"

namespace ftdla::cli {
namespace {

using ftdla::test::npy_bytes;
using ftdla::test::OnnxBuilder;
using ftdla::test::raw_bytes;
using ftdla::test::write_bytes;
using test::expect_one_line_error;
using test::ftdla;
using test::Result;

const std::string kLenet = FTDLA_SOURCE_DIR "/models/lenet5.onnx";

/// The first `n` Fashion-MNIST test images as a [n,1,28,28] tensor (what ftdla eval reads).
Tensor<float> test_images(int64_t n) {
  const data::Dataset d = data::load_split(data::kDefaultDataDir, "test", data::DataOptions(0.0f, 1.0f, n));
  Shape s{n};
  s.insert(s.end(), d.image_shape.begin(), d.image_shape.end());
  return {s, d.pixels};
}

std::string write_model(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  write_bytes(path, bytes);
  return path;
}

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, float tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(RunCommand, FloatLenetMatchesTheFloatEngineInBothFormats) {
  const TempDir dir("ftdla-run");
  const Tensor<float> x = test_images(3);
  data::write_tensor(dir.file("x.npy"), x, "input");
  data::write_tensor(dir.file("x.pb"), x, "input");
  const model::Graph g = model::load_onnx(kLenet);
  for (const char* in : {"x.npy", "x.pb"})
    for (const char* out : {"y.npy", "y.pb"}) {
      const Result r = ftdla({"run", kLenet, "--input", dir.file(in), "--output", dir.file(out)});
      ASSERT_EQ(r.status, 0) << r.err;
      const Tensor<float> y = data::read_tensor(dir.file(out));
      ASSERT_EQ(y.shape, (Shape{3, 10})) << in << " -> " << out;
      for (int64_t i = 0; i < 3; ++i) {
        const std::vector<float> want = model::FloatEngine(g).run_output(x.data.data() + i * 784);
        EXPECT_EQ(std::vector<float>(y.data.begin() + i * 10, y.data.begin() + (i + 1) * 10), want);
      }
    }
}

TEST(RunCommand, IntegerLenetMatchesTheIntegerEngineInProcess) {
  const TempDir dir("ftdla-run");
  const Tensor<float> x = test_images(4);
  data::write_tensor(dir.file("x.npy"), x, "input");
  const Result raw = ftdla({"run", kLenet, "--input", dir.file("x.npy"), "--output", dir.file("raw.npy"), "--precision", "int",
                            "--int-output", "raw"});
  ASSERT_EQ(raw.status, 0) << raw.err;
  const Result deq = ftdla({"run", kLenet, "--input", dir.file("x.npy"), "--output", dir.file("deq.pb"), "--precision", "int"});
  ASSERT_EQ(deq.status, 0) << deq.err;

  // The same quantization as every command: default options, the first 512 training images.
  const model::Graph g = model::load_onnx(kLenet);
  const quant::QuantOptions qo;
  const data::Dataset calib = data::load_split(data::kDefaultDataDir, "train", data::DataOptions(0.0f, 1.0f, qo.calib_images));
  const quant::QGraph q = quant::quantize(g, calib, qo);
  const engine::IntegerEngine e(q);
  const quant::Encoding& enc = q.enc[q.output];

  const data::NpyArray regs = data::read_npy(dir.file("raw.npy"));
  ASSERT_EQ(regs.dtype, "int32");
  ASSERT_EQ(regs.dims, (Shape{4, 10}));
  std::vector<int32_t> got(40);
  std::memcpy(got.data(), regs.bytes.data(), regs.bytes.size());
  const Tensor<float> y = data::read_tensor(dir.file("deq.pb"));
  ASSERT_EQ(y.shape, (Shape{4, 10}));
  engine::Trace t;
  for (int64_t i = 0; i < 4; ++i) {
    e.run(x.data.data() + i * 784, t);
    const std::vector<int32_t>& want = t.values[q.output];
    EXPECT_EQ(std::vector<int32_t>(got.begin() + i * 10, got.begin() + (i + 1) * 10), want) << "image " << i;
    for (int j = 0; j < 10; ++j)
      EXPECT_FLOAT_EQ(y.data[i * 10 + j], static_cast<float>((want[j] - static_cast<double>(enc.zero_point)) * enc.scale));
    EXPECT_EQ(model::argmax(y.data.data() + i * 10, 10), e.predict(t)) << "image " << i;
  }
}

TEST(RunCommand, PreQuantizedModelGivesOnnxRuntimesIntegers) {
  // --int-output model on the QDQ LeNet-5 fixture: the uint8 logits ONNX Runtime gave on the same images
  // (tests/fixtures/qdq/lenet5_qdq.ort.u8); raw is the same less 128 (held as int8).
  const std::string qdq = FTDLA_SOURCE_DIR "/tests/fixtures/qdq/lenet5_qdq.onnx";
  const TempDir dir("ftdla-run");
  data::write_tensor(dir.file("x.npy"), test_images(8), "input");
  std::ifstream f(FTDLA_SOURCE_DIR "/tests/fixtures/qdq/lenet5_qdq.ort.u8", std::ios::binary);
  std::vector<char> ort(80);
  ASSERT_TRUE(f.read(ort.data(), 80));
  for (const char* mode : {"model", "raw"}) {
    const Result r = ftdla({"run", qdq, "--input", dir.file("x.npy"), "--output", dir.file("y.npy"), "--precision", "int",
                            "--int-output", mode});
    ASSERT_EQ(r.status, 0) << r.err;
    const data::NpyArray y = data::read_npy(dir.file("y.npy"));
    std::vector<int32_t> got(80);
    std::memcpy(got.data(), y.bytes.data(), y.bytes.size());
    for (int i = 0; i < 80; ++i)
      EXPECT_EQ(got[i], static_cast<int32_t>(static_cast<uint8_t>(ort[i])) - (std::string(mode) == "raw" ? 128 : 0))
          << mode << " element " << i;
  }
}

TEST(RunCommand, IntegerCalibrationOnTheInputItself) {
  const TempDir dir("ftdla-run");
  const Tensor<float> x = test_images(8);
  data::write_tensor(dir.file("x.npy"), x, "input");
  const Result r = ftdla({"run", kLenet, "--input", dir.file("x.npy"), "--output", dir.file("y.npy"), "--precision", "int",
                          "--calibrate-on-input", "--int-output", "raw"});
  ASSERT_EQ(r.status, 0) << r.err;
  const model::Graph g = model::load_onnx(kLenet);
  data::Dataset calib;
  calib.image_shape = g.values[g.input].shape;
  calib.pixels = x.data;
  calib.labels.assign(8, 0);
  const quant::QGraph q = quant::quantize(g, calib, quant::QuantOptions{});
  const engine::IntegerEngine e(q);
  const data::NpyArray regs = data::read_npy(dir.file("y.npy"));
  ASSERT_EQ(regs.dims, (Shape{8, 10}));
  engine::Trace t;
  e.run(x.data.data() + 7 * 784, t);
  std::vector<int32_t> last(10);
  std::memcpy(last.data(), regs.bytes.data() + 7 * 40, 40);
  EXPECT_EQ(last, t.values[q.output]);
}

/// A one-node model on a [2,3,4] input: `op` applied to `input`, graph output "y".
std::string single_op(const std::string& op, int opset = 13, int64_t axis = 0) {
  OnnxBuilder b({2, 3, 4}, opset);
  auto* n = b.node(op, {"input"}, "y");
  if (axis != 0) OnnxBuilder::i(n, "axis", axis);
  return b.finish("y");
}

TEST(RunCommand, SingleOperatorModels) {
  const TempDir dir("ftdla-run");
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<float>(i)) * 3.0f;
  const Tensor<float> x({2, 3, 4}, v);
  data::write_tensor(dir.file("x.pb"), x, "input");
  auto run = [&](const std::string& model_bytes) {
    const std::string m = write_model(dir, "m.onnx", model_bytes);
    const Result r = ftdla({"run", m, "--input", dir.file("x.pb"), "--output", dir.file("y.pb")});
    EXPECT_EQ(r.status, 0) << r.err;
    return data::read_tensor(dir.file("y.pb"));
  };
  // Identity and Dropout are aliases: the imported graph has no nodes and its output is its input.
  for (const char* op : {"Identity", "Dropout"}) {
    const Tensor<float> y = run(single_op(op));
    EXPECT_EQ(y.shape, x.shape) << op;
    EXPECT_EQ(y.data, x.data) << op;
  }
  // Softmax over the last axis (opset 13 default), and over axis 1 flattened (opset 11 default).
  auto softmax = [&](int64_t rows, int64_t cols, bool log) {
    std::vector<float> out(24);
    for (int64_t r = 0; r < rows; ++r) {
      double mx = -1e30, sum = 0.0;
      for (int64_t c = 0; c < cols; ++c) mx = std::max<double>(mx, v[r * cols + c]);
      for (int64_t c = 0; c < cols; ++c) sum += std::exp(v[r * cols + c] - mx);
      for (int64_t c = 0; c < cols; ++c)
        out[r * cols + c] = static_cast<float>(log ? v[r * cols + c] - mx - std::log(sum) : std::exp(v[r * cols + c] - mx) / sum);
    }
    return out;
  };
  expect_near_all(run(single_op("Softmax")).data, softmax(6, 4, false), 1e-6f);
  expect_near_all(run(single_op("LogSoftmax")).data, softmax(6, 4, true), 1e-5f);
  expect_near_all(run(single_op("Softmax", 11)).data, softmax(2, 12, false), 1e-6f);
  // Axis 0 is the batch: one line, nothing written.
  std::remove(dir.file("y.pb").c_str());
  const std::string m = write_model(dir, "m0.onnx", single_op("Softmax", 13, -3));
  const Result r = ftdla({"run", m, "--input", dir.file("x.pb"), "--output", dir.file("y.pb")});
  expect_one_line_error(r, {"Softmax", "batch axis"});
  EXPECT_FALSE(std::ifstream(dir.file("y.pb")).good());
}

class RunCommandBadInput : public testing::Test {
 protected:
  RunCommandBadInput() : dir_("ftdla-run") {
    const Tensor<float> x = test_images(2);
    data::write_tensor(dir_.file("x.npy"), x, "input");
    data::write_tensor(dir_.file("x.pb"), x, "input");
  }
  std::string file(const std::string& name) const { return dir_.file(name); }
  /// Runs `ftdla run lenet5 --input IN --output OUT extra...` and checks that OUT was not written.
  Result run(const std::string& in, std::vector<std::string> extra = {}, const std::string& out = "") {
    const std::string y = out.empty() ? file("y.npy") : out;
    std::vector<std::string> args{"run", kLenet, "--input", in, "--output", y};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = ftdla(args);
    EXPECT_FALSE(std::ifstream(y).good()) << y << " was written";
    return r;
  }
  void write(const std::string& name, const std::string& bytes) { write_bytes(file(name), bytes); }

 private:
  TempDir dir_;
};

TEST_F(RunCommandBadInput, MissingFilesAndFormats) {
  expect_one_line_error(run(file("absent.npy")), {"absent.npy", "not found"});
  expect_one_line_error(run(file("x.txt")), {"--input", "x.txt", ".pb", ".npy"});
  expect_one_line_error(run(file("x.npy"), {}, file("y.csv")), {"--output", "y.csv"});
  expect_one_line_error(run(file("x.npy"), {}, file("no_such_dir/y.npy")), {"--output", "no_such_dir"});
  expect_one_line_error(ftdla({"run", kLenet, "--output", file("y.npy")}), {"--input"});
}

TEST_F(RunCommandBadInput, TruncatedOrMalformedTensors) {
  const std::string pb = test::read_file(file("x.pb"));
  write("cut.pb", pb.substr(0, pb.size() - 100));
  expect_one_line_error(run(file("cut.pb")), {"cut.pb"});
  write("empty.pb", "");
  expect_one_line_error(run(file("empty.pb")), {"empty.pb", "empty"});
  write("garbage.pb", std::string("\xff\xff\xff\xff not a tensor", 18));
  expect_one_line_error(run(file("garbage.pb")), {"garbage.pb"});
  const std::string npy = test::read_file(file("x.npy"));
  write("cut.npy", npy.substr(0, npy.size() - 4));
  expect_one_line_error(run(file("cut.npy")), {"cut.npy", "bytes"});
  write("notnpy.npy", "hello");
  expect_one_line_error(run(file("notnpy.npy")), {"notnpy.npy", "not a .npy"});
  // float_data with fewer values than the dims say.
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (const int64_t d : {1, 1, 28, 28}) t.add_dims(d);
  t.add_float_data(1.0f);
  write("short.pb", t.SerializeAsString());
  expect_one_line_error(run(file("short.pb")), {"short.pb", "1 values", "784"});
}

TEST_F(RunCommandBadInput, WrongDtypeShapeOrCount) {
  write("i32.npy", npy_bytes("<i4", {1, 1, 28, 28}, raw_bytes(std::vector<int32_t>(784, 1))));
  expect_one_line_error(run(file("i32.npy")), {"i32.npy", "int32", "float32"});
  onnx::TensorProto t;
  t.set_data_type(onnx::TensorProto::INT64);
  for (const int64_t d : {1, 1, 28, 28}) t.add_dims(d);
  t.set_raw_data(std::string(784 * 8, '\0'));
  write("i64.pb", t.SerializeAsString());
  expect_one_line_error(run(file("i64.pb")), {"i64.pb", "INT64", "FLOAT"});
  write("shape.npy", npy_bytes("<f4", {2, 1, 28, 27}, raw_bytes(std::vector<float>(2 * 28 * 27))));
  expect_one_line_error(run(file("shape.npy")), {"shape.npy", "[2,1,28,27]", "[N,1,28,28]"});
  write("nobatch.npy", npy_bytes("<f4", {784}, raw_bytes(std::vector<float>(784))));
  expect_one_line_error(run(file("nobatch.npy")), {"nobatch.npy", "[784]"});
  expect_one_line_error(run(file("x.npy"), {"--input", file("x.pb")}), {"--input", "1 input", "got 2"});
  expect_one_line_error(run(file("x.npy"), {"--output", file("z.npy")}), {"--output", "1 output", "got 2"});
}

TEST_F(RunCommandBadInput, OptionsAndValues) {
  expect_one_line_error(run(file("x.npy"), {"--int-output", "raw"}), {"--int-output", "--precision int"});
  expect_one_line_error(run(file("x.npy"), {"--calibrate-on-input"}), {"--calibrate-on-input", "--precision int"});
  expect_one_line_error(run(file("x.npy"), {"--precision", "int", "--int-output", "bits"}), {"--int-output"});
  expect_one_line_error(run(file("x.npy"), {"--precision", "half"}), {"--precision"});
  std::vector<float> v(784, 0.5f);
  v[10] = std::nanf("");
  write("nan.npy", npy_bytes("<f4", {1, 1, 28, 28}, raw_bytes(v)));
  expect_one_line_error(run(file("nan.npy"), {"--precision", "int"}), {"nan.npy", "index 10", "finite"});
}

TEST(RunCommand, IntegerModelThatDoesNotFitTheCalibrationImages) {
  const TempDir dir("ftdla-run");
  data::write_tensor(dir.file("x.npy"), Tensor<float>({2, 3, 4}, 0.5f), "input");
  const std::string m = write_model(dir, "relu.onnx", single_op("Relu"));
  const Result r = ftdla({"run", m, "--input", dir.file("x.npy"), "--output", dir.file("y.npy"), "--precision", "int"});
  expect_one_line_error(r, {"[3,4]", "[1,28,28]"});
}

}  // namespace
}  // namespace ftdla::cli
