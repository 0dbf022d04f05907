// SPDX-License-Identifier: MIT
// Process-level scale-out: `mpirun -np N ftdla inject|characterize|optimize ...` starts N ranks that
// split the faulty inferences between them and sum their integer counters, so the result is bit-identical
// to one process for the same seed (trial t draws from Rng::derive(seed, t) wherever it runs).
//
// This is the only code that sees MPI. Built without MPI (CMake FTDLA_MPI=OFF, or no MPI found), or
// started without an MPI launcher, every function is the single-process version: rank 0 of 1,
// collectives are no-ops, shard() returns the whole range.
//
// Rules for callers: only the main thread calls these (MPI_THREAD_FUNNELED; OpenMP threads work inside a
// rank); every rank must make the same sequence of collective calls (allreduce, any, broadcast,
// barrier), so a decision that changes the control flow (stop on a signal, adapt a block size) must be
// made collectively; only the root writes files and progress.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace ftdla::dist {

/// True when compiled with MPI support (FTDLA_HAVE_MPI).
bool built_with_mpi();

/// Initializes MPI when the process was started by an MPI launcher (see dist.cpp for why a plain start
/// does not initialize MPI). Call once, first thing in main, from the main thread.
void init(int* argc, char*** argv);
/// MPI_Finalize when init() initialized MPI; no-op otherwise.
void finalize();
/// MPI is initialized (the process is one rank of an MPI job, possibly of size 1).
bool active();

int rank();
int size();
inline bool is_root() { return rank() == 0; }

/// Element-wise sum over all ranks, in place. Integer sums are exact, so sharded counters are
/// bit-identical to one process; double sums depend on the reduction order.
void allreduce_sum(int64_t* data, size_t n);
void allreduce_sum(double* data, size_t n);
/// Element-wise maximum over all ranks, in place (exact: independent of the reduction order).
void allreduce_max(double* data, size_t n);
/// True on every rank when `flag` is true on at least one (a collective decision, e.g. to stop).
bool any(bool flag);
/// `s` / `v` of rank `root` on every rank.
void broadcast(std::string& s, int root = 0);
void broadcast(int64_t& v, int root = 0);
void barrier();
/// Ends every rank of the job with exit status `code` (MPI_Abort), or this process when not active.
[[noreturn]] void abort(int code);

/// This rank's contiguous share of the trials [begin, end): the range is cut into size() consecutive
/// pieces whose lengths differ by at most one, lower ranks getting the longer ones.
std::pair<int64_t, int64_t> shard(int64_t begin, int64_t end);
/// The same for an explicit rank / size (pure; for tests and planning).
std::pair<int64_t, int64_t> shard(int64_t begin, int64_t end, int rank, int size);

/// Reads a whole file on the root and gives its bytes to every rank (a file the root rewrites during the
/// run, e.g. a checkpoint, is read once, so every rank resumes from the same state). A read error is
/// thrown on every rank, with the same type (ImportError / Error) and message.
std::string read_file_from_root(const std::string& path);

/// Exit agreement at the end of main, on a communicator of its own (it never matches a collective of the
/// computation). Every rank passes its exit status (0 = success) and waits up to `timeout_seconds`
/// (< 0: forever) for the others. Returns the lowest failing rank and its status ({-1, 0} when every
/// rank succeeded), or nullopt when the others did not come in time: they are blocked in a collective
/// this rank left by an exception, and the caller should abort(). Not active: {-1, 0} or {0, code}.
struct ExitVote {
  int rank = -1;
  int code = 0;
};
std::optional<ExitVote> agree_exit(int code, double timeout_seconds);

/// init() on construction, finalize() on destruction.
class Session {
 public:
  Session(int* argc, char*** argv) { init(argc, argv); }
  ~Session() { finalize(); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

}  // namespace ftdla::dist
