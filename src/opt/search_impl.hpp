// SPDX-License-Identifier: MIT
// Bookkeeping shared by the searchers: evaluation with outcome checks, de-duplication, the incumbent,
// stopping rules, cheap-constraint screening and the callback.
#pragma once
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include "ftdla/opt/search.hpp"

namespace ftdla::opt::detail {

class SearchRun {
 public:
  /// Validates options and the problem's space; `where` ("bayes_optimize()") prefixes error messages.
  SearchRun(Problem& problem, const SearchOptions& options, const SearchCallback& callback, const char* where);

  const Space& space() const { return space_; }
  const SearchResult& result() const { return result_; }
  SearchResult take_result(StopReason reason);

  /// True when x (rounded) was already evaluated.
  bool seen(const std::vector<double>& x) const { return seen_.count(x) > 0; }
  /// Cheap outputs at x, checked for finiteness and size (EvaluationError otherwise).
  Outcome cheap(const std::vector<double>& x) const;
  /// True unless screening is on and a cheap constraint is violated at x (then counts x as screened).
  bool admissible(const std::vector<double>& x);
  /// True when `o` (a cheap outcome) violates a cheap constraint and screening is on.
  bool screened_out(const Outcome& o) const;
  bool has_cheap_outputs() const { return problem_.objective_is_cheap() || !cheap_constraints_.empty(); }
  const std::vector<size_t>& cheap_constraints() const { return cheap_constraints_; }
  void count_screened() { ++result_.screened; }

  /// Budget or stagnation reached? Stagnation is only checked once history has >= stagnation_from trials.
  std::optional<StopReason> should_stop() const;
  void set_stagnation_from(size_t n) { stagnation_from_ = n; }

  /// Evaluate x (must be valid, rounded and unseen), check the outcome, record the trial, update the
  /// incumbent and call the callback. Throws EvaluationError on a bad outcome.
  const Trial& evaluate(const std::vector<double>& x, TrialSource source,
                        double log_acquisition = std::numeric_limits<double>::quiet_NaN());

 private:
  Problem& problem_;
  const Space& space_;
  const SearchOptions& options_;
  const SearchCallback& callback_;
  const char* where_;
  std::vector<size_t> cheap_constraints_;
  SearchResult result_;
  std::set<std::vector<double>> seen_;
  size_t last_improvement_ = 0;  // history size right after the last improving trial
  size_t stagnation_from_ = 0;
};

}  // namespace ftdla::opt::detail
