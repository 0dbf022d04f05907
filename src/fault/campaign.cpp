// SPDX-License-Identifier: MIT
#include "ftdla/fault/campaign.hpp"

#include <omp.h>

#include <cstring>
#include <sstream>

#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/quant/calibrate.hpp"

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

GoldenSet::GoldenSet(const engine::IntegerEngine& e, const data::Dataset& ds, int64_t images, int64_t max_memory_bytes)
    : e_(e), ds_(ds) {
  const int64_t n = std::min(images, ds.count());
  if (n < 1) throw ValidationError("golden set: the dataset has no images");
  quant::check_labels(e.qgraph().graph, ds);
  if (max_memory_bytes < 1) throw ConfigError("--max-memory: must be > 0");
  top1.resize(static_cast<size_t>(n));
  labels.assign(ds.labels.begin(), ds.labels.begin() + n);
  // Layout of one image's record: every value the integer graph writes, in its register's width.
  const quant::QGraph& q = e.qgraph();
  slots_.resize(q.graph.values.size());
  auto place = [&](int v) {
    Slot& sl = slots_[v];
    if (sl.offset >= 0) return;
    const quant::Encoding& enc = q.enc[v];
    sl.count = numel(q.graph.values[v].shape);
    sl.byte = enc.bits <= 8;
    sl.off = enc.is_signed ? 128 : 0;
    sl.offset = record_;
    record_ += sl.count * (sl.byte ? 1 : 4);
  };
  place(q.input);
  for (const auto& L : q.layers) place(L.output);
  const bool store = record_ * n <= max_memory_bytes / 2;
  if (store) store_.resize(static_cast<size_t>(record_ * n));
  // The output registers are kept in any case (a few values per image): a dense faulty re-run needs only
  // them and the input, so recompute mode costs no golden inference per image there.
  out_count_ = numel(q.graph.values[q.output].shape);
  outputs_.resize(static_cast<size_t>(out_count_ * n));
  const int64_t batch = 64;
#pragma omp parallel
  {
    // Each thread runs its images in the engine's groups (layer by layer through the grouped layers).
    const size_t group = e.images_per_group(omp_get_num_threads());
    std::vector<engine::Trace> traces(group);
    std::vector<const float*> images(group);
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < (n + batch - 1) / batch; ++b)
      for (int64_t first = b * batch; first < std::min(n, (b + 1) * batch); first += static_cast<int64_t>(group)) {
        const size_t count = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(group), std::min(n, (b + 1) * batch) - first));
        for (size_t j = 0; j < count; ++j) images[j] = ds.image(first + static_cast<int64_t>(j));
        e.run_batch(images.data(), traces.data(), count);
        for (size_t j = 0; j < count; ++j) {
          const int64_t i = first + static_cast<int64_t>(j);
          top1[i] = e.predict(traces[j]);
          const auto& out = traces[j].values[q.output];
          std::copy(out.begin(), out.end(), outputs_.begin() + i * out_count_);
          if (store) encode(traces[j], store_.data() + i * record_);
        }
      }
  }
}

void GoldenSet::encode(const engine::Trace& t, uint8_t* rec) const {
  for (size_t v = 0; v < slots_.size(); ++v) {
    const Slot& sl = slots_[v];
    if (sl.offset < 0) continue;
    const std::vector<int32_t>& src = t.values[v];
    FTDLA_ASSERT(static_cast<int64_t>(src.size()) == sl.count);
    uint8_t* dst = rec + sl.offset;
    if (!sl.byte) {
      std::memcpy(dst, src.data(), src.size() * 4);
      continue;
    }
    for (int64_t i = 0; i < sl.count; ++i) {
      const int32_t u = src[i] + sl.off;
      if (u < 0 || u > 255) throw InternalError("golden set: a register value does not fit its width");
      dst[i] = static_cast<uint8_t>(u);
    }
  }
}

void GoldenSet::decode_value(const uint8_t* rec, int v, std::vector<int32_t>& out) const {
  const Slot& sl = slots_[v];
  out.resize(static_cast<size_t>(sl.count));
  const uint8_t* src = rec + sl.offset;
  if (!sl.byte) {
    std::memcpy(out.data(), src, out.size() * 4);
    return;
  }
  for (int64_t i = 0; i < sl.count; ++i) out[i] = static_cast<int32_t>(src[i]) - sl.off;
}

