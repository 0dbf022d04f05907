// SPDX-License-Identifier: MIT
// Fault-injection campaigns: golden runs cached per image, trials evaluated in parallel by the fast
// injector, deterministic for a seed whatever the thread count (trial t draws everything from
// Rng::derive(seed, t) and uses image t mod images; counts are order-independent sums).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ftdla/core/stats.hpp"
#include "ftdla/data/dataset.hpp"
#include "ftdla/fault/injector.hpp"
#include "ftdla/fault/sampler.hpp"

namespace ftdla::fault {

enum class FaultMode { Ber, Count, Permanent };

struct CampaignSpec {
  Site site = Site::Neuron;
  FaultMode mode = FaultMode::Count;
  double ber = 0.0;        ///< Ber mode: probability per exposed register bit per inference, in [0, 1]
  int64_t faults = 1;      ///< Count mode: faults per inference, >= 1
  bool stuck_value = false;///< Permanent mode: stuck-at-0 or stuck-at-1
  int pes = 1;             ///< Permanent mode: faulty PEs per trial (one random bit each), >= 1
  int64_t trials = 1000;   ///< inferences with faults, >= 1
  int64_t images = 100;    ///< test images used (trial t uses image t mod images), >= 1
  uint64_t seed = 1;
  /// Throws ConfigError naming the option.
  void validate() const;
  /// Stable text identifying everything that determines the results (for resume checks and caching).
  std::string fingerprint() const;
};

/// Integer counters of a campaign prefix (trials [0, trials)).
struct CampaignCounts {
  int64_t trials = 0;
  int64_t sdc = 0;             ///< faulty top-1 != golden top-1
  int64_t masked = 0;          ///< no output register changed
  int64_t faulty_correct = 0;  ///< faulty top-1 == label
  int64_t golden_correct = 0;  ///< golden top-1 == label (same images, per trial)
  int64_t faults = 0;          ///< faults injected
  void add(const CampaignCounts& o);
};

/// Golden traces of the first `images` images, computed once.
struct GoldenSet {
  std::vector<engine::Trace> traces;
  std::vector<int> labels;
  std::vector<int> top1;
  GoldenSet(const engine::IntegerEngine& e, const data::Dataset& ds, int64_t images);
  int64_t size() const { return static_cast<int64_t>(traces.size()); }
};

class Campaign {
 public:
  /// Validates the spec; golden and injector must outlive the campaign.
  Campaign(const Injector& injector, const GoldenSet& golden, CampaignSpec spec);
  const CampaignSpec& spec() const { return spec_; }
  const FaultSampler& sampler() const { return sampler_; }
  /// The faults of trial t (deterministic).
  FaultSet faults_of(int64_t t) const;
  /// Run trials [begin, end) in parallel; stops early (at a chunk boundary, returning only whole
  /// trials from `begin` on) if *stop becomes true. progress(done, total) is called from one thread.
  CampaignCounts run(int64_t begin, int64_t end, const std::atomic<bool>* stop = nullptr,
                     const std::function<void(int64_t, int64_t)>& progress = {}) const;

 private:
  const Injector& inj_;
  const GoldenSet& golden_;
  CampaignSpec spec_;
  FaultSampler sampler_;
};

}  // namespace ftdla::fault
