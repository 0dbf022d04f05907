// SPDX-License-Identifier: MIT
// Constrained Bayesian optimization loop (see search.hpp for the algorithm).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ftdla/core/rng.hpp"
#include "ftdla/opt/acquisition.hpp"
#include "ftdla/opt/design.hpp"
#include "ftdla/opt/search.hpp"
#include "search_impl.hpp"

namespace ftdla::opt {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
// Sampled acquisition search (spaces too large to enumerate). Values chosen for d <~ 20 knobs:
constexpr size_t kAnchors = 5;             // best trials whose neighbourhoods are sampled
constexpr size_t kPerturbations = 25;      // Gaussian perturbations per anchor and scale
constexpr double kPerturbSd[] = {0.05, 0.2};  // in unit-cube coordinates
constexpr size_t kClimbStarts = 3;         // best candidates refined by the neighbour hill-climb
constexpr size_t kClimbSteps = 30;         // maximum moves of one hill-climb
constexpr double kRealSteps[] = {0.05, 0.01};  // unit-cube steps of real knobs in the hill-climb
// Random fallback draws before giving up (sampled mode).
constexpr size_t kFallbackTries = 10'000;

Eigen::Map<const Eigen::VectorXd> column(const std::vector<double>& u) {
  return Eigen::Map<const Eigen::VectorXd>(u.data(), static_cast<Eigen::Index>(u.size()));
}

class BayesSearch {
 public:
  BayesSearch(Problem& problem, const SearchOptions& options, const SearchCallback& callback)
      : options_(options), run_(problem, options, callback, "bayes_optimize()"),
        space_(run_.space()), d_(space_.dimension()), cheap_objective_(problem.objective_is_cheap()) {
    for (size_t k = 0; k < problem.num_constraints(); ++k) {
      if (problem.constraint_is_cheap(k)) cheap_constraint_.push_back(true);
      else {
        cheap_constraint_.push_back(false);
        modelled_constraints_.push_back(k);
      }
    }
    if (!cheap_objective_) objective_gp_.emplace(space_, options.gp);
    for (size_t i = 0; i < modelled_constraints_.size(); ++i) constraint_gps_.emplace_back(space_, options.gp);
    const auto size = space_.lattice_size();
    lattice_size_ = size;
    exhaustive_ = size && *size <= options.exhaustive_limit;
    if (exhaustive_) build_lattice();
  }

  SearchResult run() {
    // Warm-start points (e.g. known good designs) are evaluated first and count toward the budget.
    for (const auto& w : options_.warm_start) {
      if (exhausted()) return run_.take_result(StopReason::Exhausted);
      if (const auto stop = run_.should_stop()) return run_.take_result(*stop);
      const std::vector<double> x = space_.round(w);
      if (!run_.seen(x) && admissible(x)) evaluate(x, TrialSource::Initial);
    }
    const size_t warm = run_.result().history.size();
    const size_t n_init = warm + options_.initial_points(d_);
    run_.set_stagnation_from(n_init);
    Rng design_rng = Rng::derive(options_.seed, 0);
    const auto design = latin_hypercube(n_init - warm, d_, design_rng);
    for (size_t iteration = 0;; ++iteration) {
      if (exhausted()) return run_.take_result(StopReason::Exhausted);
      if (const auto stop = run_.should_stop()) return run_.take_result(*stop);
      const size_t n = run_.result().history.size();
      Rng rng = Rng::derive(options_.seed, 1 + iteration);
      if (n < n_init) {
        std::optional<std::vector<double>> x = space_.round(space_.from_uniform(design[n - warm]));
        if (run_.seen(*x) || !admissible(*x)) x = random_admissible(rng);
        if (!x) return run_.take_result(StopReason::NoCandidate);
        evaluate(*x, TrialSource::Initial);
        continue;
      }
      fit_models(iteration, model_steps_++ % options_.refit_every == 0);
      const Choice c = exhaustive_ ? choose_on_lattice() : choose_sampled(rng);
      if (c.score > kNegInf) {
        evaluate(c.x, TrialSource::Model, c.score);
        continue;
      }
      // Acquisition exactly 0 everywhere: on the full lattice this proves that no remaining point can
      // improve; with sampled candidates, fall back to a random admissible point.
      if (exhaustive_) return run_.take_result(StopReason::NoCandidate);
      const auto x = random_admissible(rng);
      if (!x) return run_.take_result(StopReason::NoCandidate);
      evaluate(*x, TrialSource::Random);
    }
  }

 private:
  struct Choice {
    std::vector<double> x;
    double score = kNegInf;
  };

