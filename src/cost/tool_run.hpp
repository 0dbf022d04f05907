// SPDX-License-Identifier: MIT
// Private to cost/: running the external EDA tools (Yosys, OpenSTA) and naming things in their Verilog.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::cost::detail {

/// [A-Za-z_][A-Za-z0-9_]*
inline bool is_verilog_identifier(const std::string& s) {
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

/// The most telling line of a tool's output: the first with "ERROR" or "Error", else the first non-empty one.
inline std::string first_error_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, first;
  while (std::getline(in, line)) {
    if (line.find("ERROR") != std::string::npos || line.find("Error") != std::string::npos) return line;
    if (first.empty() && !line.empty()) first = line;
  }
  return first.empty() ? "(no output)" : first;
}

/// Whether `exe` runs: an executable path, or a name found executable in a PATH directory.
inline bool on_path(const std::string& exe) {
  if (exe.find('/') != std::string::npos) return ::access(exe.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && ::access((dir + "/" + exe).c_str(), X_OK) == 0) return true;
  return false;
}

/// What a tool run left: its exit code (127: the shell did not find it; -1: it did not start) and its
/// stdout + stderr.
struct ToolRun {
  int code = -1;
  std::string log;
};

/// Runs `command` in directory `dir` with stdout and stderr captured in `dir`/`log_name`.
inline ToolRun run_tool(const std::string& dir, const std::string& command, const std::string& log_name) {
  const std::string log = dir + "/" + log_name;
  const int status =
      std::system(("cd " + shell_quote(dir) + " && " + command + " > " + shell_quote(log) + " 2>&1").c_str());
  ToolRun r;
  r.code = status == -1 ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128);
  if (std::filesystem::exists(log)) r.log = read_file(log);
  return r;
}

}  // namespace ftdla::cost::detail
