// `mpirun -np 2 ftdla ...` (include/ftdla/core/dist.hpp): the same result files as one process for the
// same seed (except timing and the "ranks" / "threads" fields), one copy of the printed results, one
// error message. Skipped when ftdla was built without MPI or mpirun is not installed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ftdla/core/dist.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/text.hpp"
#include "run_ftdla.hpp"

namespace ftdla::cli {
namespace {

using test::kBinary;
using test::read_file;
using test::Result;

// Environment and flags OpenMPI needs on a CI container: it refuses to run as root without the two
// variables; --oversubscribe allows more ranks than cores; shared memory (vader) without the
// single-copy mechanism (CMA needs ptrace rights) and no network transports; -q drops mpirun's banners.
// One OpenMP thread per rank keeps the loaded test machine responsive (results do not depend on it).
const std::string kEnv = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 ";
const std::string kMpirunFlags =
    " -q --oversubscribe --mca btl self,vader --mca btl_vader_single_copy_mechanism none -np ";

std::string mpirun_path() {
  const TempDir d("ftdla-mpi");
  const int st = std::system(("command -v mpirun >" + shell_quote(d.file("which")) + " 2>/dev/null").c_str());
  if (st != 0) return "";
  std::string p = read_file(d.file("which"));
  while (!p.empty() && (p.back() == '\n' || p.back() == ' ')) p.pop_back();
  return p;
}

/// `ftdla args...`, under `mpirun -np ranks` when ranks > 0.
Result run(int ranks, const std::vector<std::string>& args) {
  return test::run_ftdla(kEnv + (ranks > 0 ? shell_quote(mpirun_path()) + kMpirunFlags + std::to_string(ranks) + " " : ""), args);
}

/// The result without what legitimately differs between runs: timing / throughput, ranks, threads, peak RSS
/// and the checksum over them.
nlohmann::json deterministic_part(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, v] : j.items()) {
      // The checksum covers the whole file, timings and rank counts included.
      if (k == "ranks" || k == "threads" || k == "peak_rss_mb" || k == "checksum" || k.find("second") != std::string::npos ||
          k.find("throughput") != std::string::npos)
        continue;
      o[k] = deterministic_part(v);
    }
    return o;
  }
  if (j.is_array()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& v : j) a.push_back(deterministic_part(v));
    return a;
  }
  return j;
}

size_t count_lines_with(const std::string& text, const std::string& what) {
  size_t n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(what) != std::string::npos;
  return n;
}

class CliMpi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!dist::built_with_mpi()) GTEST_SKIP() << "ftdla was built without MPI (FTDLA_MPI=OFF)";
    if (mpirun_path().empty()) GTEST_SKIP() << "mpirun is not installed (Debian: openmpi-bin)";
  }

  /// Runs `args` + --json FILE in one process and in two ranks; checks both and returns their JSON.
  std::pair<nlohmann::json, nlohmann::json> one_and_two(const std::vector<std::string>& args, const std::string& tag) {
    const TempDir d("ftdla-mpi");
    std::vector<nlohmann::json> out;
    for (int ranks : {0, 2}) {
      const std::string path = d.file(tag + std::to_string(ranks) + ".json");
      std::vector<std::string> a = args;
      a.insert(a.end(), {"--json", path});
      const Result r = run(ranks, a);
      EXPECT_EQ(r.status, 0) << r.command << "\nstderr:\n" << r.err;
      EXPECT_EQ(r.err, "") << r.command;
      EXPECT_EQ(count_lines_with(r.out, "injections"), 1u) << "results printed once, by rank 0:\n" << r.out;
      out.push_back(nlohmann::json::parse(read_file(path)));
      EXPECT_EQ(out.back()["ranks"], ranks == 0 ? 1 : ranks);
      EXPECT_TRUE(out.back().contains("threads"));
    }
    return {out[0], out[1]};
  }
};

TEST_F(CliMpi, CharacterizeInTwoRanksMatchesOneProcess) {
  const auto [one, two] = one_and_two({"characterize", "--trials", "24", "--images", "20", "--calib-images", "64",
                                       "--neurons", "2", "--seed", "7"},
                                      "characterize");
  EXPECT_EQ(one["completed"], true);
  EXPECT_GT(one["injections"].get<int64_t>(), 1000);
  EXPECT_EQ(deterministic_part(one), deterministic_part(two));
}

TEST_F(CliMpi, InjectInTwoRanksMatchesOneProcess) {
  const auto [one, two] = one_and_two({"inject", "--ber", "2e-4", "--trials", "600", "--images", "20", "--calib-images",
                                       "64", "--seed", "3"},
                                      "inject");
  EXPECT_EQ(one["completed"], true);
  EXPECT_EQ(one["counts"]["trials"], 600);
  EXPECT_GT(one["counts"]["faults"].get<int64_t>(), 0);
  EXPECT_EQ(deterministic_part(one), deterministic_part(two));
}

TEST_F(CliMpi, AnErrorEveryRankSeesIsPrintedOnce) {
  const Result r = run(2, {"characterize", "--trials", "0"});
  EXPECT_EQ(r.status, 2) << r.command << "\n" << r.err;
  EXPECT_EQ(r.err, "ftdla: error: --trials: must be >= 1 (got 0)\n") << r.command;
}

}  // namespace
}  // namespace ftdla::cli
