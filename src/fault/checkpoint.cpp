// SPDX-License-Identifier: MIT
#include "ftdla/fault/checkpoint.hpp"

#include <omp.h>

#include <chrono>
#include <climits>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/hash.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/stats.hpp"

namespace ftdla::fault {

nlohmann::json to_json(const CampaignCounts& c) {
  return {{"trials", c.trials}, {"sdc", c.sdc}, {"masked", c.masked}, {"faulty_correct", c.faulty_correct},
          {"golden_correct", c.golden_correct}, {"faults", c.faults}};
}

CampaignCounts counts_from_json(const nlohmann::json& j, const std::string& where) {
  // Integral JSON numbers only: nlohmann's get<int64_t> would truncate 3.7 to 3 and convert 1e300 with
  // undefined behaviour (UBSan in fuzz/checkpoint_fuzz.cpp reports it).
  auto count = [&](const char* key) {
    const nlohmann::json& v = j.at(key);
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}))
      throw ImportError(where + ": malformed counts (" + key + " is not an integer: " + json_excerpt(v) + ")");
    return v.get<int64_t>();
  };
  CampaignCounts c;
  try {
    c.trials = count("trials");
    c.sdc = count("sdc");
    c.masked = count("masked");
    c.faulty_correct = count("faulty_correct");
    c.golden_correct = count("golden_correct");
    c.faults = count("faults");
  } catch (const nlohmann::json::exception& e) {
    throw ImportError(where + ": malformed counts (" + excerpt(e.what(), 160) + ")");
  }
  return c;
}

void validate_counts(const CampaignCounts& c, int64_t max_trials, const std::string& where) {
  auto bad = [&](const std::string& what) { throw ImportError(where + ": corrupt saved counts (" + what + ")"); };
  auto ge0 = [&](const char* name, int64_t v) {
    if (v < 0) bad(std::string(name) + " = " + std::to_string(v) + " is negative");
  };
  ge0("trials", c.trials);
  ge0("sdc", c.sdc);
  ge0("masked", c.masked);
  ge0("faulty_correct", c.faulty_correct);
  ge0("golden_correct", c.golden_correct);
  ge0("faults", c.faults);
  if (c.trials > max_trials)
    bad("trials = " + std::to_string(c.trials) + " exceeds the " + std::to_string(max_trials) + " requested");
  // sdc (top-1 changed) implies the output changed, so it never overlaps masked.
  if (c.sdc > c.trials - c.masked)
    bad("sdc + masked = " + std::to_string(c.sdc) + " + " + std::to_string(c.masked) + " exceeds trials = " + std::to_string(c.trials));
  if (c.faulty_correct > c.trials)
    bad("faulty_correct = " + std::to_string(c.faulty_correct) + " exceeds trials = " + std::to_string(c.trials));
  if (c.golden_correct > c.trials)
    bad("golden_correct = " + std::to_string(c.golden_correct) + " exceeds trials = " + std::to_string(c.trials));
}

namespace {
uint64_t payload_checksum(nlohmann::json j) {
  j.erase("checksum");
  return fnv1a64(j.dump());
}
}  // namespace

nlohmann::json with_checksum(nlohmann::json j) {
  j["checksum"] = "fnv1a64:" + hex64(payload_checksum(j));
  return j;
}

nlohmann::json read_checksummed(const std::string& path) {
  const nlohmann::json saved = parse_json(dist::read_file_from_root(path), path + ": cannot resume, not a ftdla result file");
  if (!saved.is_object()) throw ImportError(path + ": cannot resume, not a ftdla result file (not a JSON object)");
  const auto it = saved.find("checksum");
  if (it == saved.end() || !it->is_string())
    throw ImportError(path + ": cannot resume, the file has no checksum (not written by this version of ftdla)");
  if (it->get<std::string>() != "fnv1a64:" + hex64(payload_checksum(saved)))
    throw ImportError(path + ": cannot resume, checksum mismatch (the file was truncated or edited)");
  return saved;
}

