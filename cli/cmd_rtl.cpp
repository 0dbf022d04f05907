// SPDX-License-Identifier: MIT
// `ftdla rtl`: write synthesizable Verilog for the PE of a design point (widths, hardened live bits, range
// corrector) and the TMR lane of its hybrid unit, or for one PE given by its widths.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "output.hpp"
#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "common.hpp"
#include "ftdla/cost/rtl.hpp"
#include "ftdla/cost/synth_cost.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "ftdla/protect/design.hpp"
#include "ftdla/protect/plan.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::cli {

void add_rtl(CLI::App& root) {
  auto* app = root.add_subcommand(
      "rtl", "write Verilog for one weight-stationary PE (MAC, registers, TMR voter on the top H output bits)");
  struct Args {
    accel::PeConfig pe;
    std::string module = "ftdla_pe";
    std::string out;
    bool synth_top = false;
    std::string design, model;
    std::string data = data::kDefaultDataDir;
    bool synthesize = false;
    std::string json;
    int k = 0;
    std::string corrector = "fixed";
  };
  auto a = std::make_shared<Args>();
  app->add_option("--wbits", a->pe.wbits, "weight register bits W, in [2, 16]");
  app->add_option("--abits", a->pe.abits, "activation / output register bits A, in [2, 16]");
  app->add_option("--accbits", a->pe.accbits, "accumulator bits P, in [8, 32]");
  app->add_option("--harden", a->pe.harden_out_bits, "TMR-hardened top bits of the output register H, in [0, A]");
  app->add_option("--harden-acc", a->pe.harden_acc_bits, "TMR-hardened top bits of the accumulator HA, in [0, P]");
  app->add_option("--k", a->k,
                  "range constraint: the output register's live width k in [1, A]; --harden then hardens bits k-h..k-1 "
                  "(0 = A, no constraint)")
      ->capture_default_str();
  app->add_option("--corrector", a->corrector,
                  "with --k < A: range corrector none, fixed (k is wiring) or runtime (k from the keep port)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "fixed", "runtime"}));
  app->add_flag("--signed", a->pe.x_signed, "activations are two's complement (else unsigned)");
  app->add_option("--design", a->design,
                  "design point JSON: emit its PE (W/A/P, hardened live bits k-h..k-1, range corrector) and, when "
                  "lanes >= 1, its TMR lane (ftdla_tmr_lane); --wbits/--abits/--accbits/--harden then override it");
  app->add_option("--model", a->model,
                  "ONNX model the design is for: resolves per-layer k and signedness exactly (needed for k_per_layer)");
  app->add_option("--data", a->data, "dataset for --model's calibration")->capture_default_str();
  app->add_flag("--synthesize", a->synthesize,
                "also synthesize the PE (and TMR lane) to the standard-cell library with Yosys + OpenSTA and print "
                "cells, area, critical path and energy per cycle (switching activity measured on --model's operands)");
  app->add_option("--json", a->json, "with --synthesize: write the synthesis results as JSON");
  app->add_option("--module", a->module, "Verilog module name");
  app->add_flag("--synth-top", a->synth_top, "also emit <module>_synth, a wrapper with the inject ports tied to 0");
  app->add_option("-o,--output", a->out, "output .v file (written atomically); - for stdout")->required();
  app->footer("Example: ftdla rtl --design d.json --model models/lenet5.onnx --synthesize -o pe.v\n"
              "         ftdla rtl --wbits 8 --abits 8 --accbits 32 --harden 2 -o pe.v\n");
  auto* wbits = app->get_option("--wbits");
  auto* abits = app->get_option("--abits");
  auto* accbits = app->get_option("--accbits");
  auto* harden = app->get_option("--harden");
  app->callback([a, wbits, abits, accbits, harden] {
    check_output_file(a->out, "--output");
    if (!a->json.empty()) check_output_file(a->json, "--json");
    protect::DesignPoint d;
    int lanes = 0;
    cost::OperandActivity activity;
    bool have_activity = false;
    if (!a->json.empty() && !a->synthesize) throw ConfigError("rtl: --json needs --synthesize");
    if (a->k != 0 && !a->design.empty()) throw ConfigError("rtl: --k: give k in the --design file instead");
    // A range constraint to k live bits, with the corrector `corrector` (none, fixed, runtime) when k < A.
    const auto constrain = [](accel::PeConfig& pe, int k, const std::string& corrector) {
      pe.live_bits = k;
      if (k < pe.abits && corrector != "none") {
        pe.corrector = true;
        pe.corrector_signed = pe.x_signed;
        pe.fixed_k = corrector == "fixed" ? k : 0;
      }
    };
    if (a->k != 0) {
      if (a->k < 1 || a->k > a->pe.abits)
        throw ConfigError("rtl: --k: must be in [1, " + std::to_string(a->pe.abits) + "] (got " + std::to_string(a->k) + ")");
      constrain(a->pe, a->k, a->corrector);
    }
    const cost::SynthesisTools tools = cost::SynthesisTools::from_environment();
    if (a->synthesize) tools.require_present();  // before any work
    if (!a->design.empty()) {
      d = protect::parse_design(read_json(a->design, "--design"));
      if (d.preset != protect::Preset::None) throw ConfigError("rtl: --design: presets have no single PE variant; give the knobs");
      lanes = d.lanes;
      // Shorthands given on the command line override the design's widths and hardening.
      if (wbits->count()) d.accel.wbits = a->pe.wbits;
      if (abits->count()) d.accel.abits = a->pe.abits;
      if (accbits->count()) d.accel.accbits = a->pe.accbits;
      if (harden->count()) d.harden_bits = a->pe.harden_out_bits;
      d.validate();
      if (!a->model.empty()) {
        // Exact: the plan of this design on this model (which layers are constrained, signed outputs).
        quant::QuantOptions base;
        const model::Graph g = model::load_onnx(a->model);
        const data::Dataset calib = data::load_split(a->data, "train", {0.0f, 1.0f, base.calib_images});
        const quant::QGraph q = quant::quantize(g, calib, protect::to_quant_options(d, base));
        const accel::Mapping mp = accel::map_network(q, protect::to_array_spec(d));
        const accel::PeConfig harden_acc = a->pe;
        a->pe = cost::pe_variant(protect::make_plan(d, q, mp), q);
        a->pe.harden_acc_bits = harden_acc.harden_acc_bits;
        if (a->synthesize) {
          const data::Dataset test = data::load_split(a->data, "test", {0.0f, 1.0f, cost::kOperandActivityImages});
          activity = cost::measure_operand_activity(engine::IntegerEngine(q), mp, test);
          have_activity = true;
        }
      } else {
        if (!d.k_per_layer.empty()) throw ConfigError("rtl: --design with k_per_layer needs --model to place the hardened bits");
        const accel::PeConfig given = a->pe;
        a->pe = accel::PeConfig{};
        a->pe.wbits = d.accel.wbits;
        a->pe.abits = d.accel.abits;
        a->pe.accbits = d.accel.accbits;
        a->pe.x_signed = given.x_signed;
        a->pe.harden_acc_bits = given.harden_acc_bits;
        a->pe.harden_out_bits = d.harden_bits;
        // One global k: every layer's live value is k bits, the corrector's k is wiring.
        if (d.k > 0) constrain(a->pe, d.k, "fixed");
      }
    }
    // Report every bad width at once, named by its command-line option.
    std::string msg;
    for (std::string p : a->pe.validate()) {
      for (const auto& [field, option] : {std::pair{"pe.harden_out_bits", "--harden"}, std::pair{"pe.harden_acc_bits", "--harden-acc"},
                                          std::pair{"pe.wbits", "--wbits"}, std::pair{"pe.abits", "--abits"},
                                          std::pair{"pe.accbits", "--accbits"}}) {
        const std::string f = field;
        if (p.compare(0, f.size(), f) == 0) {
          p = std::string(option) + p.substr(f.size());
          break;
        }
      }
      msg += (msg.empty() ? "" : "; ") + p;
    }
    if (!msg.empty()) throw ConfigError("rtl: " + msg);
    std::string v = cost::generate_pe_verilog(a->pe, a->module);
    if (a->synth_top) v += cost::generate_pe_synth_top(a->pe, a->module, a->module + "_synth");
    if (lanes > 0) {
      const accel::PeConfig lane = cost::unprotected_config(a->pe);
      // The lane shares the PE's MAC module (same widths), already in the file.
      v += cost::generate_tmr_lane_verilog(lane, a->module + "_tmr_lane", false);
    }
    if (a->out == "-") {
      std::fputs(v.c_str(), stdout);
    } else {
      if (dist::is_root()) write_file_atomic(a->out, v);  // one writer under mpirun
      std::string hard;
      for (int b = a->pe.abits - 1; b >= 0; --b)
        if ((a->pe.out_hard_mask() >> b) & 1) hard += (hard.empty() ? "" : ",") + std::to_string(b);
      std::printf("wrote %s: module %s, W%d/A%d/P%d, %s activations, hardened output bits {%s}, %d hardened accumulator bits, "
                  "corrector %s%s\n",
                  a->out.c_str(), a->module.c_str(), a->pe.wbits, a->pe.abits, a->pe.accbits,
                  a->pe.x_signed ? "signed" : "unsigned", hard.c_str(), a->pe.harden_acc_bits,
                  !a->pe.corrector ? "none" : a->pe.fixed_k > 0 ? ("k=" + std::to_string(a->pe.fixed_k)).c_str() : "runtime k",
                  lanes > 0 ? (", TMR lane " + a->module + "_tmr_lane").c_str() : "");
    }
    if (!a->synthesize) return;
    FILE* text = a->out == "-" ? stderr : stdout;  // keep stdout pure Verilog with -o -
    const std::vector<cost::PortActivity> ports = have_activity ? activity.ports() : std::vector<cost::PortActivity>{};
    nlohmann::json j = {{"cost_source", tools.cost_source()}, {"liberty", tools.liberty},
                        {"activity", have_activity ? cost::to_json(activity) : nlohmann::json("default")}};
    const auto report = [&](const char* what, const cost::SynthesisResult& r) {
      std::fprintf(text, "%-9s %6lld cells (%lld flops)  %10.0f um2  critical path %.3f ns  %.3f pJ/cycle  [%s]\n", what,
                   static_cast<long long>(r.cells), static_cast<long long>(r.flops), r.area_um2, r.critical_path_ns,
                   r.energy_per_cycle_pj, tools.cost_source().c_str());
      j[what] = cost::to_json(r);
    };
    report("pe", cost::synthesize(cost::generate_pe_verilog(a->pe, "ftdla_pe") + cost::generate_pe_synth_top(a->pe),
                                  "ftdla_pe_synth", tools, ports));
    if (lanes > 0) {
      const accel::PeConfig lane = cost::unprotected_config(a->pe);
      report("tmr_lane", cost::synthesize(cost::generate_tmr_lane_verilog(lane), "ftdla_tmr_lane", tools, ports));
    }
    if (!a->json.empty()) write_json(a->json, j);
  });
}

}  // namespace ftdla::cli
