#include "ftdla/core/decision.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <utility>

#include "ftdla/core/error.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/core/stats.hpp"

namespace ftdla {
namespace {

TEST(EstimateMean, ClusterRobustMatchesHandComputation) {
  // Three images, 4 trials each; correct 4, 2, 0; references 1, 1, 0.
  // d = (0, -2, 0), N = 12, D = -2/12; residuals e_i = d_i - 4 D = (2/3, -4/3, 2/3);
  // CR1 = 3/2 * (4/9 + 16/9 + 4/9) / 144 = 3/2 * (24/9) / 144 = 1/36.
  ImageTally t{{4, 4, 4}, {4, 2, 0}, {1, 1, 0}};
  const MeanEstimate m = estimate_mean(t);
  EXPECT_DOUBLE_EQ(m.mean, -2.0 / 12.0);
  EXPECT_EQ(m.n, 12);
  EXPECT_EQ(m.clusters, 3);
  EXPECT_NEAR(m.se, std::sqrt(1.0 / 36.0), 1e-12);
}

TEST(EstimateMean, AbsoluteWithOneTrialPerImageIsTheBinomialError) {
  // One trial per image, no reference: CR1 = n/(n-1) * p(1-p)/n; 60 of 100 correct.
  ImageTally t;
  for (int i = 0; i < 100; ++i) {
    t.trials.push_back(1);
    t.correct.push_back(i < 60);
  }
  const MeanEstimate m = estimate_mean(t);
  EXPECT_DOUBLE_EQ(m.mean, 0.6);
  EXPECT_NEAR(m.se, std::sqrt(100.0 / 99.0 * 0.24 / 100.0), 1e-12);
}

TEST(EstimateMean, AgreeingSampleKeepsAFloor) {
  // Every trial agrees with its reference: the cluster-robust error is 0, the floor is not.
  ImageTally t{{10, 10}, {10, 0}, {1, 0}};
  const MeanEstimate m = estimate_mean(t);
  EXPECT_DOUBLE_EQ(m.mean, 0.0);
  const double rate = 2.0 / 24.0;
  EXPECT_NEAR(m.se, std::sqrt(rate * (1 - rate) / 20.0), 1e-12);
}

TEST(EstimateMean, SkewnessNeverNarrowsABound) {
  // 250 trials that agree with the reference except two lucky ones (faulty correct where golden was
  // wrong): strongly right-skewed residuals. The lower bound must not move up from the normal one.
  ImageTally t;
  for (int i = 0; i < 250; ++i) {
    t.trials.push_back(1);
    t.reference.push_back(i >= 2);
    t.correct.push_back(1);
  }
  const MeanEstimate m = estimate_mean(t);
  EXPECT_GT(m.skew, 5.0);
  const double z = 2.4;
  EXPECT_DOUBLE_EQ(m.lower_at(z), m.mean - z * m.se);
  EXPECT_GT(m.upper_at(z), m.mean + z * m.se);  // widened on the heavy side
}

TEST(SequentialTest, LooksDoubleUpToTheCap) {
  SequentialTest s{0.05, 250, 8000};
  EXPECT_EQ(s.looks(), 6);  // 250 500 1000 2000 4000 8000
  EXPECT_EQ(s.look_size(0), 250);
  EXPECT_EQ(s.look_size(5), 8000);
  SequentialTest t{0.05, 300, 1000};
  EXPECT_EQ(t.looks(), 3);  // 300 600 1000
  EXPECT_EQ(t.look_size(2), 1000);
  EXPECT_NEAR(s.z(), normal_inverse_cdf(1 - 0.05 / 6), 1e-12);
  SequentialTest one{0.05, 2000, 2000};
  EXPECT_EQ(one.looks(), 1);
  EXPECT_NEAR(one.z(), 1.644854, 1e-5);
}

TEST(SequentialTest, RejectsNonsense) {
  EXPECT_THROW((SequentialTest{0.0, 1, 1}.validate()), ConfigError);
  EXPECT_THROW((SequentialTest{0.6, 1, 1}.validate()), ConfigError);
  EXPECT_THROW((SequentialTest{0.05, 0, 1}.validate()), ConfigError);
  EXPECT_THROW((SequentialTest{0.05, 100, 99}.validate()), ConfigError);
}

// Monte Carlo check of the whole procedure: images drawn from a population (so image sampling varies
// between runs), heterogeneous per-image fault survival, paired against each image's golden result,
// looks at 250..8000 trials over 5000 images (one trial per image until they run out). The truth is 1 point above, at, and 1 point below the
// threshold; wrong calls must stay within the risk.
struct Population {
  // Golden-correct images: 70% always survive faults, 30% survive with probability u ~ U(0.2, 1).
  // Golden-wrong images: correct under faults with probability 0.03.
  double golden = 0.9;
  double delta() const {  // E[q - b]
    const double q_right = 0.7 * 1.0 + 0.3 * 0.6;
    return golden * q_right + (1 - golden) * 0.03 - golden;
  }
};

struct Calls {
  int satisfied = 0, violated = 0, undecided = 0;
  int64_t trials = 0;
};

Calls simulate(double offset, int runs, uint64_t seed) {
  const Population pop;
  const double threshold = pop.delta() - offset;  // truth = threshold + offset
  const SequentialTest test{0.05, 250, 8000};
  const int images = 5000;
  Calls c;
  for (int run = 0; run < runs; ++run) {
    Rng rng = Rng::derive(seed, static_cast<uint64_t>(run));
    std::vector<double> q(images);
    ImageTally t;
    t.trials.assign(images, 0);
    t.correct.assign(images, 0);
    t.reference.assign(images, 0);
    for (int i = 0; i < images; ++i) {
      const bool right = rng.uniform() < pop.golden;
      t.reference[i] = right;
      q[i] = right ? (rng.uniform() < 0.7 ? 1.0 : 0.2 + 0.8 * rng.uniform()) : 0.03;
    }
    int64_t done = 0;
    Verdict v = Verdict::Undecided;
    for (int j = 0; j < test.looks(); ++j) {
      for (; done < test.look_size(j); ++done) {
        const int64_t i = done % images;
        ++t.trials[i];
        t.correct[i] += rng.uniform() < q[i];
      }
      v = test.judge(estimate_mean(t), threshold);
      if (v != Verdict::Undecided) break;
    }
    c.trials += done;
    (v == Verdict::Satisfied ? c.satisfied : v == Verdict::Violated ? c.violated : c.undecided)++;
  }
  return c;
}

TEST(SequentialTest, WrongFeasibleCallsStayWithinTheRisk) {
  const int runs = 2000;
  const Calls above = simulate(+0.01, runs, 11), at = simulate(0.0, runs, 12), below = simulate(-0.01, runs, 13);
  for (const auto& [name, c] : {std::pair{"truth 1 point above", above}, {"truth at the threshold", at}, {"truth 1 point below", below}})
    std::printf("%-24s satisfied %4d  violated %4d  undecided %4d  of %d; mean trials %lld\n", name, c.satisfied, c.violated,
                c.undecided, runs, static_cast<long long>(c.trials / runs));
  // At the threshold "satisfied" is a wrong call too (the constraint is not met with margin).
  EXPECT_LE(at.satisfied, 0.05 * runs) << at.satisfied;
  EXPECT_LE(below.satisfied, 0.05 * runs) << below.satisfied;
  EXPECT_LE(above.violated, 0.05 * runs) << above.violated;
  // And the test has power: one point away from the threshold it decides correctly most of the time.
  EXPECT_GE(above.satisfied, runs / 2) << above.satisfied;
  EXPECT_GE(below.violated, runs / 2) << below.violated;
  // Adaptive: decided designs stop early, so the mean is well under the cap.
  EXPECT_LT(above.trials / runs, 8000);
}

}  // namespace
}  // namespace ftdla
