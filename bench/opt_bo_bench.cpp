// SPDX-License-Identifier: MIT
// opt/ micro and macro benchmarks: GP fit and batch prediction for n = 50..500 observations, and the
// CPU time of one BO iteration (3 GPs, 2,000-point lattice). Inputs are synthetic and deterministic.
#include <benchmark/benchmark.h>

#include <ctime>
#include <cmath>
#include <vector>

#include "ftdla/core/rng.hpp"
#include "ftdla/opt/gaussian_process.hpp"
#include "ftdla/opt/search.hpp"

namespace ftdla::opt {
namespace {

constexpr size_t kDim = 4;

// n points in [0,1]^4 with a smooth response.
void synthetic_data(size_t n, std::vector<std::vector<double>>& xs, std::vector<double>& ys) {
  Rng rng(12345);
  xs.assign(n, std::vector<double>(kDim));
  ys.clear();
  for (auto& x : xs) {
    for (double& v : x) v = rng.uniform();
    ys.push_back(std::sin(3 * x[0]) + x[1] * x[2] + 0.3 * x[3]);
  }
}

void BM_GpFit(benchmark::State& state) {
  std::vector<std::vector<double>> xs;
  std::vector<double> ys;
  synthetic_data(static_cast<size_t>(state.range(0)), xs, ys);
  uint64_t seed = 0;
  for (auto _ : state) {
    GaussianProcess gp(kDim);
    gp.set_data(xs, ys);
    benchmark::DoNotOptimize(gp.fit(seed++));
  }
}
BENCHMARK(BM_GpFit)->Arg(50)->Arg(100)->Arg(200)->Arg(500)->Unit(benchmark::kMillisecond);

void BM_GpPredict2000(benchmark::State& state) {
  std::vector<std::vector<double>> xs, qs;
  std::vector<double> ys;
  synthetic_data(static_cast<size_t>(state.range(0)), xs, ys);
  GaussianProcess gp(kDim);
  gp.set_data(xs, ys);
  gp.fit(1);
  Rng rng(7);
  Eigen::MatrixXd z(static_cast<Eigen::Index>(kDim), 2000);
  for (Eigen::Index j = 0; j < z.cols(); ++j)
    for (Eigen::Index i = 0; i < z.rows(); ++i) z(i, j) = rng.uniform();
  Eigen::VectorXd mean, var;
  for (auto _ : state) {
    gp.predict(z, mean, var);
    benchmark::DoNotOptimize(mean.data());
  }
  state.SetItemsProcessed(state.iterations() * z.cols());
}
BENCHMARK(BM_GpPredict2000)->Arg(50)->Arg(200)->Arg(500)->Unit(benchmark::kMicrosecond);

// Objective + 2 constraints, all modelled by GPs, on a 10 x 10 x 5 x 4 = 2,000-point lattice.
class LatticeProblem : public Problem {
 public:
  const Space& space() const override { return space_; }
  size_t num_constraints() const override { return 2; }
  Outcome evaluate(const std::vector<double>& x) override {
    const double u = x[0] / 9, v = x[1] / 9, w = x[2] / 4, z = std::log2(x[3]) / 5;
    return Outcome{std::sin(3 * u) + v * w + z, {0.5 - u * v - 0.3 * z, std::cos(4 * w) - 0.9 + 0.1 * u}};
  }

 private:
  Space space_{{Knob::integer("a", 0, 9), Knob::integer("b", 0, 9), Knob::integer("c", 0, 4),
                Knob::categorical("w", {4, 8, 16, 32})}};
};

// CPU seconds per model step (fit 3 GPs + score all unevaluated lattice points), averaged over the
// 10 steps after `n` initial observations (2 of them full refits with the default refit_every = 5).
// CPU time (std::clock; opt/ is single-threaded) keeps the number stable on a loaded machine.
void BM_BoIteration(benchmark::State& state) {
  constexpr size_t kSteps = 10;
  const size_t n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    LatticeProblem p;
    SearchOptions o;
    o.budget = n + kSteps;
    o.initial = n;
    std::clock_t start = 0;
    double total = 0.0;
    bayes_optimize(p, o, [&](const Trial& t, const SearchResult&) {
      if (t.index + 1 == n) start = std::clock();
      if (t.index + 1 == n + kSteps) total = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
    });
    state.SetIterationTime(total / kSteps);
  }
}
BENCHMARK(BM_BoIteration)->Arg(50)->Arg(100)->Arg(200)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ftdla::opt

BENCHMARK_MAIN();
