// SPDX-License-Identifier: MIT
// ftdla command line: parsing and printing only; all logic lives in the libraries.
// Exit codes: 0 ok, 1 bad input or failure (one-line message), 2 usage / configuration error,
// 130 interrupted (partial results saved).
//
// Under `mpirun -np N` (include/ftdla/core/dist.hpp) every rank parses the same command line and runs the
// same command; only rank 0 prints to stdout, shows progress and writes files. At the end the ranks
// agree on one exit status: a failure every rank saw (a bad option, a missing file) is printed once, by
// the lowest failing rank, and every rank exits with its status. A rank whose exception the others did
// not share (they are blocked in a collective it will never join) prints its message and aborts the job.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"

namespace {

/// How long a failing rank waits for the others to reach the exit agreement before it aborts the job.
/// Ranks that fail on the same input fail at about the same point of the same computation.
constexpr double kFailureWaitSeconds = 10.0;

/// Levenshtein distance of two short words.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// The message for an unknown command word: the closest command, if any is close, and the list.
std::string unknown_command(const std::string& word, const CLI::App& app) {
  std::string best, names;
  size_t best_d = std::string::npos;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string& name = sub->get_name();
    names += (names.empty() ? "" : ", ") + name;
    const size_t d = edit_distance(word, name);
    if (d < best_d) best_d = d, best = name;
  }
  std::string msg = "unknown command '" + word + "'";
  if (best_d <= std::max<size_t>(2, word.size() / 3)) msg += "; did you mean '" + best + "'?";
  return msg + " (commands: " + names + ")";
}

/// Runs the command; returns the exit status and, for a failure, the message to print.
int run(int argc, char** argv, std::string& message) {
  CLI::App app{"ftdla: cross-layer design of fault-tolerant deep-learning accelerators"};
  app.require_subcommand(1);
  // Every option's default is shown in its --help; root options (--quiet) are accepted after the command too.
  app.option_defaults()->always_capture_default();
  app.fallthrough();
  app.set_version_flag("--version", std::string("ftdla ") + FTDLA_VERSION);
  app.add_flag_callback("-q,--quiet", [] { ftdla::cli::set_quiet(true); },
                        "no progress bars or per-step progress lines (results and errors are still printed)");
  app.footer("Example: ftdla eval --images 1000 (ftdla COMMAND --help: the options of a command)\n");
  ftdla::cli::add_info(app);
  ftdla::cli::add_eval(app);
  ftdla::cli::add_inject(app);
  ftdla::cli::add_characterize(app);
  ftdla::cli::add_evaluate(app);
  ftdla::cli::add_optimize(app);
  ftdla::cli::add_rtl(app);
  ftdla::cli::add_report(app);
  ftdla::cli::add_run(app);
  // The first word that is not an option names the command (the root has only flags).
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) known |= sub->check_name(argv[i]);
    if (!known) {
      message = "error: " + unknown_command(argv[i], app);
      return 2;
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const ftdla::cli::Interrupted&) {
    return 130;
  } catch (const CLI::ParseError& e) {
    message = std::string("error: ") + e.what();
    return 2;
  } catch (const ftdla::ConfigError& e) {
    message = std::string("error: ") + e.what();
    return 2;
  } catch (const ftdla::Error& e) {
    message = std::string("error: ") + e.what();
    return 1;
  } catch (const std::exception& e) {
    message = std::string("internal error: ") + e.what();
    return 3;
  } catch (...) {
    message = "internal error: unknown exception";
    return 3;
  }
  return 0;
}

void print(const std::string& message, int rank) {
  if (message.empty()) return;
  if (rank > 0) std::fprintf(stderr, "ftdla: rank %d: %s\n", rank, message.c_str());
  else std::fprintf(stderr, "ftdla: %s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  namespace dist = ftdla::dist;
  const dist::Session session(&argc, &argv);
  if (!dist::is_root()) {
    // Results, tables and help go to stdout once, from rank 0: the other ranks' stdout is discarded.
    std::fflush(stdout);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::close(null);
    }
  }
  std::string message;
  const int code = run(argc, argv, message);
  std::fflush(stdout);
  if (!dist::active() || dist::size() == 1) {
    print(message, 0);
    return code;
  }
  const auto vote = dist::agree_exit(code, code == 0 ? -1.0 : kFailureWaitSeconds);
  if (!vote) {
    print(message, dist::rank());
    dist::abort(code);
  }
  if (vote->rank == dist::rank()) print(message, vote->rank);
  return vote->code;
}
