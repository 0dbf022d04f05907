// SPDX-License-Identifier: MIT
// `ftdla rtl`: write synthesizable Verilog for one PE with TMR-hardened output-register bits.
// (Includes cost/rtl.hpp but not common.hpp: accel/pe.hpp and accel/mapping.hpp both define accel::Pe.)
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"
#include "output.hpp"
#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/cost/rtl.hpp"

namespace ftdla::cli {

void add_rtl(CLI::App& root) {
  auto* app = root.add_subcommand(
      "rtl", "write Verilog for one weight-stationary PE (MAC, registers, TMR voter on the top H output bits)");
  struct Args {
    accel::PeConfig pe;
    std::string module = "ftdla_pe";
    std::string out;
    bool synth_top = false;
  };
  auto a = std::make_shared<Args>();
  app->add_option("--wbits", a->pe.wbits, "weight register bits W, in [2, 16]");
  app->add_option("--abits", a->pe.abits, "activation / output register bits A, in [2, 16]");
  app->add_option("--accbits", a->pe.accbits, "accumulator bits P, in [8, 32]");
  app->add_option("--harden", a->pe.harden_out_bits, "TMR-hardened top bits of the output register H, in [0, A]");
  app->add_option("--harden-acc", a->pe.harden_acc_bits, "TMR-hardened top bits of the accumulator HA, in [0, P]");
  app->add_flag("--signed", a->pe.x_signed, "activations are two's complement (else unsigned)");
  app->add_option("--module", a->module, "Verilog module name");
  app->add_flag("--synth-top", a->synth_top, "also emit <module>_synth, a wrapper with the inject ports tied to 0");
  app->add_option("-o,--output", a->out, "output .v file (written atomically); - for stdout")->required();
  app->footer("Example: ftdla rtl --wbits 8 --abits 8 --accbits 32 --harden 2 -o pe.v\n");
  app->callback([a] {
    check_output_file(a->out, "--output");
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
    if (a->out == "-") {
      std::fputs(v.c_str(), stdout);
      return;
    }
    if (dist::is_root()) write_file_atomic(a->out, v);  // one writer under mpirun
    std::printf("wrote %s: module %s, W%d/A%d/P%d, %s activations, %d hardened output bits, %d hardened accumulator bits\n",
                a->out.c_str(), a->module.c_str(), a->pe.wbits, a->pe.abits, a->pe.accbits,
                a->pe.x_signed ? "signed" : "unsigned", a->pe.harden_out_bits, a->pe.harden_acc_bits);
  });
}

}  // namespace ftdla::cli
