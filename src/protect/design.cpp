// SPDX-License-Identifier: MIT
#include "ftdla/protect/design.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ftdla/core/error.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::protect {
namespace {

using nlohmann::json;

// Reject a non-object and any key outside `known` (suggesting the closest known key).
void check_object(const json& j, const std::string& where, std::initializer_list<const char*> known) {
  if (!j.is_object()) throw ConfigError(where + ": must be a JSON object (got " + json_excerpt(j) + ")");
  for (const auto& item : j.items()) {  // not a structured binding: clang 14 cannot capture one
    const std::string& key = item.key();
    if (std::any_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) continue;
    throw ConfigError(where + "." + excerpt(key) + ": unknown key (did you mean '" +
                      closest_match(key, std::vector<std::string>(known.begin(), known.end())) + "'?)");
  }
}

// An integer, or a float with an integral value (optimizers emit reals), in int range.
int get_int(const json& v, const std::string& path) {
  return static_cast<int>(json_int(v, path, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()));
}

int64_t get_int64(const json& v, const std::string& path) {
  return json_int(v, path, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
}

std::string fmt(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

void check_range(const std::string& path, int v, int lo, int hi) {
  if (v < lo || v > hi)
    throw ConfigError(path + ": must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (got " +
                      std::to_string(v) + ")");
}

void require_neutral(const std::string& path, bool neutral, const std::string& preset, const std::string& got) {
  if (!neutral)
    throw ConfigError(path + ": must be absent or neutral with preset '" + preset + "' (got " + got + ")");
}

AccelPoint parse_accel(const json& j, const std::string& where) {
  check_object(j, where, {"rows", "cols", "dataflow", "wbits", "abits", "accbits"});
  AccelPoint a;
  if (j.contains("rows")) a.rows = get_int(j["rows"], where + ".rows");
  if (j.contains("cols")) a.cols = get_int(j["cols"], where + ".cols");
  if (j.contains("dataflow")) {
    const json& v = j["dataflow"];
    if (!v.is_string()) throw ConfigError(where + ".dataflow: must be \"ws\" or \"os\" (got " + json_excerpt(v) + ")");
    const std::string s = v.get<std::string>();
    if (s == "ws") a.dataflow = accel::Dataflow::WeightStationary;
    else if (s == "os") a.dataflow = accel::Dataflow::OutputStationary;
    else throw ConfigError(where + ".dataflow: unknown dataflow '" + excerpt(s) + "' (expected ws or os)");
  }
  if (j.contains("wbits")) a.wbits = get_int(j["wbits"], where + ".wbits");
  if (j.contains("abits")) a.abits = get_int(j["abits"], where + ".abits");
  if (j.contains("accbits")) a.accbits = get_int(j["accbits"], where + ".accbits");
  return a;
}

std::vector<ChannelList> parse_channels(const json& j, const std::string& where) {
  std::vector<ChannelList> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = where + "[" + std::to_string(i) + "]";
    const json& e = j[i];
    check_object(e, at, {"layer", "channels"});
    ChannelList cl;
    if (!e.contains("layer")) throw ConfigError(at + ".layer: missing (expected a compute layer name)");
    if (!e["layer"].is_string()) throw ConfigError(at + ".layer: must be a string (got " + json_excerpt(e["layer"]) + ")");
    cl.layer = e["layer"].get<std::string>();
    if (!e.contains("channels")) throw ConfigError(at + ".channels: missing (expected an array of channel indices)");
    const json& ch = e["channels"];
    if (!ch.is_array()) throw ConfigError(at + ".channels: must be an array of channel indices (got " + json_excerpt(ch) + ")");
    for (std::size_t c = 0; c < ch.size(); ++c)
      cl.channels.push_back(get_int64(ch[c], at + ".channels[" + std::to_string(c) + "]"));
    out.push_back(std::move(cl));
  }
  return out;
}

}  // namespace

const char* preset_name(Preset p) {
  switch (p) {
    case Preset::None: return "none";
    case Preset::Unprotected: return "unprotected";
    case Preset::FullTmr: return "full_tmr";
  }
  return "none";
}

Preset parse_preset(const std::string& s, const std::string& where) {
  if (s == "none") return Preset::None;
  if (s == "unprotected") return Preset::Unprotected;
  if (s == "full_tmr") return Preset::FullTmr;
  throw ConfigError(where + ": unknown preset '" + excerpt(s) + "' (expected none, unprotected or full_tmr)");
}

bool DesignPoint::protects_channels() const {
  if (mode == ProtectMode::Fraction) return fraction > 0.0;
  return std::any_of(channels.begin(), channels.end(), [](const ChannelList& c) { return !c.channels.empty(); });
}

bool DesignPoint::range_corrector() const {
  if (k != 0 && k < accel.abits) return true;
  return std::any_of(k_per_layer.begin(), k_per_layer.end(), [&](const auto& kv) { return kv.second < accel.abits; });
}

int DesignPoint::live_bits() const { return (k != 0 && k < accel.abits) ? k : accel.abits; }

void DesignPoint::validate(const std::string& where) const {
  const std::string acc = where + ".accel";
  check_range(acc + ".rows", accel.rows, 1, 1024);
  check_range(acc + ".cols", accel.cols, 1, 1024);
  check_range(acc + ".wbits", accel.wbits, 2, 16);
  check_range(acc + ".abits", accel.abits, 2, 16);
  check_range(acc + ".accbits", accel.accbits, 8, 32);
  const int a = accel.abits;
  if (k != 0 && (k < 2 || k > a))
    throw ConfigError(where + ".k: must be 0 (no constraint) or in [2, " + std::to_string(a) + "] (got " +
                      std::to_string(k) + ")");
  for (const auto& [name, kl] : k_per_layer) {
    if (name.empty()) throw ConfigError(where + ".k_per_layer: layer names must be non-empty");
    check_range(where + ".k_per_layer." + excerpt(name), kl, 2, a);
  }
  if (mode == ProtectMode::Fraction) {
    if (!(fraction >= 0.0 && fraction <= 1.0))
      throw ConfigError(where + ".protected: fraction must be in [0, 1] (got " + fmt(fraction) + ")");
  } else {
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const std::string at = where + ".protected[" + std::to_string(i) + "]";
      if (channels[i].layer.empty()) throw ConfigError(at + ".layer: must be a non-empty compute layer name");
      for (std::size_t j = 0; j < i; ++j)
        if (channels[j].layer == channels[i].layer)
          throw ConfigError(at + ".layer: layer '" + excerpt(channels[i].layer) + "' listed twice (also " + where +
                            ".protected[" + std::to_string(j) + "])");
      std::set<int64_t> seen;
      for (std::size_t c = 0; c < channels[i].channels.size(); ++c) {
        const int64_t ch = channels[i].channels[c];
        const std::string cp = at + ".channels[" + std::to_string(c) + "]";
        if (ch < 0) throw ConfigError(cp + ": must be >= 0 (got " + std::to_string(ch) + ")");
        if (!seen.insert(ch).second) throw ConfigError(cp + ": duplicate channel " + std::to_string(ch));
      }
    }
  }
  check_range(where + ".lanes", lanes, 0, kMaxLanes);
  if (protects_channels() && lanes < 1)
    throw ConfigError(where + ".lanes: must be >= 1 when channels are protected (got " + std::to_string(lanes) + ")");
  check_range(where + ".harden_bits", harden_bits, 0, live_bits());
  if (preset != Preset::None) {
    const std::string p = preset_name(preset);
    require_neutral(where + ".k", k == 0, p, std::to_string(k));
    require_neutral(where + ".k_per_layer", k_per_layer.empty(), p, std::to_string(k_per_layer.size()) + " entries");
    require_neutral(where + ".protected", !protects_channels(), p, "protected channels");
    require_neutral(where + ".lanes", lanes == 0, p, std::to_string(lanes));
    require_neutral(where + ".harden_bits", harden_bits == 0, p, std::to_string(harden_bits));
  }
}

