// SPDX-License-Identifier: MIT
#include "ftdla/vuln/characterize.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"

namespace ftdla::vuln {

using fault::FaultSet;
using fault::Site;
using fault::TransientFault;

void CharacterizeOptions::validate() const {
  if (samples < 0) throw ConfigError("--trials: must be >= 0 (got " + std::to_string(samples) + ")");
  if (samples == 0) {
    (void)leveugle_sample_size(0, margin, confidence);  // throws ConfigError for a bad margin / confidence
  }
  if (images < 1) throw ConfigError("--images: must be >= 1 (got " + std::to_string(images) + ")");
  if (neurons < 0) throw ConfigError("--neurons: must be >= 0 (got " + std::to_string(neurons) + ")");
}

namespace {

/// Faults are drawn with replacement (independently per injection), so Leveugle's finite-population
/// correction, which is for sampling without replacement, does not apply: the infinite-population form.
int64_t stratum_size(const CharacterizeOptions& opt) {
  if (opt.samples > 0) return opt.samples;
  return static_cast<int64_t>(leveugle_sample_size(0, opt.margin, opt.confidence));
}

}  // namespace

std::vector<Stratum> plan_strata(const fault::Injector& inj, const CharacterizeOptions& opt) {
  opt.validate();
  const fault::FaultSampler sampler(inj.engine().qgraph(), inj.mapping(), opt.site);
  const int bits = sampler.bits();
  std::vector<Stratum> s;
  Rng pick = Rng::derive(opt.seed, 0x6e6575726f6e73ULL);  // "neurons"
  for (size_t pos = 0; pos < inj.mapping().layers.size(); ++pos) {
    for (int b = 0; b < bits; ++b)
      s.push_back({Stratum::Kind::Bit, pos, b, stratum_size(opt)});
    if (opt.site != Site::Neuron) continue;
    const auto& d = inj.mapping().layers[pos].dims;
    const int64_t channels = d.groups * d.n;
    for (int64_t c = 0; c < channels; ++c)
      s.push_back({Stratum::Kind::Channel, pos, c, stratum_size(opt)});
    const int64_t neurons = channels * d.m;
    for (int64_t i = 0; i < std::min(opt.neurons, neurons); ++i) {
      const int64_t n = static_cast<int64_t>(pick.below(static_cast<uint64_t>(neurons)));
      s.push_back({Stratum::Kind::Neuron, pos, n, stratum_size(opt)});
    }
  }
  return s;
}

std::vector<int64_t> run_strata(const fault::Injector& inj, const fault::GoldenSet& golden, const CharacterizeOptions& opt,
                                const std::vector<Stratum>& strata, size_t begin, size_t end,
                                const std::atomic<bool>* stop) {
  const fault::FaultSampler sampler(inj.engine().qgraph(), inj.mapping(), opt.site);
  const int64_t images = std::min<int64_t>(opt.images, golden.size());
  std::vector<int64_t> sdc;
  auto rng_of = [&](size_t si, int64_t t) { return Rng::derive(opt.seed ^ mix64(si + 1), static_cast<uint64_t>(t)); };
  // Strata are run in blocks whose trials are grouped by image across the whole block: one expanded golden
  // trace (a full inference's worth of accumulators) then serves many strata instead of about one trial.
  constexpr int64_t kBlockTrials = 16384;
  for (size_t bi = begin; bi < end;) {
    // Under MPI every rank must stop at the same block (the counts are summed over ranks below).
    if (dist::any(stop && stop->load())) break;
    size_t bj = bi;
    int64_t block_trials = 0;
    struct Item {
      int64_t image, trial;
      uint32_t stratum;  // offset in the block
    };
    std::vector<Item> order;
    while (bj < end && (bj == bi || block_trials < kBlockTrials)) {
      // Each MPI rank runs a contiguous share of every stratum's trials; trial t depends only on
      // (seed, si, t), so the summed count is the one-process count.
      const auto [t_begin, t_end] = dist::shard(0, strata[bj].samples);
      for (int64_t t = t_begin; t < t_end; ++t) {
        Rng rng = rng_of(bj, t);
        order.push_back({static_cast<int64_t>(rng.below(static_cast<uint64_t>(images))), t, static_cast<uint32_t>(bj - bi)});
      }
      block_trials += strata[bj].samples;
      ++bj;
    }
    std::sort(order.begin(), order.end(), [](const Item& a, const Item& b) {
      return a.image != b.image ? a.image < b.image : a.stratum != b.stratum ? a.stratum < b.stratum : a.trial < b.trial;
    });
    std::vector<size_t> group_start;
    for (size_t i = 0; i < order.size(); ++i)
      if (i == 0 || order[i].image != order[i - 1].image) group_start.push_back(i);
    group_start.push_back(order.size());
    const int64_t groups = static_cast<int64_t>(group_start.size()) - 1;
    const size_t width = bj - bi;
    std::vector<int64_t> counts(width, 0);
#pragma omp parallel
    {
      engine::Trace trace;
      std::vector<int64_t> local(width, 0);
#pragma omp for schedule(dynamic, 1)
      for (int64_t gi = 0; gi < groups; ++gi) {
        const int64_t img = order[group_start[gi]].image;
        golden.expand(img, trace);
        for (size_t oi = group_start[gi]; oi < group_start[gi + 1]; ++oi) {
          const size_t si = bi + order[oi].stratum;
          const Stratum& st = strata[si];
          Rng rng = rng_of(si, order[oi].trial);
          (void)rng.below(static_cast<uint64_t>(images));  // the image draw (same stream as above)
          FaultSet f;
          TransientFault tf;
          switch (st.kind) {
            case Stratum::Kind::Bit: tf = sampler.sample_in_layer(rng, st.pos, static_cast<int>(st.index)); break;
            case Stratum::Kind::Channel: tf = sampler.sample_in_channel(rng, st.pos, st.index); break;
            case Stratum::Kind::Neuron: {
              const auto& d = inj.mapping().layers[st.pos].dims;
              tf = sampler.sample_in_channel(rng, st.pos, st.index / d.m);
              tf.m = st.index % d.m;
              break;
            }
          }
          f.transients.push_back(tf);
          const fault::InjectionResult r = inj.run(trace, f);
          local[order[oi].stratum] += r.top1 != golden.top1[img];
        }
      }
#pragma omp critical
      for (size_t k = 0; k < width; ++k) counts[k] += local[k];
    }
    sdc.insert(sdc.end(), counts.begin(), counts.end());
    bi = bj;
  }
  dist::allreduce_sum(sdc.data(), sdc.size());
  return sdc;
}

VulnReport assemble(const fault::Injector& inj, const CharacterizeOptions& opt, const std::vector<Stratum>& strata,
                    const std::vector<int64_t>& sdc) {
  FTDLA_ASSERT(sdc.size() == strata.size());
  const fault::FaultSampler sampler(inj.engine().qgraph(), inj.mapping(), opt.site);
  const int bits = sampler.bits();
  VulnReport rep;
  const auto& mp = inj.mapping();
  rep.layers.resize(mp.layers.size());
  std::vector<int64_t> lay_sdc(mp.layers.size(), 0), lay_n(mp.layers.size(), 0);
  for (size_t pos = 0; pos < mp.layers.size(); ++pos) {
    LayerVuln& L = rep.layers[pos];
    L.layer = mp.layers[pos].layer;
    L.name = mp.layers[pos].name;
    L.neurons = sampler.layer_values()[pos];
    L.bvf.resize(static_cast<size_t>(bits));
  }
  for (size_t i = 0; i < strata.size(); ++i) {
    const Stratum& st = strata[i];
    LayerVuln& L = rep.layers[st.pos];
    const RateEstimate e = wilson(static_cast<uint64_t>(sdc[i]), static_cast<uint64_t>(st.samples));
    rep.injections += st.samples;
    switch (st.kind) {
      case Stratum::Kind::Bit:
        L.bvf[static_cast<size_t>(st.index)] = e;
        lay_sdc[st.pos] += sdc[i];
        lay_n[st.pos] += st.samples;
        break;
      case Stratum::Kind::Channel: {
        L.channels.push_back(e);
        const double m = static_cast<double>(mp.layers[st.pos].dims.m);
        rep.ranking.push_back({L.layer, L.name, st.index, e, e.rate * m / static_cast<double>(sampler.total_values())});
        break;
      }
      case Stratum::Kind::Neuron: {
        const auto& d = mp.layers[st.pos].dims;
        L.sampled_neurons.push_back({st.index / d.m, st.index % d.m, e});
        break;
      }
    }
  }
  // Overall: stratified mean over layers weighted by population; interval from the Kish effective
  // sample size n_eff = p(1-p)/Var(p_hat) plugged into Wilson.
  double total_pop = 0.0, p = 0.0, var = 0.0;
  for (size_t pos = 0; pos < rep.layers.size(); ++pos) total_pop += static_cast<double>(rep.layers[pos].neurons);
  for (size_t pos = 0; pos < rep.layers.size(); ++pos) {
    LayerVuln& L = rep.layers[pos];
    L.vf = wilson(static_cast<uint64_t>(lay_sdc[pos]), static_cast<uint64_t>(lay_n[pos]));
    const double w = static_cast<double>(L.neurons) / total_pop;
    const double pl = L.vf.rate, nl = static_cast<double>(std::max<int64_t>(1, lay_n[pos]));
    p += w * pl;
    var += w * w * std::max(pl * (1 - pl), 0.25 / nl) / nl;  // floor avoids a zero variance at p = 0 or 1
  }
  const double n_eff = std::max(1.0, p * (1 - p) > 0 ? p * (1 - p) / var : static_cast<double>(rep.injections));
  const uint64_t n_int = static_cast<uint64_t>(std::llround(n_eff));
  rep.overall = wilson(static_cast<uint64_t>(std::llround(p * static_cast<double>(n_int))), n_int);
  rep.overall.rate = p;
  rep.ranking_by_share = rep.ranking;
  std::stable_sort(rep.ranking.begin(), rep.ranking.end(),
                   [](const ChannelVf& a, const ChannelVf& b) { return a.vf.rate > b.vf.rate; });
  std::stable_sort(rep.ranking_by_share.begin(), rep.ranking_by_share.end(),
                   [](const ChannelVf& a, const ChannelVf& b) { return a.sdc_share > b.sdc_share; });
  return rep;
}

VulnReport characterize(const fault::Injector& inj, const fault::GoldenSet& golden, const CharacterizeOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto strata = plan_strata(inj, opt);
  const auto sdc = run_strata(inj, golden, opt, strata, 0, strata.size());
  VulnReport r = assemble(inj, opt, strata, sdc);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

namespace {
nlohmann::json rate_json(const RateEstimate& e) {
  return {{"rate", e.rate}, {"ci95", {e.lo, e.hi}}, {"sdc", e.successes}, {"injections", e.trials}};
}
}  // namespace

nlohmann::json to_json(const VulnReport& r, int bits) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& L : r.layers) {
    nlohmann::json bvf = nlohmann::json::array(), ch = nlohmann::json::array(), nv = nlohmann::json::array();
    for (const auto& e : L.bvf) bvf.push_back(rate_json(e));
    for (size_t c = 0; c < L.channels.size(); ++c) {
      auto j = rate_json(L.channels[c]);
      j["channel"] = c;
      ch.push_back(j);
    }
    for (const auto& n : L.sampled_neurons) {
      auto j = rate_json(n.vf);
      j["channel"] = n.channel;
      j["pixel"] = n.pixel;
      nv.push_back(j);
    }
    layers.push_back({{"name", L.name}, {"neurons", L.neurons}, {"vf", L.vf.rate}, {"vf_ci95", {L.vf.lo, L.vf.hi}},
                      {"bvf", bvf}, {"channels", ch}, {"sampled_neurons", nv}});
  }
  nlohmann::json ranking = nlohmann::json::array();
  for (const auto& c : r.ranking)
    ranking.push_back({{"layer", c.name}, {"channel", c.channel}, {"vf", c.vf.rate}, {"ci95", {c.vf.lo, c.vf.hi}},
                       {"sdc_share", c.sdc_share}});
  return {{"bits", bits}, {"layers", layers}, {"channel_ranking", ranking}, {"overall_vf", r.overall.rate},
          {"overall_vf_ci95", {r.overall.lo, r.overall.hi}}, {"injections", r.injections}, {"seconds", r.seconds}};
}

