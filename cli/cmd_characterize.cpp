// SPDX-License-Identifier: MIT
// `ftdla characterize`: neuron / channel / layer / bit vulnerability factors with confidence intervals.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "commands.hpp"
#include "common.hpp"
#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/resources.hpp"
#include "ftdla/fault/checkpoint.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"
#include "ftdla/report/report.hpp"
#include "ftdla/vuln/characterize.hpp"

namespace ftdla::cli {

namespace {

void write_csvs(const std::string& dir, const vuln::VulnReport& r) {
  ::mkdir(dir.c_str(), 0755);
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw ConfigError("--csv: cannot create directory '" + dir + "'");
  std::string bvf = "layer,bit,bvf,ci_lo,ci_hi,sdc,injections\n", ch = "rank,layer,channel,vf,ci_lo,ci_hi,sdc,injections\n",
              lay = "layer,neurons,vf,ci_lo,ci_hi\n";
  char buf[256];
  for (const auto& L : r.layers) {
    for (size_t b = 0; b < L.bvf.size(); ++b) {
      const auto& e = L.bvf[b];
      std::snprintf(buf, sizeof buf, "%s,%zu,%.6g,%.6g,%.6g,%llu,%llu\n", L.name.c_str(), b, e.rate, e.lo, e.hi,
                    static_cast<unsigned long long>(e.successes), static_cast<unsigned long long>(e.trials));
      bvf += buf;
    }
    std::snprintf(buf, sizeof buf, "%s,%lld,%.6g,%.6g,%.6g\n", L.name.c_str(), static_cast<long long>(L.neurons), L.vf.rate,
                  L.vf.lo, L.vf.hi);
    lay += buf;
  }
  for (size_t i = 0; i < r.ranking.size(); ++i) {
    const auto& c = r.ranking[i];
    std::snprintf(buf, sizeof buf, "%zu,%s,%lld,%.6g,%.6g,%.6g,%llu,%llu\n", i + 1, c.name.c_str(),
                  static_cast<long long>(c.channel), c.vf.rate, c.vf.lo, c.vf.hi,
                  static_cast<unsigned long long>(c.vf.successes), static_cast<unsigned long long>(c.vf.trials));
    ch += buf;
  }
  write_file_atomic(dir + "/bvf.csv", bvf);
  write_file_atomic(dir + "/channels.csv", ch);
  write_file_atomic(dir + "/layers.csv", lay);
}

}  // namespace

void add_characterize(CLI::App& root) {
  auto* app = root.add_subcommand("characterize", "vulnerability factors per layer, bit, channel and sampled neuron");
  struct Args {
    ModelArgs model;
    AccelArgs accel;
    MemoryArgs memory;
    vuln::CharacterizeOptions opt;
    std::string site = "neuron";
    std::string json, csv, report;
    bool resume = false;
    int64_t premise_trials = 0;
    uint64_t stability_seed = 0;
  };
  auto a = std::make_shared<Args>();
  a->model.add_to(*app);
  a->accel.add_to(*app);
  a->memory.add_to(*app);
  app->add_option("--site", a->site, "neuron | acc | weight | input");
  auto* samples = app->add_option("--trials", a->opt.samples, "faulty inferences (one injection each) per stratum")->check(kNonNegative)->default_str("");
  auto* samples_alias = add_deprecated(*app, "--samples", samples, a->opt.samples)->check(kNonNegative);
  auto* margin = app->add_option("--margin", a->opt.margin, "target error margin per stratum (Leveugle sample size)")->default_str("");
  samples->excludes(margin);
  app->add_option("--confidence", a->opt.confidence, "confidence for --margin")->needs(margin);
  app->add_option("--neurons", a->opt.neurons, "neurons sampled per layer for NVF")->check(kNonNegative);
  app->add_option("--images", a->opt.images, "test images")->check(kNonNegative);
  app->add_option("--seed", a->opt.seed, "random seed")->check(kNonNegative);
  app->add_option("--json", a->json, "result file (written atomically, also during the run); - for stdout (final result only, text on stderr)");
  app->add_option("--csv", a->csv, "directory for bvf.csv, channels.csv, layers.csv");
  app->add_option("--report", a->report, "also write an HTML report of the result here (as `ftdla report`)");
  app->add_flag("--resume", a->resume, "continue the characterization saved in --json");
  app->add_option("--premise", a->premise_trials,
                  "also measure SDC with the top 10% channels masked vs a random 10% (this many injections each; 0 = no)")
      ->check(kNonNegative);
  app->add_option("--stability-seed", a->stability_seed,
                  "also re-rank channels with this second seed and report the top-10% overlap (0 = no)")
      ->check(kNonNegative);
  app->footer("Example: ftdla characterize models/lenet5.onnx --trials 200 --images 100 --json vuln.json --csv vuln/\n");
  app->callback([a, samples, samples_alias, margin] {
    const bool have_samples = samples->count() + samples_alias->count() > 0;
    if (samples_alias->count() > 0 && margin->count() > 0) throw ConfigError("--samples excludes --margin");
    if (!have_samples && margin->count() == 0) throw ConfigError("characterize: give --trials N or --margin E");
    const int64_t max_memory = a->memory.bytes();
    if (have_samples && a->opt.samples < 1) throw ConfigError("--trials: must be >= 1 (got " + std::to_string(a->opt.samples) + ")");
    a->opt.site = fault::parse_site(a->site);
    a->opt.validate();
    if (a->resume && (a->json.empty() || a->json == "-")) throw ConfigError("--resume: needs --json FILE");
    check_output_file(a->json, "--json");
    check_output_dir(a->csv, "--csv");
    if (a->json == "-") json_to_stdout();
    const auto setup = load_for_injection(a->model, a->accel, a->opt.images, max_memory);
    const fault::Injector& inj = *setup->injector;
    const fault::GoldenSet& golden = *setup->golden;
    a->opt.images = golden.size();
    const auto strata = vuln::plan_strata(inj, a->opt);

    nlohmann::json config = to_json(a->model);
    config["model_fnv1a64"] = model_fingerprint(a->model);
    config["accel"] = to_json(a->accel);
    config["site"] = a->site;
    config["samples"] = a->opt.samples;
    config["margin"] = a->opt.margin;
    config["confidence"] = a->opt.confidence;
    config["neurons"] = a->opt.neurons;
    config["images"] = a->opt.images;
    config["seed"] = a->opt.seed;
    std::vector<int64_t> sdc;
    double prior = 0.0;
    if (a->resume) {
      const nlohmann::json saved = fault::read_checksummed(a->json);
      if (saved.value("config", nlohmann::json()) != config)
        throw ConfigError(a->json + ": resume file was made with a different configuration; not overwriting it");
      try {
        sdc = saved.at("strata_sdc").get<std::vector<int64_t>>();
        prior = saved.value("compute_seconds", 0.0);
      } catch (const nlohmann::json::exception& ex) {
        throw ImportError(a->json + ": cannot resume, malformed strata_sdc or compute_seconds");
      }
      // A checksum can be recomputed after an edit: each saved count must fit its stratum.
      if (sdc.size() > strata.size())
        throw ImportError(a->json + ": cannot resume, " + std::to_string(sdc.size()) + " saved strata but the plan has " +
                          std::to_string(strata.size()));
      for (size_t i = 0; i < sdc.size(); ++i)
        if (sdc[i] < 0 || sdc[i] > strata[i].samples)
          throw ImportError(a->json + ": cannot resume, strata_sdc[" + std::to_string(i) + "] = " + std::to_string(sdc[i]) +
                            " is outside [0, " + std::to_string(strata[i].samples) + "]");
      if (!(prior >= 0.0)) throw ImportError(a->json + ": cannot resume, compute_seconds is negative");
    }
    const std::atomic<bool>& stop = install_stop_handler();
    Progress bar("characterize");
    int64_t total_inj = 0, done_inj = 0;
    for (size_t i = 0; i < strata.size(); ++i) {
      total_inj += strata[i].samples;
      if (i < sdc.size()) done_inj += strata[i].samples;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto secs = [&] { return prior + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    // `last_save`: every rank makes this call (the stop decision is collective), so the peak RSS can be
    // the job's; the periodic saves are made on each rank's own clock and report this process's.
    auto save = [&](bool done, const nlohmann::json* report, bool last_save) {
      nlohmann::json j = config;
      j["config"] = config;
      j["strata_sdc"] = sdc;
      j["strata_total"] = strata.size();
      j["completed"] = done;
      j["compute_seconds"] = secs();
      add_run_info(j, last_save ? job_peak_rss_mb() : peak_rss_mb());
      add_memory_info(j, max_memory, golden.stored(), golden.bytes());
      if (report) j.update(*report);
      j = fault::with_checksum(std::move(j));
      // stdout gets the final result only.
      if (!a->json.empty() && (a->json != "-" || done)) write_json(a->json, j);
      return j;
    };
    auto last = std::chrono::steady_clock::now();
    // run_strata checks `stop` before each stratum, collectively under MPI: every rank stops at the same one.
    while (sdc.size() < strata.size()) {
      const size_t i = sdc.size();
      const auto c = vuln::run_strata(inj, golden, a->opt, strata, i, i + 1, &stop);
      if (c.empty()) break;
      sdc.push_back(c[0]);
      done_inj += strata[i].samples;
      bar(done_inj, total_inj);
      if (std::chrono::steady_clock::now() - last > std::chrono::seconds(2)) {
        save(false, nullptr, false);
        last = std::chrono::steady_clock::now();
      }
    }
    bar.finish();
    if (sdc.size() < strata.size()) {
      save(false, nullptr, true);
      if (dist::is_root())
        std::fprintf(stderr, "ftdla: interrupted after %zu of %zu strata%s\n", sdc.size(), strata.size(),
                     a->json.empty() || a->json == "-" ? "" : ("; saved to " + a->json + ", continue with --resume").c_str());
      throw Interrupted();
    }
    vuln::VulnReport r = vuln::assemble(inj, a->opt, strata, sdc);
    r.seconds = secs();
    const int bits = inj.register_bits(a->opt.site);
    nlohmann::json report = vuln::to_json(r, bits);
    if (a->premise_trials > 0) {
      const vuln::PremiseResult p = vuln::premise(inj, golden, r, 0.1, a->premise_trials, a->opt.images, a->opt.seed + 1);
      report["premise"] = vuln::to_json(p);
      std::printf("premise (%lld channels masked): unprotected SDC %.5f [%.5f, %.5f]; top-10%% by VF %.5f [%.5f, %.5f]; "
                  "top-10%% by SDC share %.5f [%.5f, %.5f]; random-10%% %.5f [%.5f, %.5f]\n",
                  static_cast<long long>(p.channels), p.unprotected.rate, p.unprotected.lo, p.unprotected.hi, p.top.rate,
                  p.top.lo, p.top.hi, p.top_share.rate, p.top_share.lo, p.top_share.hi, p.random.rate, p.random.lo,
                  p.random.hi);
    }
    if (a->stability_seed != 0) {
      vuln::CharacterizeOptions o2 = a->opt;
      o2.seed = a->stability_seed;
      const vuln::VulnReport r2 = vuln::characterize(inj, golden, o2);
      const double ov = vuln::overlap(vuln::top_channels(r, 0.1), vuln::top_channels(r2, 0.1));
      report["top10_overlap"] = {{"seed", a->stability_seed}, {"overlap", ov}};
      std::printf("top-10%% channel overlap with seed %llu: %.3f\n", static_cast<unsigned long long>(a->stability_seed), ov);
    }
    {
      // Spread of channel VFs: max / median.
      std::vector<double> v;
      for (const auto& c : r.ranking) v.push_back(c.vf.rate);
      if (!v.empty()) {
        std::sort(v.begin(), v.end());
        const double med = v[v.size() / 2];
        report["channel_vf_max"] = v.back();
        report["channel_vf_median"] = med;
        std::printf("channel VF max %.5f, median %.5f\n", v.back(), med);
      }
    }
    const nlohmann::json result = save(true, &report, true);
    if (!a->csv.empty() && dist::is_root()) write_csvs(a->csv, r);
    if (!a->report.empty() && dist::is_root())
      ftdla::report::write_report(a->report, {{a->json.empty() ? std::string("characterize run") : a->json, result}});
    std::printf("%s site=%s: %lld injections in %.1f s, overall VF %.5f [%.5f, %.5f]\n", a->model.model.c_str(),
                a->site.c_str(), static_cast<long long>(r.injections), r.seconds, r.overall.rate, r.overall.lo, r.overall.hi);
    std::printf("%-28s %10s %9s  BVF per bit (LSB..MSB)\n", "layer", "neurons", "VF");
    for (const auto& L : r.layers) {
      std::printf("%-28s %10lld %9.5f ", L.name.c_str(), static_cast<long long>(L.neurons), L.vf.rate);
      for (const auto& b : L.bvf) std::printf(" %.4f", b.rate);
      std::printf("\n");
    }
    if (!r.ranking.empty()) {
      std::printf("top channels:");
      for (size_t i = 0; i < std::min<size_t>(10, r.ranking.size()); ++i)
        std::printf(" %s[%lld]=%.4f", r.ranking[i].name.c_str(), static_cast<long long>(r.ranking[i].channel), r.ranking[i].vf.rate);
      std::printf("\n");
    }
  });
}

}  // namespace ftdla::cli