  void build_lattice() {
    const uint64_t m = *lattice_size_;
    lattice_z_.resize(static_cast<Eigen::Index>(d_), static_cast<Eigen::Index>(m));
    lattice_evaluated_.assign(m, 0);
    lattice_admissible_.assign(m, 1);
    if (run_.has_cheap_outputs()) lattice_cheap_.resize(m);
    remaining_ = m;
    for (uint64_t i = 0; i < m; ++i) {
      const std::vector<double> x = space_.lattice_point(i);
      const std::vector<double> u = space_.to_unit(x);
      lattice_z_.col(static_cast<Eigen::Index>(i)) = column(u);
      if (run_.has_cheap_outputs()) {
        lattice_cheap_[i] = run_.cheap(x);
        if (run_.screened_out(lattice_cheap_[i])) {
          lattice_admissible_[i] = 0;
          --remaining_;
        }
      }
    }
  }

  bool exhausted() const {
    if (exhaustive_) return remaining_ == 0;
    return lattice_size_ && run_.result().history.size() >= *lattice_size_;
  }

  bool admissible(const std::vector<double>& x) {
    if (exhaustive_) {
      const uint64_t i = space_.lattice_index(x);
      if (!lattice_admissible_[i]) run_.count_screened();
      return lattice_admissible_[i];
    }
    return run_.admissible(x);
  }

  void evaluate(const std::vector<double>& x, TrialSource source,
                double score = std::numeric_limits<double>::quiet_NaN()) {
    if (exhaustive_) {
      const uint64_t i = space_.lattice_index(x);
      FTDLA_ASSERT(!lattice_evaluated_[i]);
      lattice_evaluated_[i] = 1;
      if (lattice_admissible_[i]) --remaining_;
    }
    run_.evaluate(x, source, score);
  }

  // A uniformly random unevaluated admissible point, or nullopt if none could be found.
  std::optional<std::vector<double>> random_admissible(Rng& rng) {
    if (exhaustive_) {
      if (remaining_ == 0) return std::nullopt;
      uint64_t k = rng.below(remaining_);
      for (uint64_t i = 0; i < lattice_evaluated_.size(); ++i) {
        if (lattice_evaluated_[i] || !lattice_admissible_[i]) continue;
        if (k-- == 0) return space_.lattice_point(i);
      }
      FTDLA_ASSERT(false);
    }
    std::vector<double> u(d_);
    for (size_t t = 0; t < kFallbackTries; ++t) {
      for (double& v : u) v = rng.uniform();
      std::vector<double> x = space_.round(space_.from_uniform(u));
      if (!run_.seen(x) && run_.admissible(x)) return x;
    }
    return std::nullopt;
  }

  void fit_models(size_t iteration, bool full) {
    const auto& h = run_.result().history;
    const Eigen::Index n = static_cast<Eigen::Index>(h.size());
    Eigen::MatrixXd z(static_cast<Eigen::Index>(d_), n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const std::vector<double> u = space_.to_unit(h[static_cast<size_t>(j)].x);
      z.col(j) = column(u);
    }
    Eigen::VectorXd y(n);
    Eigen::VectorXd noise;  // per-observation noise of the model being fit (empty: none reported)
    auto fit = [&](GaussianProcess& gp, size_t model) {
      gp.set_transformed_data(z, y, noise);
      const uint64_t seed = Rng::derive(options_.seed ^ 0x5eedf17ULL, iteration * 64 + model)();
      gp.fit(seed, full ? std::nullopt : std::optional<size_t>(1));
    };
    if (objective_gp_) {
      for (Eigen::Index j = 0; j < n; ++j) y[j] = h[static_cast<size_t>(j)].outcome.objective;
      fit(*objective_gp_, 0);
    }
    for (size_t i = 0; i < modelled_constraints_.size(); ++i) {
      const size_t k = modelled_constraints_[i];
      bool noisy = false;
      for (Eigen::Index j = 0; j < n; ++j) noisy |= !h[static_cast<size_t>(j)].outcome.constraint_noise.empty();
      noise = noisy ? Eigen::VectorXd::Zero(n) : Eigen::VectorXd();
      for (Eigen::Index j = 0; j < n; ++j) {
        const Outcome& o = h[static_cast<size_t>(j)].outcome;
        y[j] = o.constraints[k];
        if (noisy && !o.constraint_noise.empty()) noise[j] = o.constraint_noise[k];
      }
      fit(constraint_gps_[i], 1 + i);
    }
  }

