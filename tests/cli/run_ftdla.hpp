// Running the real `ftdla` program from a test: stdout and stderr captured through files.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <initializer_list>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::cli::test {

inline const std::string kBinary = FTDLA_BINARY_DIR "/cli/ftdla";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Result {
  int status = -1;  // exit status, or -1 if it did not exit normally
  std::string out, err;
  std::string command;
};

/// Run `prefix ftdla args...` (prefix: environment assignments and/or a launcher such as mpirun, ending
/// with a space, or empty).
inline Result run_ftdla(const std::string& prefix, const std::vector<std::string>& args) {
  const TempDir io("ftdla-cli");
  Result r;
  r.command = prefix + shell_quote(kBinary);
  for (const auto& a : args) r.command += " " + shell_quote(a);
  const std::string full = r.command + " </dev/null >" + shell_quote(io.file("out")) + " 2>" + shell_quote(io.file("err"));
  const int st = std::system(full.c_str());
  r.status = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
  r.out = read_file(io.file("out"));
  r.err = read_file(io.file("err"));
  return r;
}

/// Run `ftdla args...` (no prefix).
inline Result ftdla(const std::vector<std::string>& args) { return run_ftdla("", args); }

/// A committed test fixture: tests/fixtures/<name>.
inline std::string fixture(const std::string& name) { return std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/" + name; }

/// Arguments concatenated.
inline std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// Non-zero exit (not a crash), exactly one line on stderr starting "ftdla: error: " and containing every
/// one of `names`.
inline void expect_one_line_error(const Result& r, std::initializer_list<std::string> names) {
  SCOPED_TRACE(r.command);
  EXPECT_NE(r.status, 0) << "stderr: " << r.err;
  EXPECT_NE(r.status, -1) << "did not exit normally (crashed?)";
  ASSERT_FALSE(r.err.empty()) << "no message on stderr";
  EXPECT_EQ(r.err.back(), '\n') << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "message is not one line:\n" << r.err;
  EXPECT_EQ(r.err.rfind("ftdla: error: ", 0), 0u) << r.err;
  for (const auto& n : names) EXPECT_NE(r.err.find(n), std::string::npos) << "message does not name '" << n << "': " << r.err;
}

}  // namespace ftdla::cli::test
