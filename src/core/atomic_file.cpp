// SPDX-License-Identifier: MIT
#include "ftdla/core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ftdla/core/error.hpp"

namespace ftdla {

namespace {
std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw ConfigError(path + ": cannot write (" + std::strerror(errno) + ")");
  auto fail = [&](const char* what, int err) {
    ::unlink(tmp.c_str());
    return ConfigError(path + ": " + what + " (" + std::strerror(err) + ")");
  };
  size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw fail("write failed", err);
    }
    off += static_cast<size_t>(n);
  }
  // A delayed write error (full disk, NFS) shows up only at fsync or close: the file must not replace
  // the previous one then.
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw fail("fsync failed", err);
  }
  if (::close(fd) != 0) throw fail("close failed", errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw fail("cannot rename into place", errno);
  // The rename is durable only once the directory entry is on disk.
  const std::string dir = parent_dir(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd < 0) throw ConfigError(path + ": cannot open directory " + dir + " to sync it (" + std::strerror(errno) + ")");
  const int rc = ::fsync(dfd), err = errno;
  ::close(dfd);
  // Some file systems cannot fsync a directory (EINVAL); the rename is then as durable as it gets.
  if (rc != 0 && err != EINVAL) throw ConfigError(path + ": fsync of directory " + dir + " failed (" + std::strerror(err) + ")");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path + ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ftdla
