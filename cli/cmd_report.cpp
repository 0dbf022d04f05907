// SPDX-License-Identifier: MIT
// `ftdla report`: one self-contained HTML file from characterize and optimize result JSON.
#include <cstdio>

#include "commands.hpp"
#include "ftdla/report/report.hpp"

namespace ftdla::cli {

void add_report(CLI::App& root) {
  auto* app = root.add_subcommand("report", "self-contained HTML report (inline SVG plots) of characterize and optimize results");
  struct Args {
    std::vector<std::string> inputs;
    std::string output, title = "ftdla report";
  };
  auto a = std::make_shared<Args>();
  app->add_option("results", a->inputs, "result JSON files of `ftdla characterize --json` or `ftdla optimize --json`")->required();
  app->add_option("-o,--output", a->output, "HTML file to write")->required();
  app->add_option("--title", a->title, "report title")->capture_default_str();
  app->callback([a] {
    std::vector<report::Result> results;
    for (const auto& path : a->inputs) results.push_back(report::load_result(path));
    report::write_report(a->output, results, a->title);
    std::printf("report: %zu result%s -> %s\n", results.size(), results.size() == 1 ? "" : "s", a->output.c_str());
  });
}

}  // namespace ftdla::cli
