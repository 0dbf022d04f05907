// SPDX-License-Identifier: MIT
// Shared by the libFuzzer targets: ftdla::Error (and subclasses) is an expected rejection of bad input;
// anything else escaping the parser (another exception, a sanitizer report, a crash) is a finding.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "ftdla/core/error.hpp"
#include "ftdla/core/json.hpp"

namespace ftdla::fuzz {

/// Run `f`; returns false when it rejected the input with an ftdla::Error.
template <typename F>
bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const ftdla::Error&) {
    return false;
  }
}

/// A finding that is not a crash (a broken round trip, an invariant of the result): report and abort.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "ftdla fuzz finding: %s\n", what);
  std::abort();
}

/// The bytes as the contents of a file, for readers that take a path: one memfd (no disk I/O), rewritten
/// per input and named /proc/self/fd/N.
class MemFile {
 public:
  explicit MemFile(const char* name) : fd_(::memfd_create(name, 0)) {
    if (fd_ < 0) fail("memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& write(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0) fail("ftruncate failed");
    size_t done = 0;
    while (done < size) {
      const ssize_t w = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (w <= 0) fail("pwrite failed");
      done += static_cast<size_t>(w);
    }
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

/// The input as JSON, parsed the way ftdla reads its configuration files (depth-limited).
inline nlohmann::json parse(const uint8_t* data, size_t size) {
  return parse_json<ConfigError>(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
}

/// A JSON config reader fed the input: what it accepts must come back unchanged through to_json and the
/// reader again (`what` names the failed property).
template <typename Parse>
void round_trips(const uint8_t* data, size_t size, Parse&& parse_config, const char* what) {
  accepts([&] {
    const nlohmann::json j = to_json(parse_config(parse(data, size)));
    if (to_json(parse_config(j)) != j) fail(what);
  });
}

}  // namespace ftdla::fuzz
