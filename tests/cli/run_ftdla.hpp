// Running the real `ftdla` program from a test: stdout and stderr captured through files.
#pragma once
#include <sys/wait.h>

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

}  // namespace ftdla::cli::test
