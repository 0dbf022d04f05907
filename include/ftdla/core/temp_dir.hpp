// SPDX-License-Identifier: MIT
// A fresh private directory under the system temp dir, removed with its content on destruction
// (Yosys/iverilog runs, CLI tests).
#pragma once
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "ftdla/core/error.hpp"

namespace ftdla {

class TempDir {
 public:
  /// `prefix` names the directory ("ftdla-yosys" -> /tmp/ftdla-yosys-XXXXXX). Throws Error on failure.
  explicit TempDir(const std::string& prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw Error("cannot create a temporary directory (" + tmpl + ")");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ftdla
