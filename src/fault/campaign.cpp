// SPDX-License-Identifier: MIT
#include "ftdla/fault/campaign.hpp"

#include <omp.h>

#include <sstream>

#include "ftdla/core/error.hpp"

namespace ftdla::fault {

void CampaignSpec::validate() const {
  auto bad = [](const std::string& key, const std::string& what) { throw ConfigError(key + ": " + what); };
  if (mode == FaultMode::Ber && !(ber >= 0.0 && ber <= 1.0)) {
    std::ostringstream os;
    os << "must be in [0, 1] (got " << ber << ")";
    bad("--ber", os.str());
  }
  if (mode == FaultMode::Count && faults < 1) bad("--faults", "must be >= 1 (got " + std::to_string(faults) + ")");
  if (mode == FaultMode::Permanent && pes < 1) bad("--pes", "must be >= 1 (got " + std::to_string(pes) + ")");
  if (trials < 1) bad("--trials", "must be >= 1 (got " + std::to_string(trials) + ")");
  if (images < 1) bad("--images", "must be >= 1 (got " + std::to_string(images) + ")");
}

std::string CampaignSpec::fingerprint() const {
  std::ostringstream os;
  os.precision(17);
  os << "site=" << site_name(site) << ";mode=" << static_cast<int>(mode) << ";ber=" << ber << ";faults=" << faults
     << ";stuck=" << stuck_value << ";pes=" << pes << ";images=" << images << ";seed=" << seed;
  return os.str();
}

void CampaignCounts::add(const CampaignCounts& o) {
  trials += o.trials;
  sdc += o.sdc;
  masked += o.masked;
  faulty_correct += o.faulty_correct;
  golden_correct += o.golden_correct;
  faults += o.faults;
}

GoldenSet::GoldenSet(const engine::IntegerEngine& e, const data::Dataset& ds, int64_t images) {
  const int64_t n = std::min(images, ds.count());
  if (n < 1) throw ValidationError("golden set: the dataset has no images");
  traces.resize(static_cast<size_t>(n));
  top1.resize(static_cast<size_t>(n));
  labels.assign(ds.labels.begin(), ds.labels.begin() + n);
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < n; ++i) {
    e.run(ds.image(i), traces[i]);
    top1[i] = e.predict(traces[i]);
  }
}

Campaign::Campaign(const Injector& injector, const GoldenSet& golden, CampaignSpec spec)
    : inj_(injector), golden_(golden), spec_(spec),
      sampler_(injector.engine().qgraph(), injector.mapping(), spec.site) {
  spec_.validate();
  if (spec_.images > golden.size())
    throw ValidationError("--images: " + std::to_string(spec_.images) + " requested but only " +
                          std::to_string(golden.size()) + " golden runs are available");
}

FaultSet Campaign::faults_of(int64_t t) const {
  Rng rng = Rng::derive(spec_.seed, static_cast<uint64_t>(t));
  FaultSet f;
  switch (spec_.mode) {
    case FaultMode::Ber: {
      const int64_t n = draw_fault_count(rng, sampler_.exposed_bits(), spec_.ber);
      for (int64_t i = 0; i < n; ++i) f.transients.push_back(sampler_.sample(rng));
      break;
    }
    case FaultMode::Count:
      for (int64_t i = 0; i < spec_.faults; ++i) f.transients.push_back(sampler_.sample(rng));
      break;
    case FaultMode::Permanent:
      for (int i = 0; i < spec_.pes; ++i) f.permanents.push_back(sampler_.sample_permanent(rng, spec_.stuck_value));
      break;
  }
  return f;
}

CampaignCounts Campaign::run(int64_t begin, int64_t end, const std::atomic<bool>* stop,
                             const std::function<void(int64_t, int64_t)>& progress) const {
  CampaignCounts total;
  // Chunks keep the stop/progress granularity fine while every chunk is a contiguous range of trials.
  const int64_t chunk = std::max<int64_t>(64, std::min<int64_t>(4096, (end - begin) / 50 + 1));
  for (int64_t lo = begin; lo < end; lo += chunk) {
    if (stop && stop->load()) break;
    const int64_t hi = std::min(end, lo + chunk);
    int64_t sdc = 0, masked = 0, fc = 0, gc = 0, nf = 0;
#pragma omp parallel for schedule(dynamic, 8) reduction(+ : sdc, masked, fc, gc, nf)
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t img = t % spec_.images;
      const FaultSet f = faults_of(t);
      const InjectionResult r = inj_.run(golden_.traces[img], f);
      nf += static_cast<int64_t>(f.transients.size() + f.permanents.size());
      sdc += r.top1 != golden_.top1[img];
      masked += !r.output_changed;
      fc += r.top1 == golden_.labels[img];
      gc += golden_.top1[img] == golden_.labels[img];
    }
    total.add({hi - lo, sdc, masked, fc, gc, nf});
    if (progress) progress(hi - begin, end - begin);
  }
  return total;
}

}  // namespace ftdla::fault
