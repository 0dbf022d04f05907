// SPDX-License-Identifier: MIT
// Acquisition functions for constrained minimization: expected improvement, probability of feasibility
// and their product, in plain and log form (log form avoids underflow far from the incumbent).
#pragma once
#include <optional>
#include <span>

namespace ftdla::opt {

/// Gaussian belief N(mean, sd²) about one output at one point. sd == 0 means the value is known exactly
/// (an analytic, "cheap" output, or a noise-free prediction).
struct Belief {
  double mean = 0.0;
  double sd = 0.0;  ///< >= 0
};

/// Expected improvement for minimization (Jones, Schonlau & Welch, J. Global Optim. 1998):
///   EI = E[max(best − Y, 0)], Y ~ N(mean, sd²) = sd·[u·Φ(u) + φ(u)], u = (best − mean)/sd.
/// sd == 0: the improvement max(best − mean, 0). Always >= 0. Inputs must be finite, sd >= 0.
double expected_improvement(const Belief& y, double best);
/// log EI, accurate where EI underflows (u → −∞: asymptotic Mills-ratio expansion, cf. Ament et al.,
/// "Unexpected improvements to expected improvement", NeurIPS 2023). −inf where EI == 0 exactly (sd == 0).
double log_expected_improvement(const Belief& y, double best);

/// Probability that an output modelled as N(mean, sd²) satisfies c <= 0: Φ(−mean/sd) (Gardner et al.,
/// ICML 2014). sd == 0: 1 if mean <= 0, else 0.
double probability_of_feasibility(const Belief& c);
/// log of probability_of_feasibility, accurate deep in the infeasible tail; −inf when it is exactly 0.
double log_probability_of_feasibility(const Belief& c);

/// Constrained EI (Gardner et al. ICML 2014; Gelbart, Snoek & Adams UAI 2014), log form:
///   log cEI = log EI(objective | best_feasible) + Σ_k log PoF(constraint_k).
/// Without a feasible incumbent (best_feasible empty) EI is undefined, so the value is Σ_k log PoF alone:
/// the search then looks for any feasible point first.
double log_constrained_expected_improvement(const Belief& objective, std::span<const Belief> constraints,
                                            std::optional<double> best_feasible);
/// exp(log_constrained_expected_improvement(...)); <= EI(objective) since every PoF <= 1.
double constrained_expected_improvement(const Belief& objective, std::span<const Belief> constraints,
                                        std::optional<double> best_feasible);

/// log Φ(z) for any finite z, accurate in both tails.
double log_normal_cdf(double z);

}  // namespace ftdla::opt