  // log acquisition at the columns of z; cheap[j] holds the cheap outputs of column j (when any output is cheap).
  std::vector<double> score(const Eigen::MatrixXd& z, const std::vector<const Outcome*>& cheap) {
    const Eigen::Index m = z.cols();
    Eigen::VectorXd obj_mean, obj_var;
    if (objective_gp_) objective_gp_->predict(z, obj_mean, obj_var);
    std::vector<Eigen::VectorXd> c_mean(constraint_gps_.size()), c_var(constraint_gps_.size());
    for (size_t i = 0; i < constraint_gps_.size(); ++i) constraint_gps_[i].predict(z, c_mean[i], c_var[i]);
    const std::optional<double> best =
        run_.result().best ? std::optional<double>(run_.result().best_trial()->outcome.objective) : std::nullopt;
    std::vector<Belief> cons(cheap_constraint_.size());
    std::vector<double> out(static_cast<size_t>(m));
    for (Eigen::Index j = 0; j < m; ++j) {
      const Outcome* c = cheap.empty() ? nullptr : cheap[static_cast<size_t>(j)];
      const Belief obj = cheap_objective_ ? Belief{c->objective, 0.0}
                                          : Belief{obj_mean[j], model_sd(obj_var[j], *objective_gp_)};
      for (size_t k = 0, g = 0; k < cons.size(); ++k) {
        if (cheap_constraint_[k]) {
          cons[k] = Belief{c->constraints[k], 0.0};
        } else {
          cons[k] = Belief{c_mean[g][j], model_sd(c_var[g][j], constraint_gps_[g])};
          ++g;
        }
      }
      out[static_cast<size_t>(j)] = log_constrained_expected_improvement(obj, cons, best);
    }
    return out;
  }

  // A modelled output is never known exactly at an unevaluated point: floor its sd (1e-9 of the output
  // scale) so that cancellation in the predictive variance cannot turn EI or PoF into a hard 0.
  static double model_sd(double var, const GaussianProcess& gp) {
    return std::max(std::sqrt(var), 1e-9 * gp.output_scale());
  }

  Choice choose_on_lattice() {
    std::vector<uint64_t> idx;
    idx.reserve(remaining_);
    for (uint64_t i = 0; i < lattice_evaluated_.size(); ++i) {
      if (!lattice_evaluated_[i] && lattice_admissible_[i]) idx.push_back(i);
    }
    Eigen::MatrixXd z(static_cast<Eigen::Index>(d_), static_cast<Eigen::Index>(idx.size()));
    std::vector<const Outcome*> cheap;
    for (size_t j = 0; j < idx.size(); ++j) {
      z.col(static_cast<Eigen::Index>(j)) = lattice_z_.col(static_cast<Eigen::Index>(idx[j]));
      if (!lattice_cheap_.empty()) cheap.push_back(&lattice_cheap_[idx[j]]);
    }
    const std::vector<double> s = score(z, cheap);
    Choice best;
    for (size_t j = 0; j < s.size(); ++j) {
      if (s[j] > best.score) {  // strict: ties go to the lowest lattice index
        best.score = s[j];
        best.x = space_.lattice_point(idx[j]);
      }
    }
    return best;
  }

  // Scores for arbitrary (rounded) points; evaluated points get −inf.
  std::vector<double> score_points(const std::vector<std::vector<double>>& xs) {
    Eigen::MatrixXd z(static_cast<Eigen::Index>(d_), static_cast<Eigen::Index>(xs.size()));
    std::vector<Outcome> cheap_store;
    std::vector<const Outcome*> cheap;
    if (run_.has_cheap_outputs()) {
      cheap_store.reserve(xs.size());
      for (const auto& x : xs) cheap_store.push_back(run_.cheap(x));
      for (const auto& o : cheap_store) cheap.push_back(&o);
    }
    for (size_t j = 0; j < xs.size(); ++j) {
      const std::vector<double> u = space_.to_unit(xs[j]);
      z.col(static_cast<Eigen::Index>(j)) = column(u);
    }
    std::vector<double> s = score(z, cheap);
    for (size_t j = 0; j < xs.size(); ++j) {
      if (run_.seen(xs[j]) || (!cheap.empty() && run_.screened_out(*cheap[j]))) s[j] = kNegInf;
    }
    return s;
  }

