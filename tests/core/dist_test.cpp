// ftdla::dist without a launcher: the single-process program (rank 0 of 1), and the shard arithmetic.
#include "ftdla/core/dist.hpp"

#include <gtest/gtest.h>

#include <string>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"

namespace ftdla {
namespace {

TEST(Dist, ShardsCoverTheRangeContiguouslyAndBalanced) {
  for (int n = 1; n <= 7; ++n) {
    for (int64_t begin : {0, 5}) {
      for (int64_t len : {0, 1, 2, 6, 7, 100, 1001}) {
        int64_t next = begin;
        for (int r = 0; r < n; ++r) {
          const auto [lo, hi] = dist::shard(begin, begin + len, r, n);
          EXPECT_EQ(lo, next) << "rank " << r << " of " << n << ", len " << len;
          EXPECT_GE(hi, lo);
          const int64_t want = len / n + (r < len % n ? 1 : 0);
          EXPECT_EQ(hi - lo, want);
          next = hi;
        }
        EXPECT_EQ(next, begin + len);
      }
    }
  }
  EXPECT_THROW(dist::shard(0, 10, 2, 2), InternalError);
}

TEST(Dist, WithoutALauncherIsOneProcess) {
  // The test is not started by mpirun: init leaves MPI alone and everything is local.
  int argc = 1;
  char arg0[] = "dist_test";
  char* args[] = {arg0, nullptr};
  char** argv = args;
  const dist::Session s(&argc, &argv);
  EXPECT_FALSE(dist::active());
  EXPECT_EQ(dist::rank(), 0);
  EXPECT_EQ(dist::size(), 1);
  EXPECT_TRUE(dist::is_root());
  EXPECT_EQ(dist::shard(3, 10), (std::pair<int64_t, int64_t>{3, 10}));
  int64_t v[2] = {4, 5};
  dist::allreduce_sum(v, 2);
  EXPECT_EQ(v[0], 4);
  EXPECT_EQ(v[1], 5);
  EXPECT_TRUE(dist::any(true));
  EXPECT_FALSE(dist::any(false));
  std::string msg = "x";
  dist::broadcast(msg);
  EXPECT_EQ(msg, "x");
  dist::barrier();
  const auto ok = dist::agree_exit(0, 1.0);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->rank, -1);
  const auto bad = dist::agree_exit(2, 1.0);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->rank, 0);
  EXPECT_EQ(bad->code, 2);
}

TEST(Dist, ReadFileFromRootReadsOrThrowsImportError) {
  const TempDir dir("ftdla-dist");
  write_file_atomic(dir.file("a.json"), "{}\n");
  EXPECT_EQ(dist::read_file_from_root(dir.file("a.json")), "{}\n");
  EXPECT_THROW(dist::read_file_from_root(dir.file("missing.json")), ImportError);
}

}  // namespace
}  // namespace ftdla
