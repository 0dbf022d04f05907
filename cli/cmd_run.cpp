// SPDX-License-Identifier: MIT
// `ftdla run`: tensors in, tensors out, through the float or the bit-exact integer model.
#include <cmath>
#include <cstdio>
#include <type_traits>

#include "commands.hpp"
#include "common.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/data/tensor_io.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::cli {
namespace {

struct RunArgs {
  std::vector<std::string> inputs, outputs;
  std::string precision = "float";
  std::string int_output = "dequantized";
  bool calibrate_on_input = false;
};

/// The input batch as a calibration set (labels are not used by calibration).
data::Dataset as_dataset(const model::Graph& g, const Tensor<float>& batch, const std::string& path) {
  data::Dataset d;
  d.source = path;
  d.image_shape = g.values[g.input].shape;
  d.pixels = batch.data;
  d.labels.assign(static_cast<size_t>(batch.shape[0]), 0);
  return d;
}

/// The integer model's output for every image: its registers (T = int32_t), or their real values (T = float,
/// then the graph's final Softmax/LogSoftmax applied in float, as a host would after the accelerator).
/// `file_integers`: registers in the model file's own encoding (a pre-quantized uint8 tensor held as int8
/// gets its 128 back), to compare with another runtime.
template <typename T>
Tensor<T> run_integer(const quant::QGraph& q, const Tensor<float>& batch, bool file_integers = false) {
  const model::Graph& g = q.graph;
  const engine::IntegerEngine e(q);
  const int64_t n = batch.shape[0], per_in = numel(g.values[g.input].shape);
  const Shape& out_shape = g.values[g.output].shape;
  Shape shape{n};
  shape.insert(shape.end(), out_shape.begin(), out_shape.end());
  Tensor<T> out(shape);
  engine::Trace t;
  for (int64_t i = 0; i < n; ++i) {
    e.run(batch.data.data() + i * per_in, t);
    const std::vector<int32_t>& regs = t.values[q.output];
    T* dst = out.data.data() + i * static_cast<int64_t>(regs.size());
    if constexpr (std::is_same_v<T, int32_t>) {
      const int32_t off = file_integers ? q.enc[q.output].file_offset : 0;
      for (size_t j = 0; j < regs.size(); ++j) dst[j] = regs[j] + off;
    } else {
      const quant::Encoding& enc = q.enc[q.output];
      std::vector<float> real(regs.size());
      for (size_t j = 0; j < regs.size(); ++j)
        real[j] = static_cast<float>((static_cast<double>(regs[j]) - enc.zero_point) * enc.scale);
      model::apply_final_op(g.final_op, out_shape, real);
      std::copy(real.begin(), real.end(), dst);
    }
  }
  return out;
}

void print_written(const std::string& path, const Shape& shape, const char* type, const std::string& how) {
  std::printf("%s: %s %s (%s)\n", path.c_str(), to_string(shape).c_str(), type, how.c_str());
}

}  // namespace

void add_run(CLI::App& root) {
  auto* app = root.add_subcommand("run", "run input tensors (.pb or .npy) through the float or integer model");
  app->footer(
      "The first dimension of every tensor is the batch; each image runs through the model on its own.\n"
      "--precision int quantizes the model as the other commands do: calibrated on --data's training images\n"
      "(--mean/--std apply to those only), or on the input batch itself with --calibrate-on-input.\n"
      "Example: ftdla run models/lenet5.onnx --input x.npy --output y.npy --precision int\n");
  auto args = std::make_shared<ModelArgs>();
  auto run = std::make_shared<RunArgs>();
  args->add_to(*app);
  app->add_option("--input", run->inputs, "input tensor file, one per model input: .pb (ONNX TensorProto) or .npy, float32 [N, ...]")
      ->required()
      ->type_name("FILE");
  app->add_option("--output", run->outputs, "output tensor file, one per model output: .pb or .npy (written atomically)")
      ->required()
      ->type_name("FILE");
  app->add_option("--precision", run->precision, "float | int (the bit-exact integer model)")->check(CLI::IsMember({"float", "int"}));
  auto* int_out = app->add_option("--int-output", run->int_output,
                                  "with --precision int: dequantized (float32 real values, then the final Softmax/LogSoftmax "
                                  "if the model has one) | raw (int32 output registers, before it) | model (a pre-quantized "
                                  "model's own output integers, e.g. uint8 as ONNX Runtime gives them; raw for a calibrated one)")
                      ->check(CLI::IsMember({"dequantized", "raw", "model"}));
  auto* calib_in = app->add_flag("--calibrate-on-input", run->calibrate_on_input,
                                 "with --precision int: calibrate on the input batch instead of --data's training images");
  app->callback([args, run, int_out, calib_in] {
    const bool integer = run->precision == "int";
    if (!integer && int_out->count() > 0) throw ConfigError("--int-output: only with --precision int");
    if (!integer && calib_in->count() > 0) throw ConfigError("--calibrate-on-input: only with --precision int");
    for (const auto& p : run->inputs) (void)data::tensor_format(p, "--input");
    for (const auto& p : run->outputs) {
      (void)data::tensor_format(p, "--output");
      check_output_file(p, "--output");
    }
    const quant::QuantOptions qo = integer ? args->quant_options() : quant::QuantOptions{};
    const model::Graph g = model::load_onnx(args->model);
    // ftdla models have one input (the image) and one output (the importer enforces it).
    const std::string& in_name = g.values[g.input].name;
    if (run->inputs.size() != 1)
      throw ConfigError("--input: the model has 1 input ('" + in_name + "'), got " + std::to_string(run->inputs.size()) + " files");
    if (run->outputs.size() != 1)
      throw ConfigError("--output: the model has 1 output ('" + g.output_name + "'), got " + std::to_string(run->outputs.size()) +
                        " files");
    const std::string& in_path = run->inputs[0];
    const std::string& out_path = run->outputs[0];
    const Tensor<float> x = data::read_tensor(in_path);
    model::check_batch(g, x.shape, in_path);
    if (!integer) {
      const Tensor<float> y = model::run_batch(g, x, in_path);
      if (dist::is_root()) data::write_tensor(out_path, y, g.output_name);
      print_written(out_path, y.shape, "float32", "float engine");
      return;
    }
    for (size_t i = 0; i < x.data.size(); ++i)
      if (!std::isfinite(x.data[i]))
        throw ValidationError(in_path + ": value " + std::to_string(x.data[i]) + " at index " + std::to_string(i) +
                              " (the integer model needs finite inputs)");
    const data::Dataset calib = run->calibrate_on_input ? as_dataset(g, x, in_path)
                                                        : data::load(args->source(), "train", args->data_options(qo.calib_images));
    quant::check_input_fits(g, calib);
    const quant::QGraph q = quant::quantize(g, calib, qo);
    if (run->int_output == "raw" || run->int_output == "model") {
      const bool file = run->int_output == "model";
      const Tensor<int32_t> y = run_integer<int32_t>(q, x, file);
      if (dist::is_root()) data::write_tensor(out_path, y, g.output_name);
      print_written(out_path, y.shape, "int32", file ? "integer engine, the model's output integers" : "integer engine, output registers");
    } else {
      const Tensor<float> y = run_integer<float>(q, x);
      if (dist::is_root()) data::write_tensor(out_path, y, g.output_name);
      print_written(out_path, y.shape, "float32", "integer engine, dequantized");
    }
  });
}

}  // namespace ftdla::cli
