// SPDX-License-Identifier: MIT
#include "ftdla/opt/lbfgs.hpp"

#include <cmath>
#include <deque>

namespace ftdla::opt {

LbfgsResult minimize_lbfgs(const SmoothFunction& f, const Eigen::VectorXd& x0, const LbfgsOptions& options) {
  LbfgsResult res;
  const Eigen::Index n = x0.size();
  Eigen::VectorXd x = x0, g(n), x_new(n), g_new(n);
  double fx = f(x, g);
  res.evaluations = 1;
  res.x = x;
  res.value = fx;
  if (!std::isfinite(fx) || !g.allFinite()) return res;

  std::deque<Eigen::VectorXd> s_hist, y_hist;
  std::deque<double> rho_hist;
  Eigen::VectorXd d(n);
  std::vector<double> alpha(static_cast<size_t>(options.memory));
  for (int it = 0; it < options.max_iterations; ++it) {
    res.iterations = it + 1;
    if (g.lpNorm<Eigen::Infinity>() <= options.gradient_tolerance) {
      res.converged = true;
      break;
    }
    // Two-loop recursion: d = -H g.
    d = -g;
    const size_t m = s_hist.size();
    for (size_t i = m; i-- > 0;) {
      alpha[i] = rho_hist[i] * s_hist[i].dot(d);
      d -= alpha[i] * y_hist[i];
    }
    if (m > 0) d *= s_hist.back().dot(y_hist.back()) / y_hist.back().squaredNorm();
    for (size_t i = 0; i < m; ++i) {
      const double beta = rho_hist[i] * y_hist[i].dot(d);
      d += (alpha[i] - beta) * s_hist[i];
    }
    double slope = g.dot(d);
    if (!(slope < 0.0) || !d.allFinite()) {  // not a descent direction: restart with steepest descent
      s_hist.clear(); y_hist.clear(); rho_hist.clear();
      d = -g;
      slope = -g.squaredNorm();
    }
    // First step of a fresh (steepest-descent) direction: limit its length to 1 in parameter space.
    double step = (m == 0) ? std::min(1.0, 1.0 / d.lpNorm<Eigen::Infinity>()) : 1.0;
    bool accepted = false;
    double f_new = fx;
    for (int b = 0; b < options.max_backtracks; ++b) {
      x_new = x + step * d;
      f_new = f(x_new, g_new);
      ++res.evaluations;
      if (std::isfinite(f_new) && g_new.allFinite() && f_new <= fx + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const Eigen::VectorXd s = x_new - x, y = g_new - g;
    const double sy = s.dot(y);
    const double f_old = fx;
    x = x_new;
    g = g_new;
    fx = f_new;
    if (sy > 1e-12 * s.norm() * y.norm()) {  // keep the curvature pair only if it is positive
      s_hist.push_back(s);
      y_hist.push_back(y);
      rho_hist.push_back(1.0 / sy);
      if (static_cast<int>(s_hist.size()) > options.memory) {
        s_hist.pop_front(); y_hist.pop_front(); rho_hist.pop_front();
      }
    }
    if (std::abs(f_old - fx) <= options.value_tolerance * std::max(1.0, std::abs(f_old))) {
      res.converged = true;
      break;
    }
  }
  res.x = x;
  res.value = fx;
  return res;
}

}  // namespace ftdla::opt
