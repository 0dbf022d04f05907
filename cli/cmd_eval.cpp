// SPDX-License-Identifier: MIT
// `ftdla info` and `ftdla eval`.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "common.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::cli {

void add_info(CLI::App& root) {
  auto* app = root.add_subcommand("info", "print layers, shapes and MAC counts of a model");
  auto args = std::make_shared<ModelArgs>();
  args->add_to(*app, false);
  app->callback([args] {
    const model::Graph g = model::load_onnx(args->model);
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
  auto limit = std::make_shared<int64_t>(0);
  auto json_out = std::make_shared<std::string>();
  args->add_to(*app);
  app->add_option("--precision", *precision, "float | int")->check(CLI::IsMember({"float", "int"}));
  app->add_option("--limit", *limit, "evaluate only the first N test images (0 = all)");
  app->add_option("--json", *json_out, "write results as JSON to this file");
  app->callback([=] {
    if (*limit < 0) throw ConfigError("--limit: must be >= 0 (got " + std::to_string(*limit) + ")");
    const quant::QuantOptions qo = args->quant_options();
    const model::Graph g = model::load_onnx(args->model);
    const data::Dataset test = data::load_split(args->data, "test", args->data_options(*limit));
    quant::check_input_fits(g, test);
    const auto t0 = std::chrono::steady_clock::now();
    engine::EvalResult r;
    if (*precision == "float") {
      r = engine::evaluate_float(g, test);
    } else {
      const data::Dataset calib = data::load_split(args->data, "train", args->data_options(qo.calib_images));
      const quant::QGraph q = quant::quantize(g, calib, qo);
      const engine::IntegerEngine e(q);
      r = engine::evaluate(e, test);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s %s: accuracy %.4f (%lld/%lld images) in %.2f s\n", args->model.c_str(), precision->c_str(), r.accuracy,
                static_cast<long long>(r.correct), static_cast<long long>(r.images), secs);
    if (!json_out->empty()) {
      nlohmann::json j = to_json(*args);
      j["precision"] = *precision;
      j["images"] = r.images;
      j["correct"] = r.correct;
      j["accuracy"] = r.accuracy;
      j["seconds"] = secs;
      write_json(*json_out, j);
    }
  });
}

}  // namespace ftdla::cli
