// SPDX-License-Identifier: MIT
// ftdla command line: parsing and printing only; all logic lives in the libraries.
// Exit codes: 0 ok, 1 bad input or failure (one-line message), 2 usage / configuration error,
// 130 interrupted (partial results saved).
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "ftdla/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ftdla: cross-layer design of fault-tolerant deep-learning accelerators"};
  app.require_subcommand(1);
  ftdla::cli::add_info(app);
  ftdla::cli::add_eval(app);
  ftdla::cli::add_inject(app);
  ftdla::cli::add_characterize(app);
  ftdla::cli::add_evaluate(app);
  ftdla::cli::add_optimize(app);
  ftdla::cli::add_rtl(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const ftdla::cli::Interrupted&) {
    return 130;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ftdla: error: %s\n", e.what());
    return 2;
  } catch (const ftdla::ConfigError& e) {
    std::fprintf(stderr, "ftdla: error: %s\n", e.what());
    return 2;
  } catch (const ftdla::Error& e) {
    std::fprintf(stderr, "ftdla: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ftdla: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
