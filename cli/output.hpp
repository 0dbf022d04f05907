// SPDX-License-Identifier: MIT
// Where a command's output goes: checks of output paths before any work, `--json -`, and --quiet.
// (Separate from common.hpp so that cmd_rtl.cpp, which cannot include common.hpp, can use it.)
#pragma once
#include <string>

namespace ftdla::cli {

/// Checked before any work starts: `path` can be written (a file: its directory exists and is writable,
/// and the file, if it exists, is a writable regular file). "" and "-" (stdout) pass. Throws ConfigError
/// naming `option`.
void check_output_file(const std::string& path, const std::string& option);
/// The same for a directory the command creates (one level) or writes into.
void check_output_dir(const std::string& path, const std::string& option);

/// For `--json -`: from now on the text a command prints goes to stderr, and write_json("-") writes the
/// JSON alone to the real stdout.
void json_to_stdout();

void warn_deprecated(const std::string& old_name, const std::string& new_name);
/// --quiet (a root option): no progress bars, no per-step progress lines.
bool quiet();
void set_quiet(bool q);

}  // namespace ftdla::cli