DesignPoint parse_design(const json& j, const std::string& where) {
  check_object(j, where, {"preset", "k", "k_per_layer", "protected", "lanes", "harden_bits", "accel"});
  DesignPoint d;
  if (j.contains("preset")) {
    const json& v = j["preset"];
    if (!v.is_string())
      throw ConfigError(where + ".preset: must be a string: none, unprotected or full_tmr (got " + json_excerpt(v) + ")");
    d.preset = parse_preset(v.get<std::string>(), where + ".preset");
  }
  // accel first: the ranges of k and harden_bits depend on A.
  if (j.contains("accel")) d.accel = parse_accel(j["accel"], where + ".accel");
  if (j.contains("k")) d.k = get_int(j["k"], where + ".k");
  if (j.contains("k_per_layer")) {
    const json& m = j["k_per_layer"];
    if (!m.is_object())
      throw ConfigError(where + ".k_per_layer: must be an object {layer name: bits} (got " + json_excerpt(m) + ")");
    for (const auto& [name, v] : m.items()) d.k_per_layer[name] = get_int(v, where + ".k_per_layer." + excerpt(name));
  }
  if (j.contains("protected")) {
    const json& v = j["protected"];
    if (v.is_number()) {
      d.mode = ProtectMode::Fraction;
      d.fraction = v.get<double>();
    } else if (v.is_array()) {
      d.mode = ProtectMode::Channels;
      d.channels = parse_channels(v, where + ".protected");
    } else {
      throw ConfigError(where + ".protected: must be a fraction in [0, 1] or an array of {\"layer\", \"channels\"} (got " +
                        json_excerpt(v) + ")");
    }
  }
  if (j.contains("lanes")) d.lanes = get_int(j["lanes"], where + ".lanes");
  if (j.contains("harden_bits")) d.harden_bits = get_int(j["harden_bits"], where + ".harden_bits");
  d.validate(where);
  return d;
}