void GoldenSet::expand(int64_t i, engine::Trace& t) const {
  FTDLA_ASSERT(i >= 0 && i < size());
  if (!stored()) {
    e_.run(ds_.image(i), t);
    return;
  }
  const quant::QGraph& q = e_.qgraph();
  const uint8_t* rec = store_.data() + i * record_;
  t.values.resize(q.graph.values.size());
  t.acc.resize(q.layers.size());
  for (size_t v = 0; v < slots_.size(); ++v)
    if (slots_[v].offset >= 0) decode_value(rec, static_cast<int>(v), t.values[v]);
  // Accumulators are not stored: recompute them from the stored inputs of each compute layer.
  for (size_t l = 0; l < q.layers.size(); ++l)
    if (q.layers[l].op == quant::QOp::Compute) e_.accumulate(l, t.values[q.layers[l].inputs[0]], t.acc[l]);
}

void GoldenSet::value(int64_t i, int v, std::vector<int32_t>& out) const {
  FTDLA_ASSERT(i >= 0 && i < size() && slots_[v].offset >= 0);
  if (v == e_.qgraph().output) {
    out.assign(outputs_.begin() + i * out_count_, outputs_.begin() + (i + 1) * out_count_);
    return;
  }
  if (stored()) return decode_value(store_.data() + i * record_, v, out);
  engine::Trace t;
  e_.run(ds_.image(i), t);
  out = t.values[v];
}

void GoldenSet::input(int64_t i, std::vector<int32_t>& out) const {
  FTDLA_ASSERT(i >= 0 && i < size());
  if (stored()) return decode_value(store_.data() + i * record_, e_.qgraph().input, out);
  out = e_.qgraph().quantize_input(ds_.image(i));
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
                             const std::function<void(int64_t, int64_t)>& progress, ImageTally* per_image) const {
  if (begin < 0 || end < begin)
    throw ValidationError("campaign: trial range [" + std::to_string(begin) + ", " + std::to_string(end) + ") is invalid");
  CampaignCounts total;
  const int64_t images = spec_.images;
  std::vector<int64_t> image_correct;  // this chunk's faulty-correct count per image (image ids distinct per r)
  if (per_image) {
    per_image->trials.resize(static_cast<size_t>(images), 0);
    per_image->correct.resize(static_cast<size_t>(images), 0);
    image_correct.assign(static_cast<size_t>(images), 0);
  }
  const int output = inj_.engine().qgraph().output;
  // Chunks keep the stop/progress granularity fine while every chunk is a contiguous range of trials.
  const int64_t chunk = std::max<int64_t>(64, std::min<int64_t>(4096, (end - begin) / 50 + 1));
  for (int64_t lo = begin; lo < end; lo += chunk) {
    if (stop && stop->load()) break;
    const int64_t hi = std::min(end, lo + chunk);
    // Not a structured binding: clang 14 cannot capture one in the OpenMP region below.
    const std::pair<int64_t, int64_t> range = dist::shard(lo, hi);
    const int64_t a = range.first, b = range.second;
    int64_t sdc = 0, masked = 0, fc = 0, gc = 0, nf = 0;
#pragma omp parallel reduction(+ : sdc, masked, fc, gc, nf)
    {
      // Trials are grouped by image (trial t uses image t mod images): one expanded golden trace per group.
      engine::Trace golden;
      std::vector<int32_t> input, gold_out;
#pragma omp for schedule(dynamic, 1)
      for (int64_t r = 0; r < std::min(images, b - a); ++r) {
        const int64_t img = (a + r) % images;
        bool expanded = false, have_io = false;
        for (int64_t t = a + r; t < b; t += images) {
          const FaultSet f = faults_of(t);
          const int64_t n = static_cast<int64_t>(f.transients.size() + f.permanents.size());
          InjectionResult res;
          if (n >= inj_.dense_threshold()) {
            if (!have_io) {
              golden_.input(img, input);
              golden_.value(img, output, gold_out);
              have_io = true;
            }
            res = inj_.run_dense(input, gold_out, f);
          } else {
            if (!expanded) golden_.expand(img, golden);
            expanded = true;
            res = inj_.run(golden, f);
          }
          nf += n;
          sdc += res.top1 != golden_.top1[img];
          masked += !res.output_changed;
          fc += res.top1 == golden_.labels[img];
          if (per_image) image_correct[static_cast<size_t>(img)] += res.top1 == golden_.labels[img];
          gc += golden_.top1[img] == golden_.labels[img];
        }
      }
    }
    int64_t sums[6] = {b - a, sdc, masked, fc, gc, nf};
    dist::allreduce_sum(sums, 6);
    total.add({sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]});
    if (per_image) {
      dist::allreduce_sum(image_correct.data(), image_correct.size());
      for (int64_t t = lo; t < hi; ++t) ++per_image->trials[static_cast<size_t>(t % images)];
      for (size_t i = 0; i < image_correct.size(); ++i) {
        per_image->correct[i] += image_correct[i];
        image_correct[i] = 0;
      }
    }
    if (progress) progress(hi - begin, end - begin);
  }
  return total;
}

}  // namespace ftdla::fault
