// write_file_atomic under failing fsync: the error names the file, the previous content survives, no
// temporary is left behind; on success the directory is synced after the rename.
#include "ftdla/core/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"

namespace {
// This binary's own fsync (it takes precedence over libc's for the statically linked ftdla_core):
// records what was synced and fails the call numbered `g_fail_call` (1-based; 0 = never) with EIO.
int g_fail_call = 0;
std::vector<bool> g_synced_dirs;  // per call: whether the fd was a directory
}  // namespace

extern "C" int fsync(int fd) {
  struct stat st{};
  g_synced_dirs.push_back(::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode));
  if (static_cast<int>(g_synced_dirs.size()) == g_fail_call) {
    errno = EIO;
    return -1;
  }
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace ftdla {
namespace {

size_t entries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFile, SyncsTheFileThenItsDirectory) {
  const TempDir d("ftdla-atomic");
  g_fail_call = 0;
  g_synced_dirs.clear();
  write_file_atomic(d.file("a.json"), "new\n");
  EXPECT_EQ(read_file(d.file("a.json")), "new\n");
  ASSERT_EQ(g_synced_dirs.size(), 2u);
  EXPECT_FALSE(g_synced_dirs[0]) << "first fsync should be the file";
  EXPECT_TRUE(g_synced_dirs[1]) << "second fsync should be the directory, after the rename";
}

// Writing "new\n" to `path` throws a ConfigError that names the path and `what`.
void expect_write_error(const std::string& path, const std::string& what) {
  try {
    write_file_atomic(path, "new\n");
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
  }
}

TEST(AtomicFile, FailedFileFsyncKeepsThePreviousContentAndNamesTheFile) {
  const TempDir d("ftdla-atomic");
  const std::string path = d.file("a.json");
  write_file_atomic(path, "old\n");
  g_fail_call = 1;
  g_synced_dirs.clear();
  expect_write_error(path, "fsync failed");
  g_fail_call = 0;
  EXPECT_EQ(read_file(path), "old\n");
  EXPECT_EQ(entries(d.path()), 1u) << "temporary file left behind";
}

TEST(AtomicFile, FailedDirectoryFsyncIsReported) {
  const TempDir d("ftdla-atomic");
  const std::string path = d.file("a.json");
  g_fail_call = 2;
  g_synced_dirs.clear();
  expect_write_error(path, "directory");
  g_fail_call = 0;
}

TEST(AtomicFile, UnwritableDirectoryNamesThePath) {
  EXPECT_THROW(write_file_atomic("/nonexistent-dir/x.json", "x"), ConfigError);
}

}  // namespace
}  // namespace ftdla