json to_json(const DesignPoint& d) {
  json j;
  j["preset"] = preset_name(d.preset);
  j["k"] = d.k;
  j["k_per_layer"] = json::object();
  for (const auto& [name, kl] : d.k_per_layer) j["k_per_layer"][name] = kl;
  if (d.mode == ProtectMode::Fraction) {
    j["protected"] = d.fraction;
  } else {
    j["protected"] = json::array();
    for (const auto& c : d.channels) j["protected"].push_back({{"layer", c.layer}, {"channels", c.channels}});
  }
  j["lanes"] = d.lanes;
  j["harden_bits"] = d.harden_bits;
  j["accel"] = {{"rows", d.accel.rows},   {"cols", d.accel.cols},   {"dataflow", accel::dataflow_name(d.accel.dataflow)},
                {"wbits", d.accel.wbits}, {"abits", d.accel.abits}, {"accbits", d.accel.accbits}};
  return j;
}

DesignPoint reference_design(const DesignPoint& d, Preset p) {
  DesignPoint r;
  r.preset = p;
  r.accel = d.accel;
  return r;
}

quant::QuantOptions to_quant_options(const DesignPoint& d, quant::QuantOptions base) {
  base.wbits = d.accel.wbits;
  base.abits = d.accel.abits;
  base.accbits = d.accel.accbits;
  base.k = d.k;
  base.k_per_layer = d.k_per_layer;
  return base;
}

accel::ArraySpec to_array_spec(const DesignPoint& d) {
  accel::ArraySpec s;
  s.rows = d.accel.rows;
  s.cols = d.accel.cols;
  s.dataflow = d.accel.dataflow;
  return s;
}

}  // namespace ftdla::protect