nlohmann::json summarize(const CampaignCounts& c, double seconds) {
  const RateEstimate sdc = wilson(static_cast<uint64_t>(c.sdc), static_cast<uint64_t>(c.trials));
  const RateEstimate fa = wilson(static_cast<uint64_t>(c.faulty_correct), static_cast<uint64_t>(c.trials));
  const RateEstimate ga = wilson(static_cast<uint64_t>(c.golden_correct), static_cast<uint64_t>(c.trials));
  const RateEstimate ms = wilson(static_cast<uint64_t>(c.masked), static_cast<uint64_t>(c.trials));
  const double n = c.trials ? static_cast<double>(c.trials) : 1.0;
  return {{"injections", c.trials},
          {"faults_injected", c.faults},
          {"faults_per_injection", static_cast<double>(c.faults) / n},
          {"sdc", c.sdc},
          {"sdc_rate", sdc.rate},
          {"sdc_ci95", {sdc.lo, sdc.hi}},
          {"masked", c.masked},
          {"masked_rate", ms.rate},
          {"masked_ci95", {ms.lo, ms.hi}},
          {"golden_accuracy", ga.rate},
          {"golden_accuracy_ci95", {ga.lo, ga.hi}},
          {"faulty_accuracy", fa.rate},
          {"faulty_accuracy_ci95", {fa.lo, fa.hi}},
          {"seconds", seconds},
          {"trials_per_second", seconds > 0 ? static_cast<double>(c.trials) / seconds : 0.0}};
}

ResumeState resume_state(const nlohmann::json& saved, const nlohmann::json& config, int64_t max_trials,
                         const std::string& path) {
  if (!saved.is_object()) throw ImportError(path + ": cannot resume, not a ftdla result file (not a JSON object)");
  if (!saved.contains("config") || saved["config"] != config) {
    std::string diff;
    if (saved.contains("config") && saved["config"].is_object() && config.is_object())
      for (auto& [k, v] : config.items())
        if (!saved["config"].contains(k) || saved["config"][k] != v) { diff = k; break; }
    throw ConfigError(path + ": resume file was made with a different configuration" +
                      (diff.empty() ? std::string() : " (" + diff + " differs)") + "; not overwriting it");
  }
  if (!saved.contains("counts")) throw ImportError(path + ": cannot resume, no saved counts");
  ResumeState r;
  r.counts = counts_from_json(saved["counts"], path);
  // A checksum can be recomputed after an edit: the counts must also be ones a campaign can produce.
  validate_counts(r.counts, max_trials, path);
  const auto secs = saved.find("compute_seconds");
  if (secs != saved.end() && !(secs->is_number() && secs->get<double>() >= 0.0))
    throw ImportError(path + ": cannot resume, compute_seconds is not a number >= 0");
  r.seconds = secs != saved.end() ? secs->get<double>() : 0.0;
  return r;
}

CheckpointedResult run_checkpointed(const Campaign& camp, const CheckpointOptions& opt) {
  CheckpointedResult res;
  const int64_t total = camp.spec().trials;
  double prior_seconds = 0.0;
  if (opt.resume) {
    if (opt.path.empty()) throw ConfigError("--resume: needs --json FILE holding the campaign to continue");
    const ResumeState r = resume_state(read_checksummed(opt.path), opt.config, total, opt.path);
    res.counts = r.counts;
    prior_seconds = r.seconds;
  }
  auto write = [&](double secs) {
    res.seconds = secs;
    res.completed = res.counts.trials >= total;
    res.json = opt.config;
    res.json["config"] = opt.config;
    res.json["counts"] = to_json(res.counts);
    res.json["completed"] = res.completed;
    res.json["trials_requested"] = total;
    res.json["compute_seconds"] = secs;
    res.json.update(summarize(res.counts, secs));
    // How the run was parallelized; outside "config", so a run may resume with other counts.
    res.json["ranks"] = dist::size();
    res.json["threads"] = omp_get_max_threads();
    res.json = with_checksum(std::move(res.json));
    if (!opt.path.empty() && dist::is_root()) write_file_atomic(opt.path, res.json.dump(2) + "\n");
  };
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
  // Blocks sized to take about checkpoint_seconds, adapted to the measured throughput.
  // Under MPI (core/dist.hpp) every rank runs the same blocks (the campaign shards each block's trials),
  // so the stop decision is collective, taken between blocks only (a block cut short on one rank would
  // not be a prefix of the trials), and the root's block size is everyone's.
  const bool multi = dist::size() > 1;
  int64_t block = 256;
  while (res.counts.trials < total) {
    if (dist::any(opt.stop && opt.stop->load())) break;
    const int64_t lo = res.counts.trials, hi = std::min(total, lo + block);
    const double b0 = elapsed();
    const CampaignCounts c = camp.run(lo, hi, multi ? nullptr : opt.stop, [&](int64_t d, int64_t) {
      if (opt.progress) opt.progress(lo + d, total);
    });
    res.counts.add(c);
    write(prior_seconds + elapsed());
    const double took = elapsed() - b0;
    if (took > 0 && c.trials == hi - lo)
      block = std::clamp<int64_t>(static_cast<int64_t>(static_cast<double>(block) * opt.checkpoint_seconds / took), 64, 1 << 20);
    dist::broadcast(block);
  }
  write(prior_seconds + elapsed());
  return res;
}

}  // namespace ftdla::fault
