// SPDX-License-Identifier: MIT
// Unconstrained smooth minimization by limited-memory BFGS with a backtracking (Armijo) line search;
// used to fit GP hyperparameters.
#pragma once
#include <functional>

#include <Eigen/Core>

namespace ftdla::opt {

/// Objective: returns f(x) and writes the gradient into `grad` (already sized like x). May return a
/// non-finite value to say "x is outside the domain"; the line search then backtracks.
using SmoothFunction = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& grad)>;

struct LbfgsOptions {
  int max_iterations = 100;         ///< outer iterations (>= 1)
  int memory = 8;                   ///< stored (s, y) pairs (>= 1)
  double gradient_tolerance = 1e-5; ///< stop when ||grad||_inf <= this
  double value_tolerance = 1e-10;   ///< stop when |f_k - f_{k+1}| <= this * max(1, |f_k|)
  int max_backtracks = 30;          ///< halvings of the step before giving up on a direction
};

struct LbfgsResult {
  Eigen::VectorXd x;       ///< best point found
  double value = 0.0;      ///< f(x)
  int iterations = 0;      ///< outer iterations done
  int evaluations = 0;     ///< calls of f
  bool converged = false;  ///< a tolerance was met (false: iteration limit or line-search failure)
};

/// Minimize f from x0 (Nocedal & Wright, Numerical Optimization 2nd ed., Alg. 7.4/7.5 two-loop recursion;
/// Armijo condition with c1 = 1e-4). Falls back to steepest descent when the quasi-Newton direction is
/// not a descent direction. Never returns a point worse than x0. If f(x0) is not finite, returns x0.
LbfgsResult minimize_lbfgs(const SmoothFunction& f, const Eigen::VectorXd& x0, const LbfgsOptions& options = {});

}  // namespace ftdla::opt
