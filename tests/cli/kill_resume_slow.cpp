// Kill and resume: `inject`, `characterize` and `optimize` are SIGKILLed at random points (delays drawn
// with a fixed seed, bounded by an uninterrupted run's duration), then resumed until they complete; the
// final result must equal the uninterrupted run's (timing, memory, thread and checksum fields aside).
#include <gtest/gtest.h>

#include <filesystem>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "cli/run_ftdla.hpp"

namespace ftdla::cli::test {
namespace {

const std::string kModel = FTDLA_SOURCE_DIR "/models/lenet5.onnx";

/// `j` without the fields that legitimately differ between runs: timing, memory, parallelism, checksum.
nlohmann::json comparable(nlohmann::json j) {
  if (j.is_object()) {
    for (const char* k : {"seconds", "compute_seconds", "trials_per_second", "peak_rss_mb", "threads", "ranks", "checksum"})
      j.erase(k);
    for (auto& [k, v] : j.items()) v = comparable(v);
  } else if (j.is_array()) {
    for (auto& v : j) v = comparable(v);
  }
  return j;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

/// Start ftdla with `args` (output discarded); SIGKILL it after `delay` seconds unless it ended before.
/// Returns its exit status (-1: killed).
int run_killed_after(const std::vector<std::string>& args, double delay) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(kBinary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(kBinary.c_str(), argv.data());
    ::_exit(127);
  }
  if (pid < 0) return -2;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(delay);
  int st = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (::waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/// The uninterrupted run, then a chain of `kills` runs each SIGKILLed after a random delay (resuming from
/// the file when there is one, else starting afresh), then resumes until completion; the results must match.
void kill_and_resume(const std::string& name, const std::vector<std::string>& args, int kills, uint64_t seed) {
  const TempDir d("ftdla-kill");
  const std::string ref = d.file("ref.json"), out = d.file("out.json");
  // Two uninterrupted runs: they must agree, and the second one's duration bounds the kill delays (the
  // first may fill the synthesis cache).
  std::vector<std::string> ref_args = args;
  ref_args.insert(ref_args.end(), {"--json", ref});
  const Result r0 = run_ftdla("", ref_args);
  ASSERT_EQ(r0.status, 0) << r0.command << "\n" << r0.err;
  const nlohmann::json first = comparable(nlohmann::json::parse(read_file(ref)));
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = run_ftdla("", ref_args);
  const double duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.status, 0) << r.command << "\n" << r.err;
  const nlohmann::json expected = comparable(nlohmann::json::parse(read_file(ref)));
  ASSERT_EQ(first, expected) << name << ": two uninterrupted runs differ";

  std::vector<std::string> fresh = args;
  fresh.insert(fresh.end(), {"--json", out});
  std::vector<std::string> resume = fresh;
  resume.push_back("--resume");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> delay(0.1 * duration, 0.9 * duration);
  int partial = 0;  // kills that left an incomplete result file behind
  for (int k = 0; k < kills; ++k) {
    const double s = delay(rng);
    const int st = run_killed_after(exists(out) ? resume : fresh, s);
    if (st >= 0) {
      EXPECT_EQ(st, 0) << name << ": run " << k << " ended with status " << st;
    } else if (exists(out)) {
      const auto j = nlohmann::json::parse(read_file(out));  // never half-written
      partial += j.value("completed", true) ? 0 : 1;
    }
  }
  // On a loaded machine the random points can all fall before the first save: then kill later in the run
  // (up to 6 more times) until one leaves a partial result, so the test does exercise resuming.
  std::uniform_real_distribution<double> late(0.5 * duration, 0.95 * duration);
  for (int extra = 0; partial == 0 && extra < 6; ++extra) {
    const int st = run_killed_after(exists(out) ? resume : fresh, late(rng));
    if (st < 0 && exists(out)) partial += nlohmann::json::parse(read_file(out)).value("completed", true) ? 0 : 1;
    if (st == 0) std::filesystem::remove(out);  // finished before the kill: start over for another try
  }
  // Whether a kill lands after the first save depends on the machine's speed (characterize saves every 2 s):
  // reported, not required; the final result must match either way.
  std::printf("%s: %d of the kills left a partial result (uninterrupted run %.2f s)\n", name.c_str(), partial, duration);
  for (int attempt = 0;; ++attempt) {
    ASSERT_LT(attempt, 3) << name << ": resume does not complete";
    const Result f = run_ftdla("", exists(out) ? resume : fresh);
    ASSERT_EQ(f.status, 0) << f.command << "\n" << f.err;
    if (nlohmann::json::parse(read_file(out)).value("completed", false)) break;
  }
  const nlohmann::json got = comparable(nlohmann::json::parse(read_file(out)));
  EXPECT_EQ(got, expected) << name << ": resumed result differs from the uninterrupted run\n"
                           << nlohmann::json::diff(expected, got).dump(1);
}

TEST(KillResume, Inject) {
  kill_and_resume("inject",
                  {"inject", kModel, "--ber", "1e-3", "--trials", "20000", "--images", "200", "--seed", "7", "--calib-images", "64"}, 6,
                  11);
}

TEST(KillResume, Characterize) {
  kill_and_resume("characterize",
                  {"characterize", kModel, "--trials", "800", "--neurons", "20", "--images", "20", "--seed", "3", "--calib-images", "64"},
                  6, 12);
}

TEST(KillResume, Optimize) {
  kill_and_resume("optimize",
                  {"optimize", kModel, "--budget", "6", "--trials", "100", "--max-trials", "200", "--validation-images", "500",
                   "--validation-trials", "500", "--cache", "none", "--calib-images", "64", "--seed", "5"},
                  6, 13);
}

}  // namespace
}  // namespace ftdla::cli::test
