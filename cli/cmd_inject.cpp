// SPDX-License-Identifier: MIT
// `ftdla inject`: a fault-injection campaign on the bit-exact accelerator model.
#include <cstdio>

#include "commands.hpp"
#include "common.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/stats.hpp"
#include "ftdla/fault/checkpoint.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::cli {

void add_inject(CLI::App& root) {
  auto* app = root.add_subcommand("inject", "fault-injection campaign: SDC rate and accuracy under faults");
  struct Args {
    ModelArgs model;
    AccelArgs accel;
    MemoryArgs memory;
    std::string site = "neuron";
    double ber = -1;
    int64_t faults = 0;
    std::string permanent;
    int pes = 1;
    int64_t trials = 0;
    int64_t images = 100;
    uint64_t seed = 1;
    double margin = 0, confidence = 0.95;
    std::string json;
    bool resume = false;
  };
  auto a = std::make_shared<Args>();
  a->model.add_to(*app);
  a->accel.add_to(*app);
  a->memory.add_to(*app);
  app->add_option("--site", a->site, "neuron | acc | weight | input");
  auto* ber = app->add_option("--ber", a->ber, "bit error rate per exposed register bit per inference")->default_str("");
  auto* faults = app->add_option("--faults", a->faults, "exact number of transient faults per inference")->check(kNonNegative)->default_str("");
  auto* perm = app->add_option("--permanent", a->permanent, "stuck0 | stuck1: permanent faults in random PEs");
  app->add_option("--pes", a->pes, "faulty PEs per trial with --permanent")->check(kNonNegative)->needs(perm);
  auto* trials = app->add_option("--trials", a->trials, "faulty inferences (trials)")->check(kNonNegative)->default_str("");
  auto* margin = app->add_option("--margin", a->margin, "pick --trials by statistical fault injection for this error margin")->default_str("");
  app->add_option("--confidence", a->confidence, "confidence level for --margin")->needs(margin);
  app->add_option("--images", a->images, "test images (trial t uses image t mod images)")->check(kNonNegative);
  app->add_option("--seed", a->seed, "random seed")->check(kNonNegative);
  app->add_option("--json", a->json, "result file (written atomically, also during the run); - for stdout (final result only, text on stderr)");
  app->add_flag("--resume", a->resume, "continue the campaign saved in --json");
  app->footer("Example: ftdla inject models/lenet5.onnx --site neuron --ber 1e-4 --trials 2000 --images 200 --json inject.json\n");
  app->callback([a, ber, faults, perm, trials, margin] {
    const int64_t max_memory = a->memory.bytes();
    if (a->json == "-" && a->resume) throw ConfigError("--resume: needs --json FILE holding the campaign (not -)");
    check_output_file(a->json, "--json");
    fault::CampaignSpec spec;
    spec.site = fault::parse_site(a->site);
    if (ber->count() > 0) {
      spec.mode = fault::FaultMode::Ber;
      spec.ber = a->ber;
    } else if (faults->count() > 0) {
      spec.mode = fault::FaultMode::Count;
      spec.faults = a->faults;
    } else if (perm->count() > 0) {
      if (a->permanent != "stuck0" && a->permanent != "stuck1")
        throw ConfigError("--permanent: expected stuck0 or stuck1 (got '" + a->permanent + "')");
      spec.mode = fault::FaultMode::Permanent;
      spec.stuck_value = a->permanent == "stuck1";
      spec.pes = a->pes;
    } else {
      throw ConfigError("inject: choose a fault model: --ber X, --faults N or --permanent stuck0|stuck1");
    }
    spec.images = a->images;
    spec.seed = a->seed;
    if (trials->count() == 0 && margin->count() == 0) throw ConfigError("inject: give --trials T or --margin E");
    spec.trials = trials->count() > 0 ? a->trials : 1;
    spec.validate();
    if (margin->count() > 0) (void)leveugle_sample_size(0, a->margin, a->confidence);  // validates early
    if (a->json == "-") json_to_stdout();
    const auto setup = load_for_injection(a->model, a->accel, a->images, max_memory);
    const fault::Injector& inj = *setup->injector;
    const fault::GoldenSet& golden = *setup->golden;
    if (spec.images > golden.size()) spec.images = golden.size();
    if (margin->count() > 0) {
      // Trials draw their faults with replacement: the infinite-population form (no finite-population
      // correction, which is only for sampling without replacement).
      spec.trials = static_cast<int64_t>(leveugle_sample_size(0, a->margin, a->confidence));
    }
    const fault::Campaign camp(inj, golden, spec);
    fault::CheckpointOptions co;
    co.path = a->json == "-" ? "" : a->json;  // stdout gets the final result only
    co.resume = a->resume;
    co.config = to_json(a->model);
    co.config["model_fnv1a64"] = model_fingerprint(a->model);
    co.config["accel"] = to_json(a->accel);
    co.config["site"] = a->site;
    co.config["fault_model"] = spec.mode == fault::FaultMode::Ber ? "ber" : spec.mode == fault::FaultMode::Count ? "count" : "permanent";
    if (spec.mode == fault::FaultMode::Ber) co.config["ber"] = spec.ber;
    if (spec.mode == fault::FaultMode::Count) co.config["faults"] = spec.faults;
    if (spec.mode == fault::FaultMode::Permanent) {
      co.config["permanent"] = a->permanent;
      co.config["pes"] = spec.pes;
    }
    co.config["trials"] = spec.trials;
    co.config["images"] = spec.images;
    co.config["seed"] = spec.seed;
    if (margin->count() > 0) {
      co.config["margin"] = a->margin;
      co.config["confidence"] = a->confidence;
    }
    co.config["exposed_bits_per_inference"] = camp.sampler().exposed_bits();
    co.stop = &install_stop_handler();
    Progress bar("inject");
    co.progress = [&bar](int64_t d, int64_t t) { bar(d, t); };
    fault::CheckpointedResult r = fault::run_checkpointed(camp, co);
    bar.finish();
    // What the run used, added to the final file (checkpoints written during the run do not have it).
    // Every rank gets here: job_peak_rss_mb() is a collective.
    auto& j = r.json;
    add_run_info(j, job_peak_rss_mb());
    add_memory_info(j, max_memory, golden.stored(), golden.bytes());
    if (!a->json.empty()) write_json(a->json, fault::with_checksum(j));
    std::printf("%s site=%s: %lld injections, SDC %.5f [%.5f, %.5f], masked %.4f, accuracy golden %.4f faulty %.4f, "
                "%.0f injections/s\n",
                a->model.model.c_str(), a->site.c_str(), static_cast<long long>(r.counts.trials), j["sdc_rate"].get<double>(),
                j["sdc_ci95"][0].get<double>(), j["sdc_ci95"][1].get<double>(), j["masked_rate"].get<double>(),
                j["golden_accuracy"].get<double>(), j["faulty_accuracy"].get<double>(), j["trials_per_second"].get<double>());
    if (!r.completed) {
      if (dist::is_root())
        std::fprintf(stderr, "ftdla: interrupted after %lld of %lld trials%s\n", static_cast<long long>(r.counts.trials),
                     static_cast<long long>(spec.trials),
                     a->json.empty() || a->json == "-" ? "" : ("; saved to " + a->json + ", continue with --resume").c_str());
      throw Interrupted();
    }
  });
}

}  // namespace ftdla::cli
