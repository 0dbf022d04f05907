// SPDX-License-Identifier: MIT
// The report document: reading results, telling their kind, one section per result, inline CSS.
#include "ftdla/report/report.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "json_access.hpp"
#include "svg.hpp"

namespace ftdla::report {

using nlohmann::json;
using svg::num;
using svg::pct;

std::string escape_html(std::string_view s) {
  std::string o;
  o.reserve(s.size() + s.size() / 8);
  for (char c : s) switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  return o;
}

const char* kind_name(Kind k) { return k == Kind::Characterize ? "characterize" : "optimize"; }

Kind detect(const json& j, const std::string& source) {
  if (j.is_object()) {
    if (j.contains("layers") && j["layers"].is_array() && j.contains("bits") && j["bits"].is_number()) return Kind::Characterize;
    if (j.contains("history") && j["history"].is_array() && j.contains("baselines") && j["baselines"].is_object())
      return Kind::Optimize;
    if (j.contains("strata_sdc") && !j.value("completed", true))
      throw ImportError(source + ": characterization not finished (completed: false); finish it with `ftdla characterize --resume`");
  }
  throw ImportError(source + ": not a ftdla characterize or optimize result (expected \"layers\" and \"bits\", or \"history\" and " +
                    "\"baselines\")");
}

Result load_result(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw ImportError(path + ": cannot read result file (it is a directory)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path + ": cannot read result file (" + std::strerror(errno) + ")");
  std::stringstream ss;
  ss << in.rdbuf();
  Result r{path, json()};
  try {
    r.json = json::parse(ss.str());
  } catch (const json::parse_error& e) {
    throw ImportError(path + ": not valid JSON (parse error at byte " + std::to_string(e.byte) + ")");
  }
  detect(r.json, path);
  return r;
}

namespace {

const char* kCss = R"(body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:960px;color:#222;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}h3{margin-bottom:.3em}
p.note{color:#555;font-size:.9em;margin-top:0}dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:.9em}
dl.meta dt{color:#555}dl.meta dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace}
svg.plot{display:block;max-width:100%;height:auto;font-size:12px}
svg .grid{stroke:#e4e4e4;stroke-width:1}svg .axis{stroke:#444;stroke-width:1}svg .tick{fill:#444;font-size:11px}
svg .label{fill:#222;font-size:12px}svg .panel-title{fill:#222;font-size:12px;font-weight:600}svg .legend-text{fill:#222}
svg .cell{stroke:#fff;stroke-width:.5}svg .cell-value{fill:#fff;font-size:10px;pointer-events:none}svg .cell-value.dark{fill:#222}svg .bar{fill:#4a78b5}svg .bar.top{fill:#f28e2b}svg .whisker{stroke:#222;stroke-width:.8}
svg .best{fill:none;stroke-width:2}svg .eval{stroke-width:1.2}svg .eval.feasible{fill:#1f77b4;stroke:#1f77b4}
svg .eval.infeasible{fill:#fff;stroke:#999}svg .baseline{fill:#777;stroke:#333}svg .chosen{fill:none;stroke:#d62728;stroke-width:3}
svg .front{fill:none;stroke:#f28e2b;stroke-width:2}svg .offscale{stroke-width:1}svg path.offscale.chosen{fill:#d62728}svg .pareto{stroke:#f28e2b;stroke-width:2}
svg .target{stroke:#2ca02c;stroke-dasharray:6 4;stroke-width:1.5}svg .point-label{fill:#333;font-size:11px}svg .chosen-label{fill:#d62728;font-weight:600}
table.comparison{border-collapse:collapse;font-size:.85em;width:100%}table.comparison th,table.comparison td{border:1px solid #ddd;padding:4px 6px;text-align:right}
table.comparison th{background:#f4f4f4}table.comparison td:nth-child(-n+2){text-align:left}table.comparison tr.chosen{background:#fdecea;font-weight:600}
td.ok{color:#1a7f37}td.bad{color:#b42318}footer{margin-top:3em;color:#777;font-size:.8em})";

void meta(std::string& o, const std::string& key, const std::string& value) {
  o += "<dt>" + escape_html(key) + "</dt><dd>" + escape_html(value) + "</dd>";
}

std::string text_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "n/a";
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return num(v.get<double>());
  return v.dump();
}

std::string rate_ci(const json& j, const char* rate, const char* ci) {
  const auto [lo, hi] = interval(j, ci);
  return num(number(j, rate), "%.5f") + " [" + num(lo, "%.5f") + ", " + num(hi, "%.5f") + "]";
}

void characterize_section(std::string& o, const json& r, int section) {
  const json& cfg = r.contains("config") && r["config"].is_object() ? r["config"] : r;
  o += "<h2>" + std::to_string(section) + ". Vulnerability characterization: " + escape_html(text_of(cfg, "model")) + ", " +
       escape_html(text_of(cfg, "site")) + " site</h2><dl class=\"meta\">";
  meta(o, "injections", text_of(r, "injections"));
  meta(o, "overall VF [95%]", rate_ci(r, "overall_vf", "overall_vf_ci95"));
  meta(o, "samples per stratum", text_of(cfg, "samples"));
  meta(o, "images / seed", text_of(cfg, "images") + " / " + text_of(cfg, "seed"));
  if (r.contains("channel_vf_max")) meta(o, "channel VF max / median", text_of(r, "channel_vf_max") + " / " + text_of(r, "channel_vf_median"));
  if (r.contains("top10_overlap")) meta(o, "top-10% overlap (seed " + text_of(r["top10_overlap"], "seed") + ")", text_of(r["top10_overlap"], "overlap"));
  if (r.contains("premise") && r["premise"].is_object()) {
    const json& p = r["premise"];
    for (const char* k : {"unprotected", "top_protected", "top_share_protected", "random_protected"})
      if (p.contains(k)) meta(o, std::string("premise SDC, ") + k, rate_ci(p[k], "sdc_rate", "sdc_ci95"));
  }
  meta(o, "compute time", num(number(r, "compute_seconds"), "%.1f") + " s");
  o += "</dl>";
  o += "<h3>Layer &times; bit vulnerability</h3><p class=\"note\">Bit vulnerability factor (BVF): fraction of injected faults in "
       "this bit of this layer&#39;s registers that changed the top-1 class (SDC), on a square-root colour scale so that small factors stay visible. Hover a cell for its 95% interval.</p>";
  o += "<figure>" + heatmap_svg(r, section) + "</figure>";
  o += "<h3>Channel vulnerability per layer</h3>";
  size_t channels = 0;
  for (const auto& L : r.at("layers")) channels += L.contains("channels") && L["channels"].is_array() ? L["channels"].size() : 0;
  if (channels == 0) {  // characterize measures channel VFs at the neuron site only
    o += "<p class=\"note\">No channel breakdown in this result (" + escape_html(text_of(cfg, "site")) +
         " site): channel vulnerability factors come from <code>ftdla characterize --site neuron</code>.</p>";
    return;
  }
  o += "<p class=\"note\">Vulnerability factor of each output channel, one panel per layer on a common scale, with 95% intervals "
       "when a layer has at most 64 channels. Orange: the top 10% of all channels in the ranking, the ones channel protection "
       "covers first.</p>";
  o += "<figure>" + channels_svg(r, section) + "</figure>";
}

void optimize_section(std::string& o, const json& r, std::vector<const json*> others, int section) {
  // Searches embedded in the result (an object with a "history" array, e.g. a random-search run kept
  // for comparison) go alongside too, labelled by their "method" or else their key.
  std::vector<json> embedded;
  for (const auto& [key, v] : r.items())
    if (v.is_object() && v.contains("history") && v["history"].is_array()) {
      embedded.push_back(v);
      if (!v.contains("method")) embedded.back()["method"] = key;
    }
  for (const auto& e : embedded) others.push_back(&e);
  const json env = r.contains("environment") && r["environment"].is_object() ? r["environment"] : json::object();
  o += "<h2>" + std::to_string(section) + ". Cross-layer optimization: " + escape_html(text_of(r, "model")) + "</h2><dl class=\"meta\">";
  meta(o, "method / objective", text_of(r, "method") + " / " + text_of(r, "objective") + " overhead");
  meta(o, "BER / site", text_of(env, "ber") + " / " + text_of(env, "site"));
  meta(o, "evaluations / budget", std::to_string(r["history"].size()) + " / " + text_of(r, "budget") + " (stopped: " +
                                      text_of(r, "stop_reason") + ")");
  meta(o, "faulty inferences (search)", text_of(r, "injections"));
  meta(o, "images: search / held out", text_of(r, "search_images") + " / " + text_of(r, "validation_images"));
  meta(o, "baseline clean accuracy", num(number(r, "baseline_clean_accuracy"), "%.4f"));
  meta(o, "reliability target", num(number(r, "reliability_target"), "%.4f"));
  const bool have_best = r.contains("best") && r["best"].is_object();
  meta(o, "chosen design", have_best ? design_text(r["best"].value("design", json())) + ", " +
                                           text_of(r, "objective") + " " +
                                           pct(objective_cost(r.value("objective", std::string("area")), r["best"]))
                                     : std::string("none feasible within the budget"));
  meta(o, "seed", text_of(r, "seed"));
  o += "</dl>";
  o += "<h3>Convergence</h3><p class=\"note\">Cost of every evaluation of the search and the best feasible cost found so far.";
  if (!others.empty()) o += " Other searches of this model and objective (in this result or given alongside it) are drawn too.";
  else o += " Give a second result of the same model run with <code>--method random</code> to see random search alongside.";
  o += "</p><figure>" + convergence_svg(r, others, section) + "</figure>";
  o += "<h3>Cost vs accuracy under faults</h3><p class=\"note\">Search figures of every evaluated design and baseline. The Pareto "
       "front (orange) joins the designs no other design beats on both cost and accuracy under faults; the ring marks the chosen "
       "design, the dashed line the reliability target. The view spans the searched designs; designs outside it (e.g. full TMR) "
       "are triangles on its edge. Hover a mark for its figures and 95% interval.</p>";
  o += "<figure>" + tradeoff_svg(r, section) + "</figure>";
  o += "<h3>Comparison</h3><p class=\"note\">Overheads over the unprotected array; accuracy under faults and decisions from the "
       "independent validation on held-out images when the result has one, else from the search. Intervals are 95%.</p>";
  o += comparison_table(r, section);
}

}  // namespace

std::string render(const std::vector<Result>& results, const std::string& title) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                  escape_html(title) + "</title>\n<style>\n" + kCss + "\n</style>\n</head>\n<body>\n<h1>" + escape_html(title) +
                  "</h1>\n<p class=\"note\">Results: ";
  for (size_t i = 0; i < results.size(); ++i) o += (i ? ", " : "") + escape_html(results[i].source);
  o += "</p>\n";
  std::vector<Kind> kinds;
  for (const auto& r : results) kinds.push_back(detect(r.json, r.source));
  for (size_t i = 0; i < results.size(); ++i) {
    const int section = static_cast<int>(i + 1);
    const json& j = results[i].json;
    std::string s = "<section class=\"result " + std::string(kind_name(kinds[i])) + "\" id=\"section-" + std::to_string(section) +
                    "\" data-source=\"" + escape_html(results[i].source) + "\">\n";
    try {
      if (kinds[i] == Kind::Characterize) {
        characterize_section(s, j, section);
      } else {
        // Other optimize results of the same model and objective (e.g. random search) go alongside.
        std::vector<const json*> others;
        for (size_t k = 0; k < results.size(); ++k)
          if (k != i && kinds[k] == Kind::Optimize && results[k].json.value("model", std::string()) == j.value("model", std::string()) &&
              results[k].json.value("objective", std::string()) == j.value("objective", std::string()))
            others.push_back(&results[k].json);
        optimize_section(s, j, others, section);
      }
    } catch (const json::exception& e) {
      throw ImportError(results[i].source + ": unexpected " + kind_name(kinds[i]) + " result structure (" + e.what() + ")");
    } catch (const ImportError& e) {
      throw ImportError(results[i].source + ": " + e.what());
    }
    o += s + "\n</section>\n";
  }
  o += "<footer>Written by ftdla report. Self-contained: inline CSS and SVG, no script, no external resources.</footer>\n</body>\n</html>\n";
  return o;
}

void write_report(const std::string& path, const std::vector<Result>& results, const std::string& title) {
  write_file_atomic(path, render(results, title));
}

}  // namespace ftdla::report
