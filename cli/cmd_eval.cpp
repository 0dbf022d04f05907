// SPDX-License-Identifier: MIT
// `ftdla info` and `ftdla eval`.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "common.hpp"
#include "ftdla/accel/mapping.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/model/lowering.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::cli {

void add_info(CLI::App& root) {
  auto* app = root.add_subcommand("info", "print layers, shapes and MAC counts of a model");
  app->footer("Example: ftdla info models/rescnn.onnx --accel --rows 16 --cols 16\n");
  auto args = std::make_shared<ModelArgs>();
  auto accel_args = std::make_shared<AccelArgs>();
  auto with_accel = std::make_shared<bool>(false);
  // Only the model and, with --accel, the array: no data or quantization options (info uses neither).
  args->model = default_model_path();
  app->add_option("model", args->model, "ONNX model (default: the shipped LeNet-5)");
  auto* accel = app->add_flag("--accel", *with_accel, "also map the compute layers onto the PE array: tiles, cycles, utilization");
  accel_args->add_to(*app);
  for (const char* name : {"--rows", "--cols", "--dataflow"}) app->get_option(name)->needs(accel);
  app->callback([args, accel_args, with_accel] {
    const model::Graph g = model::load_onnx(args->model);
    if (*with_accel) {
      // The mapping only needs shapes: map the float graph through an unquantized view.
      const accel::ArraySpec spec = accel_args->spec();
      std::printf("PE array %dx%d, %s dataflow\n", spec.rows, spec.cols, accel::dataflow_name(spec.dataflow));
      std::printf("%-28s %6s %6s %6s %6s %8s %10s %11s\n", "layer", "groups", "M", "N", "K", "tiles", "cycles", "utilization");
      int64_t total = 0;
      for (const auto& n : g.nodes) {
        if (!model::is_compute(n.op)) continue;
        const model::GemmDims d = model::gemm_dims(g, n);
        const int64_t cyc = accel::gemm_cycles(spec, d);
        const int64_t macs = d.groups * d.m * d.n * d.k;
        total += cyc;
        const bool ws = spec.dataflow == accel::Dataflow::WeightStationary;
        const int64_t tiles = d.groups * (((ws ? d.k : d.m) + spec.rows - 1) / spec.rows) * ((d.n + spec.cols - 1) / spec.cols);
        std::printf("%-28s %6lld %6lld %6lld %6lld %8lld %10lld %10.1f%%\n", n.name.c_str(), static_cast<long long>(d.groups),
                    static_cast<long long>(d.m), static_cast<long long>(d.n), static_cast<long long>(d.k),
                    static_cast<long long>(tiles), static_cast<long long>(cyc),
                    100.0 * static_cast<double>(macs) / (static_cast<double>(cyc) * spec.rows * spec.cols));
      }
      std::printf("total: %lld cycles per inference\n", static_cast<long long>(total));
      return;
    }
    std::printf("model %s: input %s, output %s, %lld MACs per image\n", args->model.c_str(),
                to_string(g.values[g.input].shape).c_str(), to_string(g.values[g.output].shape).c_str(),
                static_cast<long long>(g.total_macs()));
    std::printf("%-28s %-14s %-14s %12s\n", "layer", "op", "output", "MACs");
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const auto& n = g.nodes[i];
      std::printf("%-28s %-14s %-14s %12lld\n", n.name.c_str(), model::op_name(n.op),
                  to_string(g.values[n.output].shape).c_str(), static_cast<long long>(g.macs(i)));
    }
  });
}

void add_eval(CLI::App& root) {
  auto* app = root.add_subcommand("eval", "accuracy of the float or bit-exact integer model on the test set");
  auto args = std::make_shared<ModelArgs>();
  auto precision = std::make_shared<std::string>("int");
  app->footer("Example: ftdla eval models/lenet5.onnx --precision int --images 1000 --json eval.json\n");
  auto limit = std::make_shared<int64_t>(0);
  auto json_out = std::make_shared<std::string>();
  args->add_to(*app);
  app->add_option("--precision", *precision, "float | int")->check(CLI::IsMember({"float", "int"}));
  auto* images = app->add_option("--images", *limit, "evaluate only the first N test images (0 = all)")->check(kNonNegative);
  add_deprecated(*app, "--limit", images, *limit)->check(kNonNegative);
  app->add_option("--json", *json_out, "write results as JSON to this file (- for stdout, all text then on stderr)");
  app->callback([=] {
    if (*limit < 0) throw ConfigError("--images: must be >= 0 (got " + std::to_string(*limit) + ")");
    check_output_file(*json_out, "--json");
    if (*json_out == "-") json_to_stdout();
    const quant::QuantOptions qo = args->quant_options();
    if (*precision == "float") {
      const std::vector<std::string> given = args->quant_options_given();
      if (!given.empty())
        throw ConfigError(given.front() + ": a quantization option, but --precision float runs the float model (drop it, or use --precision int)");
    }
    const model::Graph g = model::load_onnx(args->model);
    const data::Dataset test = data::load(args->source(), "test", args->data_options(*limit));
    quant::check_input_fits(g, test);
    quant::check_labels(g, test);
    const auto t0 = std::chrono::steady_clock::now();
    engine::EvalResult r;
    std::string quantization, requantization;
    if (*precision == "float") {
      r = engine::evaluate_float(g, test);
    } else {
      const data::Dataset calib = data::load(args->source(), "train", args->data_options(qo.calib_images));
      const quant::QGraph q = quant::quantize(g, calib, qo);
      quantization = q.from_model ? "model" : "calibrated";
      requantization = q.float_requant ? "float" : "fixed_point";
      const engine::IntegerEngine e(q);
      r = engine::evaluate(e, test);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s %s%s: accuracy %.4f (%lld/%lld images) in %.2f s\n", args->model.c_str(), precision->c_str(),
                quantization.empty() ? "" : (" (" + quantization + " scales, " + requantization + " requantization)").c_str(),
                r.accuracy, static_cast<long long>(r.correct), static_cast<long long>(r.images), secs);
    if (!json_out->empty()) {
      nlohmann::json j = to_json(*args);
      j["precision"] = *precision;
      if (!quantization.empty()) {
        j["quantization"] = quantization;
        j["requantization"] = requantization;
      }
      j["images"] = r.images;
      j["correct"] = r.correct;
      j["accuracy"] = r.accuracy;
      j["seconds"] = secs;
      add_run_info(j, job_peak_rss_mb());
      write_json(*json_out, j);
    }
  });
}

}  // namespace ftdla::cli
