// SPDX-License-Identifier: MIT
// Shared search bookkeeping, SearchOptions, random search and grid search.
#include "ftdla/opt/search.hpp"

#include <cmath>
#include <sstream>
#include <unordered_map>

#include "ftdla/core/rng.hpp"
#include "search_impl.hpp"

namespace ftdla::opt {
namespace {

// Maximum exhaustive lattice: the searcher keeps d doubles per lattice point.
constexpr uint64_t kMaxExhaustiveLimit = 5'000'000;
// Random search in a space with real knobs gives up after this many consecutive rejected draws.
constexpr size_t kMaxRejects = 10'000;

std::string num(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

}  // namespace

bool is_feasible(const Outcome& outcome) {
  if (outcome.feasible) return *outcome.feasible;
  for (double c : outcome.constraints) {
    if (!(c <= 0.0)) return false;
  }
  return true;
}

Outcome Problem::evaluate_cheap(const std::vector<double>& x) const {
  throw UnsupportedError("Problem::evaluate_cheap(): this problem declares no cheap outputs (called at x = " + to_string(x) +
                         "); override it when objective_is_cheap() or constraint_is_cheap() is true");
}

const char* to_string(StopReason reason) {
  switch (reason) {
    case StopReason::Budget: return "budget";
    case StopReason::Stagnation: return "stagnation";
    case StopReason::Exhausted: return "exhausted";
    case StopReason::NoCandidate: return "no_candidate";
  }
  return "?";
}

const char* to_string(TrialSource source) {
  switch (source) {
    case TrialSource::Initial: return "initial";
    case TrialSource::Model: return "model";
    case TrialSource::Random: return "random";
    case TrialSource::Grid: return "grid";
  }
  return "?";
}

// ---- SearchOptions ----------------------------------------------------------------------------------

std::vector<std::string> SearchOptions::problems() const {
  std::vector<std::string> out;
  if (budget < 1) out.push_back("opt.budget: must be at least 1 (got 0)");
  if (initial > budget) {
    out.push_back("opt.initial: must not exceed opt.budget (got " + std::to_string(initial) + ", budget " +
                  std::to_string(budget) + ")");
  }
  if (exhaustive_limit < 1 || exhaustive_limit > kMaxExhaustiveLimit) {
    out.push_back("opt.exhaustive_limit: must be in [1, " + std::to_string(kMaxExhaustiveLimit) + "] (got " +
                  std::to_string(exhaustive_limit) + ")");
  }
  if (candidates < 1) out.push_back("opt.candidates: must be at least 1 (got 0)");
  if (refit_every < 1) out.push_back("opt.refit_every: must be at least 1 (got 0)");
  for (auto& p : gp.problems("opt.gp")) out.push_back(std::move(p));
  return out;
}

void SearchOptions::validate() const {
  const auto p = problems();
  if (p.empty()) return;
  std::string msg;
  for (const auto& s : p) msg += (msg.empty() ? "" : "; ") + s;
  throw ConfigError(msg);
}

size_t SearchOptions::initial_points(size_t dimension) const {
  if (initial > 0) return std::min(initial, budget);
  return std::min(budget, std::max<size_t>(10, 2 * (dimension + 1)));
}

// ---- SearchRun ----------------------------------------------------------------------------------------

namespace detail {

SearchRun::SearchRun(Problem& problem, const SearchOptions& options, const SearchCallback& callback,
                     const char* where)
    : problem_(problem), space_(problem.space()), options_(options), callback_(callback), where_(where) {
  options.validate();
  space_.validate();
  for (size_t k = 0; k < problem.num_constraints(); ++k) {
    if (problem.constraint_is_cheap(k)) cheap_constraints_.push_back(k);
  }
  result_.seed = options.seed;
}

SearchResult SearchRun::take_result(StopReason reason) {
  result_.stop_reason = reason;
  return std::move(result_);
}

Outcome SearchRun::cheap(const std::vector<double>& x) const {
  Outcome o = problem_.evaluate_cheap(x);
  const std::string at = std::string(where_) + ": evaluate_cheap at x = " + to_string(x);
  if (o.constraints.size() != problem_.num_constraints()) {
    throw EvaluationError(at + " returned " + std::to_string(o.constraints.size()) + " constraints (expected " +
                          std::to_string(problem_.num_constraints()) + ")");
  }
  if (problem_.objective_is_cheap() && !std::isfinite(o.objective)) {
    throw EvaluationError(at + " returned objective = " + num(o.objective) + " (expected a finite number)");
  }
  for (size_t k : cheap_constraints_) {
    if (!std::isfinite(o.constraints[k])) {
      throw EvaluationError(at + " returned constraint " + std::to_string(k) + " = " + num(o.constraints[k]) +
                            " (expected a finite number)");
    }
  }
  return o;
}

bool SearchRun::screened_out(const Outcome& o) const {
  if (!options_.screen_cheap) return false;
  for (size_t k : cheap_constraints_) {
    if (o.constraints[k] > 0.0) return true;
  }
  return false;
}

bool SearchRun::admissible(const std::vector<double>& x) {
  if (!options_.screen_cheap || cheap_constraints_.empty()) return true;
  if (!screened_out(cheap(x))) return true;
  ++result_.screened;
  return false;
}

std::optional<StopReason> SearchRun::should_stop() const {
  const size_t n = result_.history.size();
  if (n >= options_.budget) return StopReason::Budget;
  if (options_.stagnation > 0 && n >= stagnation_from_ && n - last_improvement_ >= options_.stagnation) {
    return StopReason::Stagnation;
  }
  return std::nullopt;
}

const Trial& SearchRun::evaluate(const std::vector<double>& x, TrialSource source, double log_acquisition) {
  FTDLA_ASSERT(!seen(x));
  Trial t;
  t.index = result_.history.size();
  t.x = x;
  t.source = source;
  t.log_acquisition = log_acquisition;
  t.outcome = problem_.evaluate(x);
  const std::string at = std::string(where_) + ": evaluation " + std::to_string(t.index) + " at x = " + to_string(x);
  if (t.outcome.constraints.size() != problem_.num_constraints()) {
    throw EvaluationError(at + " returned " + std::to_string(t.outcome.constraints.size()) +
                          " constraints (expected " + std::to_string(problem_.num_constraints()) + ")");
  }
  if (!std::isfinite(t.outcome.objective)) {
    throw EvaluationError(at + " returned objective = " + num(t.outcome.objective) + " (expected a finite number)");
  }
  for (size_t k = 0; k < t.outcome.constraints.size(); ++k) {
    if (!std::isfinite(t.outcome.constraints[k])) {
      throw EvaluationError(at + " returned constraint " + std::to_string(k) + " = " + num(t.outcome.constraints[k]) +
                            " (expected a finite number)");
    }
  }
  if (!t.outcome.constraint_noise.empty()) {
    if (t.outcome.constraint_noise.size() != t.outcome.constraints.size())
      throw EvaluationError(at + " returned " + std::to_string(t.outcome.constraint_noise.size()) +
                            " constraint noise values (expected 0 or " + std::to_string(t.outcome.constraints.size()) + ")");
    for (double v : t.outcome.constraint_noise)
      if (!(v >= 0.0) || !std::isfinite(v))
        throw EvaluationError(at + " returned constraint noise " + num(v) + " (expected a finite variance >= 0)");
  }
  t.feasible = is_feasible(t.outcome);
  seen_.insert(x);
  result_.history.push_back(std::move(t));
  const Trial& added = result_.history.back();
  if (added.feasible &&
      (!result_.best || added.outcome.objective < result_.history[*result_.best].outcome.objective)) {
    result_.best = added.index;
    last_improvement_ = result_.history.size();
  }
  if (callback_) callback_(added, result_);
  return result_.history.back();
}

}  // namespace detail

// ---- random search ----------------------------------------------------------------------------------

SearchResult random_search(Problem& problem, const SearchOptions& options, const SearchCallback& callback) {
  detail::SearchRun run(problem, options, callback, "random_search()");
  const Space& space = run.space();
  Rng rng = Rng::derive(options.seed, 0);
  if (const auto size = space.lattice_size()) {
    // Sparse Fisher-Yates over lattice indices: a uniform permutation prefix without storing the lattice.
    std::unordered_map<uint64_t, uint64_t> moved;
    auto at = [&](uint64_t i) { const auto it = moved.find(i); return it == moved.end() ? i : it->second; };
    for (uint64_t i = 0;; ++i) {
      if (i == *size) return run.take_result(StopReason::Exhausted);
      if (const auto stop = run.should_stop()) return run.take_result(*stop);
      const uint64_t j = i + rng.below(*size - i);
      const uint64_t pick = at(j);
      moved[j] = at(i);
      const std::vector<double> x = space.lattice_point(pick);
      if (run.admissible(x)) run.evaluate(x, TrialSource::Random);
    }
  }
  std::vector<double> u(space.dimension());
  for (size_t rejects = 0;;) {
    if (const auto stop = run.should_stop()) return run.take_result(*stop);
    for (double& v : u) v = rng.uniform();
    const std::vector<double> x = space.round(space.from_uniform(u));
    if (run.seen(x) || !run.admissible(x)) {
      if (++rejects > kMaxRejects) return run.take_result(StopReason::NoCandidate);
      continue;
    }
    rejects = 0;
    run.evaluate(x, TrialSource::Random);
  }
}

// ---- grid search ------------------------------------------------------------------------------------

SearchResult grid_search(Problem& problem, const SearchOptions& options, const SearchCallback& callback) {
  detail::SearchRun run(problem, options, callback, "grid_search()");
  const Space& space = run.space();
  for (const Knob& k : space.knobs) {
    if (k.kind == KnobKind::Real) {
      throw ConfigError("grid_search(): knob '" + k.name + "' is real (expected only integer/categorical knobs)");
    }
  }
  const auto size = space.lattice_size();
  if (!size) throw ConfigError("grid_search(): the lattice has more than 2^64 points");
  for (uint64_t i = 0;; ++i) {
    if (i == *size) return run.take_result(StopReason::Exhausted);
    if (const auto stop = run.should_stop()) return run.take_result(*stop);
    const std::vector<double> x = space.lattice_point(i);
    if (run.admissible(x)) run.evaluate(x, TrialSource::Grid);
  }
}

}  // namespace ftdla::opt
