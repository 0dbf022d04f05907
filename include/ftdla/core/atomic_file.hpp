// SPDX-License-Identifier: MIT
// Crash-safe file output: results are written to a temporary file and renamed into place,
// so a reader never sees a half-written result and an interrupt never destroys the previous one.
#pragma once
#include <string>

namespace ftdla {

/// Write `content` to `path` atomically (temp file in the same directory, fsync, rename).
/// Throws ConfigError naming the path if it cannot be written.
void write_file_atomic(const std::string& path, const std::string& content);

/// Read a whole file. Throws ImportError naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace ftdla
