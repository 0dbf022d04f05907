// SPDX-License-Identifier: MIT
#include "ftdla/core/dist.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"

#ifdef FTDLA_HAVE_MPI
#include <mpi.h>
#endif

namespace ftdla::dist {

namespace {

int g_rank = 0, g_size = 1;
bool g_active = false;

/// Size of the MPI job this process was started in by a launcher (mpirun / mpiexec / srun with PMIx),
/// 0 when it was not started by one. OpenMPI's launcher sets OMPI_COMM_WORLD_SIZE (and PMIX_RANK);
/// PMI_SIZE / PMI_RANK come from Hydra and Slurm's PMI.
int launcher_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(var); v && *v) return std::max(1, std::atoi(v));
  }
  for (const char* var : {"PMIX_RANK", "PMI_RANK"}) {
    if (const char* v = std::getenv(var); v && *v) return 1;  // size unknown here; MPI_Comm_size tells
  }
  return 0;
}

int launcher_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* v = std::getenv(var); v && *v) return std::atoi(v);
  }
  return 0;
}

#ifdef FTDLA_HAVE_MPI
bool g_initialized_here = false;
MPI_Comm g_exit_comm = MPI_COMM_NULL;  ///< private communicator of agree_exit()

int count_of(size_t n) {
  if (n > static_cast<size_t>(INT_MAX)) throw InternalError("dist: collective on more than INT_MAX elements");
  return static_cast<int>(n);
}
#endif

}  // namespace

bool built_with_mpi() {
#ifdef FTDLA_HAVE_MPI
  return true;
#else
  return false;
#endif
}

