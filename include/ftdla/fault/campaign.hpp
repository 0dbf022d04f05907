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

#include "ftdla/core/decision.hpp"
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

/// Default bound on the memory the golden cache may take (--max-memory).
constexpr int64_t kDefaultMaxMemory = int64_t{4} << 30;

/// Golden runs of the first `images` test images, computed once. Registers are stored in their own width
/// (one byte per value when the register has <= 8 bits, else int32); accumulators are not stored but
/// recomputed by expand(). If storing every image would take more than half of `max_memory_bytes`,
/// nothing is stored and expand() re-runs the image: memory stays bounded for any number of images.
class GoldenSet {
 public:
  /// `engine` and `ds` must outlive the set.
  GoldenSet(const engine::IntegerEngine& e, const data::Dataset& ds, int64_t images,
            int64_t max_memory_bytes = kDefaultMaxMemory);
  int64_t size() const { return static_cast<int64_t>(top1.size()); }
  std::vector<int> labels;
  std::vector<int> top1;
  /// Image i's golden registers (every value and every compute layer's accumulators) into t.
  void expand(int64_t i, engine::Trace& t) const;
  engine::Trace trace(int64_t i) const {
    engine::Trace t;
    expand(i, t);
    return t;
  }
  /// Image i's input register values (all a full faulty re-run needs).
  void input(int64_t i, std::vector<int32_t>& out) const;
  /// Image i's golden registers of value id v.
  void value(int64_t i, int v, std::vector<int32_t>& out) const;
  /// True when the registers are stored (else recomputed on demand).
  bool stored() const { return !store_.empty(); }
  /// Bytes of stored registers.
  int64_t bytes() const { return static_cast<int64_t>(store_.size()); }
  /// Bytes one image's registers take when stored.
  int64_t bytes_per_image() const { return record_; }
  const engine::IntegerEngine& engine() const { return e_; }

 private:
  struct Slot {
    int64_t offset = -1, count = 0;
    bool byte = true;  ///< one byte per element (value + off), else 4
    int32_t off = 0;   ///< 128 for a signed register, 0 for an unsigned one
  };
  void encode(const engine::Trace& t, uint8_t* rec) const;
  void decode_value(const uint8_t* rec, int v, std::vector<int32_t>& out) const;
  const engine::IntegerEngine& e_;
  const data::Dataset& ds_;
  std::vector<Slot> slots_;  ///< per value id
  int64_t record_ = 0;
  std::vector<uint8_t> store_;
  int64_t out_count_ = 0;
  std::vector<int32_t> outputs_;  ///< every image's output registers, stored or not
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
  /// Under MPI (core/dist.hpp) each rank runs a contiguous share of every chunk and the counts are summed:
  /// the result is the one-process result, and every rank must call run() with the same arguments.
  /// Trials are grouped by image so that one expanded golden trace serves all trials on that image;
  /// trials with many faults take the dense path (Injector::run decides).
  /// If `per_image` is given, its trials / correct (resized to spec().images if needed) also receive
  /// the trials and faulty-correct counts of each image, for interval estimates over images.
  CampaignCounts run(int64_t begin, int64_t end, const std::atomic<bool>* stop = nullptr,
                     const std::function<void(int64_t, int64_t)>& progress = {}, ImageTally* per_image = nullptr) const;

 private:
  const Injector& inj_;
  const GoldenSet& golden_;
  CampaignSpec spec_;
  FaultSampler sampler_;
};

}  // namespace ftdla::fault
