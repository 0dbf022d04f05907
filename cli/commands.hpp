// SPDX-License-Identifier: MIT
// Each subcommand registers itself on the root app.
#pragma once
#include <CLI/CLI.hpp>

#include <stdexcept>

namespace ftdla::cli {
/// Thrown after a long command saved its partial results on SIGINT/SIGTERM: exit code 130.
struct Interrupted : std::exception {};

void add_info(CLI::App& root);
void add_eval(CLI::App& root);
void add_inject(CLI::App& root);
void add_characterize(CLI::App& root);
void add_evaluate(CLI::App& root);
void add_optimize(CLI::App& root);
void add_rtl(CLI::App& root);
void add_report(CLI::App& root);
void add_run(CLI::App& root);
}  // namespace ftdla::cli