void init(int* argc, char*** argv) {
  // MPI is initialized only when a launcher started this process. OpenMPI's singleton init (MPI_Init in
  // a process started without mpirun) works, but it spawns a local runtime and costs about 0.8 s on the
  // development machine, which a plain `ftdla info` must not pay; a plain start is exactly the
  // single-process program of a build without MPI.
  const int launched = launcher_size();
#ifdef FTDLA_HAVE_MPI
  if (launched == 0) return;
  int already = 0;
  MPI_Initialized(&already);
  if (!already) {
    // OpenMP threads run inside each rank; only the main thread calls MPI.
    int provided = MPI_THREAD_SINGLE;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    g_initialized_here = true;
    if (provided < MPI_THREAD_FUNNELED && launcher_rank() == 0)
      std::fprintf(stderr, "ftdla: warning: the MPI library does not support MPI_THREAD_FUNNELED\n");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  MPI_Comm_dup(MPI_COMM_WORLD, &g_exit_comm);
  g_active = true;
#else
  (void)argc;
  (void)argv;
  if (launched > 1 && launcher_rank() == 0)
    std::fprintf(stderr,
                 "ftdla: warning: started as one of %d MPI ranks, but this ftdla was built without MPI "
                 "(FTDLA_MPI=OFF): every rank runs the whole job\n",
                 launched);
#endif
}

void finalize() {
#ifdef FTDLA_HAVE_MPI
  if (!g_active) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (g_exit_comm != MPI_COMM_NULL) MPI_Comm_free(&g_exit_comm);
  if (g_initialized_here) MPI_Finalize();
  g_active = false;
  g_rank = 0;
  g_size = 1;
#endif
}

bool active() { return g_active; }
int rank() { return g_rank; }
int size() { return g_size; }

void allreduce_sum(int64_t* data, size_t n) {
#ifdef FTDLA_HAVE_MPI
  if (g_size > 1 && n > 0) MPI_Allreduce(MPI_IN_PLACE, data, count_of(n), MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
#endif
}

void allreduce_sum(double* data, size_t n) {
#ifdef FTDLA_HAVE_MPI
  if (g_size > 1 && n > 0) MPI_Allreduce(MPI_IN_PLACE, data, count_of(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
#endif
}

void allreduce_max(double* data, size_t n) {
#ifdef FTDLA_HAVE_MPI
  if (g_size > 1 && n > 0) MPI_Allreduce(MPI_IN_PLACE, data, count_of(n), MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
#else
  (void)data;
  (void)n;
#endif
}

bool any(bool flag) {
#ifdef FTDLA_HAVE_MPI
  if (g_size > 1) {
    int v = flag ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    return v != 0;
  }
#endif
  return flag;
}

void broadcast(std::string& s, int root) {
#ifdef FTDLA_HAVE_MPI
  if (g_size <= 1) return;
  int64_t n = static_cast<int64_t>(s.size());
  MPI_Bcast(&n, 1, MPI_INT64_T, root, MPI_COMM_WORLD);
  s.resize(static_cast<size_t>(n));
  // In pieces of at most 1 GiB (MPI counts are int).
  for (int64_t off = 0; off < n; off += int64_t{1} << 30) {
    const int len = static_cast<int>(std::min<int64_t>(n - off, int64_t{1} << 30));
    MPI_Bcast(s.data() + off, len, MPI_CHAR, root, MPI_COMM_WORLD);
  }
#else
  (void)s;
  (void)root;
#endif
}

void broadcast(int64_t& v, int root) {
#ifdef FTDLA_HAVE_MPI
  if (g_size > 1) MPI_Bcast(&v, 1, MPI_INT64_T, root, MPI_COMM_WORLD);
#else
  (void)v;
  (void)root;
#endif
}

void barrier() {
#ifdef FTDLA_HAVE_MPI
  if (g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

void abort(int code) {
  std::fflush(nullptr);
#ifdef FTDLA_HAVE_MPI
  if (g_active) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

std::pair<int64_t, int64_t> shard(int64_t begin, int64_t end, int r, int n) {
  if (n < 1 || r < 0 || r >= n) throw InternalError("dist::shard: rank " + std::to_string(r) + " of " + std::to_string(n));
  if (end <= begin) return {begin, begin};
  const int64_t len = end - begin, q = len / n, rem = len % n;
  const int64_t lo = begin + q * r + std::min<int64_t>(r, rem);
  return {lo, lo + q + (r < rem ? 1 : 0)};
}

std::pair<int64_t, int64_t> shard(int64_t begin, int64_t end) { return shard(begin, end, g_rank, g_size); }

std::string read_file_from_root(const std::string& path) {
  if (g_size <= 1) return read_file(path);
  // First byte: 'o' ok (then the bytes), 'i' ImportError, 'e' other Error (then the message).
  std::string msg;
  if (g_rank == 0) {
    try {
      msg = "o" + read_file(path);
    } catch (const ImportError& e) {
      msg = std::string("i") + e.what();
    } catch (const Error& e) {
      msg = std::string("e") + e.what();
    }
  }
  broadcast(msg, 0);
  if (msg.empty()) throw InternalError("dist::read_file_from_root: empty message");
  const char kind = msg[0];
  msg.erase(0, 1);
  if (kind == 'i') throw ImportError(msg);
  if (kind == 'e') throw Error(msg);
  return msg;
}

std::optional<ExitVote> agree_exit(int code, double timeout_seconds) {
  if (g_size <= 1) return code == 0 ? ExitVote{} : ExitVote{g_rank, code};
#ifdef FTDLA_HAVE_MPI
  // Minimum of (rank, code) over the failing ranks; successes vote INT64_MAX.
  int64_t vote = code == 0 ? INT64_MAX : int64_t{g_rank} * 256 + (code & 255), result = INT64_MAX;
  MPI_Request req;
  MPI_Iallreduce(&vote, &result, 1, MPI_INT64_T, MPI_MIN, g_exit_comm, &req);
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    int done = 0;
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (done) break;
    if (timeout_seconds >= 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > timeout_seconds)
      return std::nullopt;
    const timespec pause{0, 2'000'000};  // 2 ms: waiting ranks stay off the cores
    ::nanosleep(&pause, nullptr);
  }
  if (result == INT64_MAX) return ExitVote{};
  return ExitVote{static_cast<int>(result / 256), static_cast<int>(result % 256)};
#else
  (void)timeout_seconds;
  return code == 0 ? ExitVote{} : ExitVote{g_rank, code};
#endif
}

}  // namespace ftdla::dist