namespace {
std::vector<ChannelVf> head(const std::vector<ChannelVf>& v, double fraction) {
  const size_t n = std::min(v.size(), std::max<size_t>(1, static_cast<size_t>(std::ceil(fraction * static_cast<double>(v.size())))));
  return {v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n)};
}
}  // namespace

std::vector<ChannelVf> top_channels(const VulnReport& r, double fraction) { return head(r.ranking, fraction); }
std::vector<ChannelVf> top_channels_by_share(const VulnReport& r, double fraction) {
  return head(r.ranking_by_share, fraction);
}

}  // namespace ftdla::vuln

namespace ftdla::vuln {

PremiseResult premise(const fault::Injector& base, const fault::GoldenSet& golden, const VulnReport& r, double fraction,
                      int64_t trials, int64_t images, uint64_t seed) {
  PremiseResult p;
  p.fraction = fraction;
  const auto top = top_channels(r, fraction);
  p.channels = static_cast<int64_t>(top.size());
  const auto& q = base.engine().qgraph();
  auto shield_of = [&](const std::vector<ChannelVf>& set) {
    fault::Shield s;
    s.protected_channels.assign(q.layers.size(), {});
    for (const auto& lm : base.mapping().layers)
      s.protected_channels[lm.layer].assign(static_cast<size_t>(lm.dims.groups * lm.dims.n), 0);
    for (const auto& c : set) s.protected_channels[c.layer][static_cast<size_t>(c.channel)] = 1;
    return s;
  };
  // A random set of the same size: a seeded shuffle of the ranking.
  std::vector<ChannelVf> all = r.ranking;
  Rng rng = Rng::derive(seed, 0x72616e646f6dULL);  // "random"
  for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng.below(i)]);
  all.resize(top.size());
  fault::CampaignSpec spec;
  spec.site = fault::Site::Neuron;
  spec.mode = fault::FaultMode::Count;
  spec.faults = 1;
  spec.trials = trials;
  spec.images = images;
  spec.seed = seed;
  auto rate = [&](const fault::Shield& s) {
    const fault::Injector inj(base.engine(), base.mapping(), s);
    const auto c = fault::Campaign(inj, golden, spec).run(0, trials);
    return wilson(static_cast<uint64_t>(c.sdc), static_cast<uint64_t>(c.trials));
  };
  p.unprotected = rate(fault::Shield{});
  p.top = rate(shield_of(top));
  p.top_share = rate(shield_of(top_channels_by_share(r, fraction)));
  p.random = rate(shield_of(all));
  return p;
}

nlohmann::json to_json(const PremiseResult& p) {
  auto e = [](const RateEstimate& r) { return nlohmann::json{{"sdc_rate", r.rate}, {"sdc_ci95", {r.lo, r.hi}}}; };
  return {{"fraction", p.fraction}, {"channels", p.channels}, {"unprotected", e(p.unprotected)},
          {"top_protected", e(p.top)}, {"top_share_protected", e(p.top_share)}, {"random_protected", e(p.random)}};
}

double overlap(const std::vector<ChannelVf>& a, const std::vector<ChannelVf>& b) {
  if (a.empty()) return 0.0;
  int64_t common = 0;
  for (const auto& x : a)
    for (const auto& y : b)
      if (x.layer == y.layer && x.channel == y.channel) {
        ++common;
        break;
      }
  return static_cast<double>(common) / static_cast<double>(a.size());
}

}  // namespace ftdla::vuln
