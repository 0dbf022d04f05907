// SPDX-License-Identifier: MIT
// Each subcommand registers itself on the root app.
#pragma once
#include <CLI/CLI.hpp>

namespace ftdla::cli {
void add_info(CLI::App& root);
void add_eval(CLI::App& root);
}  // namespace ftdla::cli