  std::vector<std::vector<double>> neighbours(const std::vector<double>& x) const {
    std::vector<std::vector<double>> out;
    const std::vector<double> u = space_.to_unit(x);
    for (size_t i = 0; i < d_; ++i) {
      const Knob& k = space_.knobs[i];
      if (k.kind == KnobKind::Real) {
        for (double step : kRealSteps) {
          for (double sign : {-1.0, 1.0}) {
            std::vector<double> v = u;
            v[i] = std::clamp(u[i] + sign * step, 0.0, 1.0);
            out.push_back(space_.from_unit(v));
          }
        }
        continue;
      }
      const uint64_t level = space_.level_of(i, x[i]);
      const uint64_t levels = k.levels();
      for (int delta : {-1, 1}) {
        if ((delta < 0 && level == 0) || (delta > 0 && level + 1 >= levels)) continue;
        std::vector<double> y = x;
        const uint64_t l = level + static_cast<uint64_t>(delta);
        y[i] = k.kind == KnobKind::Categorical ? k.values[l] : k.lo + static_cast<double>(l);
        out.push_back(std::move(y));
      }
    }
    return out;
  }

  Choice choose_sampled(Rng& rng) {
    std::vector<std::vector<double>> cands;
    cands.reserve(options_.candidates + kAnchors * kPerturbations * 2);
    std::vector<double> u(d_);
    for (size_t i = 0; i < options_.candidates; ++i) {
      for (double& v : u) v = rng.uniform();
      cands.push_back(space_.round(space_.from_uniform(u)));
    }
    // Anchors: feasible trials by objective, then infeasible ones by total violation Σ max(c_k, 0).
    const auto& h = run_.result().history;
    std::vector<size_t> order(h.size());
    std::iota(order.begin(), order.end(), size_t{0});
    auto violation = [&](size_t i) {
      double v = 0.0;
      for (double c : h[i].outcome.constraints) v += std::max(c, 0.0);
      return v;
    };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (h[a].feasible != h[b].feasible) return h[a].feasible;
      if (h[a].feasible) return h[a].outcome.objective < h[b].outcome.objective;
      return violation(a) < violation(b);
    });
    for (size_t a = 0; a < std::min(kAnchors, order.size()); ++a) {
      const std::vector<double> u0 = space_.to_unit(h[order[a]].x);
      for (double sd : kPerturbSd) {
        for (size_t p = 0; p < kPerturbations; ++p) {
          for (size_t i = 0; i < d_; ++i) u[i] = std::clamp(u0[i] + sd * rng.normal(), 0.0, 1.0);
          cands.push_back(space_.from_unit(u));
        }
      }
    }
    const std::vector<double> s = score_points(cands);
    std::vector<size_t> rank(cands.size());
    std::iota(rank.begin(), rank.end(), size_t{0});
    std::stable_sort(rank.begin(), rank.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
    Choice best;
    if (!rank.empty()) best = Choice{cands[rank[0]], s[rank[0]]};
    // Hill-climb over lattice / real-step neighbours from the best few distinct candidates.
    std::vector<std::vector<double>> started;
    for (size_t r = 0; r < rank.size() && started.size() < kClimbStarts; ++r) {
      if (s[rank[r]] == kNegInf) break;
      if (std::find(started.begin(), started.end(), cands[rank[r]]) != started.end()) continue;
      started.push_back(cands[rank[r]]);
      Choice cur{cands[rank[r]], s[rank[r]]};
      for (size_t step = 0; step < kClimbSteps; ++step) {
        const auto nb = neighbours(cur.x);
        if (nb.empty()) break;
        const std::vector<double> ns = score_points(nb);
        const size_t j = static_cast<size_t>(std::max_element(ns.begin(), ns.end()) - ns.begin());
        if (!(ns[j] > cur.score)) break;
        cur = Choice{nb[j], ns[j]};
      }
      if (cur.score > best.score) best = cur;
    }
    return best;
  }

  const SearchOptions& options_;
  detail::SearchRun run_;
  const Space& space_;
  const size_t d_;
  const bool cheap_objective_;
  std::vector<bool> cheap_constraint_;
  std::vector<size_t> modelled_constraints_;
  std::optional<GaussianProcess> objective_gp_;
  std::vector<GaussianProcess> constraint_gps_;
  std::optional<uint64_t> lattice_size_;
  bool exhaustive_ = false;
  Eigen::MatrixXd lattice_z_;              // d × m unit-cube lattice points
  std::vector<char> lattice_evaluated_;
  std::vector<char> lattice_admissible_;   // 0: screened out by a cheap constraint
  std::vector<Outcome> lattice_cheap_;     // cheap outputs per lattice point (when any output is cheap)
  uint64_t remaining_ = 0;                 // admissible, unevaluated lattice points
  size_t model_steps_ = 0;                 // model steps done (for refit_every)
};

}  // namespace

SearchResult bayes_optimize(Problem& problem, const SearchOptions& options, const SearchCallback& callback) {
  BayesSearch search(problem, options, callback);
  return search.run();
}

}  // namespace ftdla::opt
