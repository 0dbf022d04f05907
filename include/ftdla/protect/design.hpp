// SPDX-License-Identifier: MIT
// A design point of the cross-layer problem: the algorithm knob (range constraint k), the architecture
// knobs (protected channels of the hybrid array and its TMR lanes U), the circuit knob (hardened bits h)
// and the accelerator they run on. Parsed from and echoed to JSON (the `design` document).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::protect {

/// Reference designs. None = a custom design described by the knobs; Unprotected = no protection at all;
/// FullTmr = the whole PE array (and its requantizers) triplicated with voters on the outputs.
enum class Preset { None, Unprotected, FullTmr };

/// "none" | "unprotected" | "full_tmr".
const char* preset_name(Preset p);
/// Parse a preset name; throws ConfigError at `where` listing the accepted names.
Preset parse_preset(const std::string& s, const std::string& where = "design.preset");

/// How the protected channels are given.
enum class ProtectMode {
  Fraction,  ///< a fraction of the MACs, channels chosen greedily by vulnerability per MAC (protect/plan.hpp)
  Channels,  ///< an explicit list of output channels per layer
};

/// Explicitly protected output channels of one compute layer.
struct ChannelList {
  std::string layer;              ///< compute layer name (the ONNX node name)
  std::vector<int64_t> channels;  ///< absolute output-channel indices (over all groups), each >= 0, no duplicates
  bool operator==(const ChannelList&) const = default;
};

/// The accelerator of a design point: PE array and datapath widths.
struct AccelPoint {
  int rows = 32;  ///< R, array rows, in [1, 1024]
  int cols = 32;  ///< C, array columns, in [1, 1024]
  accel::Dataflow dataflow = accel::Dataflow::WeightStationary;
  int wbits = 8;    ///< W, weight register bits, in [2, 16]
  int abits = 8;    ///< A, activation / output register bits, in [2, 16]
  int accbits = 32; ///< P, accumulator bits, in [8, 32]
  bool operator==(const AccelPoint&) const = default;
};

/// Largest accepted `lanes` value (a sanity bound: four times the PEs of the default 32x32 array).
inline constexpr int kMaxLanes = 4096;

/// One point of the design space. Member initializers are the defaults (an unprotected custom design on
/// the default 32x32 int8/int8/int32 weight-stationary array).
struct DesignPoint {
  Preset preset = Preset::None;
  /// Algorithm layer: effective activation bits of every compute layer's output; 0 = A (no constraint),
  /// else in [2, A]. The range corrector is on iff some layer's effective bits are < A.
  int k = 0;
  std::map<std::string, int> k_per_layer;  ///< per compute-layer name, each in [2, A]; overrides `k`
  /// Architecture layer: which output channels the hybrid unit computes.
  ProtectMode mode = ProtectMode::Fraction;
  double fraction = 0.0;              ///< Fraction mode: f in [0, 1] of the network's MACs
  std::vector<ChannelList> channels;  ///< Channels mode: the listed channels, layers distinct
  /// U: TMR-protected MAC lanes of the hybrid unit, in [0, kMaxLanes]; >= 1 when anything is protected.
  /// 0 = no hybrid unit.
  int lanes = 0;
  /// Circuit layer: h, hardened top bits of the live value of each PE's output register, in
  /// [0, live bits] (live bits = k when 0 < k < A, else A).
  int harden_bits = 0;
  AccelPoint accel;

  /// True if the design asks for protected channels (f > 0, or a non-empty explicit list).
  bool protects_channels() const;
  /// True if some compute layer is range-constrained (k < A globally or per layer): the corrector is on.
  bool range_corrector() const;
  /// Live bits of the global setting: k when 0 < k < A, else A.
  int live_bits() const;
  /// Throws ConfigError naming the first offending key path under `where` ("design.harden_bits: must be
  /// in [0, 8] (got 9)"). parse_design() calls it; call it again after editing a DesignPoint in code.
  void validate(const std::string& where = "design") const;
  bool operator==(const DesignPoint&) const = default;
};

/// Parse a design document. Keys (all optional): preset ("none" default | "unprotected" | "full_tmr"),
/// k (int), k_per_layer (object name -> int), protected (a number f in [0, 1], or an array of
/// {"layer": name, "channels": [int, ...]}), lanes (int), harden_bits (int), accel (object: rows, cols,
/// dataflow "ws" | "os", wbits, abits, accbits). With a preset other than "none", the protection knobs
/// (k, k_per_layer, protected, lanes, harden_bits) must be absent or neutral (0 / empty); `accel` is allowed.
/// Integers may be written as integral floats (5.0). Throws ConfigError naming the key path for a
/// non-object, an unknown key (closest known key suggested), a wrong type or an out-of-range value.
DesignPoint parse_design(const nlohmann::json& j, const std::string& where = "design");

/// Every key with its effective value (defaults filled in); parse_design(to_json(d)) == d.
nlohmann::json to_json(const DesignPoint& d);

/// The same accelerator as `d` with preset `p` and no knobs (e.g. the unprotected reference design).
DesignPoint reference_design(const DesignPoint& d, Preset p);

/// The quantization options of a design: bit widths, k and k_per_layer set from `d`, every other field
/// (calibration method, images, ...) taken from `base`.
quant::QuantOptions to_quant_options(const DesignPoint& d, quant::QuantOptions base = {});

/// The PE array of a design (rows, cols, dataflow).
accel::ArraySpec to_array_spec(const DesignPoint& d);

}  // namespace ftdla::protect
