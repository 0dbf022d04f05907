// SPDX-License-Identifier: MIT
// Vulnerability factors by stratified statistical fault injection (one single-bit transient fault per
// inference):
//   BVF(l, b)  = P(SDC | flip of bit b of a uniformly chosen output neuron of layer l, uniform input)
//   CVF(l, c)  = P(SDC | flip of a uniform bit of a uniform neuron of output channel c of layer l)
//   NVF(l, n)  = P(SDC | flip of a uniform bit of neuron n), for a sample of neurons per layer
//   VF(l)      = mean over bits of BVF(l, b) (every bit stratum has the same population and sample size)
//   overall    = population-weighted mean of the layer strata (population = neurons x bits)
// Every estimate carries a 95% Wilson interval. Strata sample sizes come from --trials or from the
// Leveugle et al. formula for a target margin in its infinite-population form (faults are drawn with
// replacement, so the finite-population correction does not apply).
#pragma once
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ftdla/core/stats.hpp"
#include "ftdla/fault/campaign.hpp"

namespace ftdla::vuln {

struct CharacterizeOptions {
  fault::Site site = fault::Site::Neuron;  ///< register whose bits are flipped (bit strata use its width)
  int64_t samples = 0;       ///< injections per stratum; 0 = from margin/confidence
  double margin = 0.05;      ///< target half-width per stratum when samples == 0, in (0, 1)
  double confidence = 0.95;  ///< for the Leveugle sample size, in (0, 1)
  int64_t neurons = 8;       ///< neurons sampled per layer for NVF (0 = none); neuron site only
  int64_t images = 100;      ///< test images, >= 1
  uint64_t seed = 1;
  void validate() const;     ///< throws ConfigError naming the option
};

struct ChannelVf {
  size_t layer = 0;  ///< QGraph layer index
  std::string name;  ///< layer name
  int64_t channel = 0;
  RateEstimate vf;
  /// Share of the network's uniform single-flip SDC rate due to this channel: vf x (channel neurons /
  /// all neurons). Ranking by it targets what a uniform fault environment actually hits.
  double sdc_share = 0.0;
};

struct NeuronVf {
  int64_t channel = 0, pixel = 0;
  RateEstimate vf;
};

struct LayerVuln {
  size_t layer = 0;  ///< QGraph layer index
  std::string name;
  int64_t neurons = 0;  ///< output neurons per inference (or exposed values for other sites)
  RateEstimate vf;
  std::vector<RateEstimate> bvf;       ///< per bit, LSB first
  std::vector<RateEstimate> channels;  ///< per output channel (neuron site)
  std::vector<NeuronVf> sampled_neurons;
};

struct VulnReport {
  std::vector<LayerVuln> layers;
  RateEstimate overall;            ///< population-weighted over layers (Kish effective-n Wilson interval)
  std::vector<ChannelVf> ranking;  ///< all channels, highest VF first (ties: layer order, channel)
  std::vector<ChannelVf> ranking_by_share;  ///< all channels, highest sdc_share first
  int64_t injections = 0;
  double seconds = 0.0;
};

/// One stratum: what is flipped and how often.
struct Stratum {
  enum class Kind { Bit, Channel, Neuron } kind = Kind::Bit;
  size_t pos = 0;       ///< compute layer position (Mapping order)
  int64_t index = 0;    ///< bit, channel, or neuron index (oc * M + m)
  int64_t samples = 0;
};

/// Plans the strata for a model; deterministic.
std::vector<Stratum> plan_strata(const fault::Injector& inj, const CharacterizeOptions& opt);

/// SDC counts of strata [begin, end) (trials of stratum s use Rng::derive(seed ^ s, t)); thread-count
/// independent. Stops between blocks of strata when *stop is set; returns counts for the strata it finished.
/// Under MPI (core/dist.hpp) each rank runs a share of every stratum and the counts are summed: a
/// collective call, identical on every rank and to one process; the stop decision is collective too.
std::vector<int64_t> run_strata(const fault::Injector& inj, const fault::GoldenSet& golden, const CharacterizeOptions& opt,
                                const std::vector<Stratum>& strata, size_t begin, size_t end,
                                const std::atomic<bool>* stop = nullptr);

/// Assemble the report from per-stratum SDC counts.
VulnReport assemble(const fault::Injector& inj, const CharacterizeOptions& opt, const std::vector<Stratum>& strata,
                    const std::vector<int64_t>& sdc);

/// Everything in one call (used by tests and the optimizer).
VulnReport characterize(const fault::Injector& inj, const fault::GoldenSet& golden, const CharacterizeOptions& opt);

nlohmann::json to_json(const VulnReport& r, int bits);

/// Channels with the highest VF covering `fraction` of all channels (rounded up, at least one).
std::vector<ChannelVf> top_channels(const VulnReport& r, double fraction);
/// Same, ranked by sdc_share.
std::vector<ChannelVf> top_channels_by_share(const VulnReport& r, double fraction);

}  // namespace ftdla::vuln

namespace ftdla::vuln {

/// The premise of selective protection: SDC rate of a uniform single-flip campaign when the faults in the
/// top `fraction` of channels by VF are masked, vs a random set of the same number of channels, vs none.
/// Same campaign (seed, trials, images) for all three.
struct PremiseResult {
  double fraction = 0.1;
  int64_t channels = 0;
  RateEstimate unprotected, top, top_share, random;  ///< top: by VF; top_share: by sdc_share
};

PremiseResult premise(const fault::Injector& base, const fault::GoldenSet& golden, const VulnReport& r, double fraction,
                      int64_t trials, int64_t images, uint64_t seed);

nlohmann::json to_json(const PremiseResult& p);

/// Overlap |A ∩ B| / |A| of two channel sets of equal size (stability of the top set across seeds).
double overlap(const std::vector<ChannelVf>& a, const std::vector<ChannelVf>& b);

}  // namespace ftdla::vuln
