// SPDX-License-Identifier: MIT
// Space-filling initial designs for the searchers.
#pragma once
#include <vector>

#include "ftdla/core/rng.hpp"

namespace ftdla::opt {

/// Maximin Latin hypercube in [0,1)^d (McKay, Beckman & Conover, Technometrics 1979): each dimension is
/// cut into n equal strata and every stratum holds exactly one point (uniformly placed inside it).
/// Of `tries` independent designs the one with the largest minimum pairwise distance is returned
/// (Morris & Mitchell 1995). n = 0 gives an empty design; d >= 1, tries >= 1. Deterministic for the rng state.
std::vector<std::vector<double>> latin_hypercube(size_t n, size_t d, Rng& rng, size_t tries = 20);

}  // namespace ftdla::opt
