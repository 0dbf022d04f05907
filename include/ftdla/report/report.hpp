// SPDX-License-Identifier: MIT
// HTML report of characterize and optimize results: one self-contained file (inline CSS and SVG, no
// script, no external URL) that opens offline. The plots are SVG written here, from the result JSON:
// no plotting dependency, and the same input gives the same bytes, so tests can check the output.
//
// Each plot is an element with id "<kind>-<section>" (section = 1-based position of its result in the
// report), class "plot", data-plot="<kind>" and data-points="<number of data marks>"; kinds:
//   heatmap      layer x bit vulnerability factors (characterize)
//   channels     channel vulnerability factor per layer (characterize)
//   convergence  best feasible cost per evaluation (optimize; other searches of the same model and
//                objective, e.g. random search, are drawn alongside: other optimize results in the report,
//                and objects with a "history" array inside the result)
//   tradeoff     cost vs accuracy under faults, Pareto front and chosen design marked (optimize)
//   comparison   table of the chosen design and the baselines with 95% intervals (optimize)
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ftdla::report {

/// Text made safe for HTML element content and quoted attribute values: & < > " ' escaped.
std::string escape_html(std::string_view s);

enum class Kind { Characterize, Optimize };
const char* kind_name(Kind k);

/// Which result `j` is, told by its fields ("layers" + "bits": characterize; "history" + "baselines":
/// optimize). Anything else, or an unfinished characterization, throws ImportError naming `source`.
Kind detect(const nlohmann::json& j, const std::string& source);

/// One result to report: where it came from (shown in the report) and its JSON.
struct Result {
  std::string source;
  nlohmann::json json;
};

/// Reads and parses a result file and checks it is one the report takes. Throws ImportError with a
/// one-line message naming `path` if it cannot be read, is not valid JSON, or is neither kind.
Result load_result(const std::string& path);

/// The whole HTML document: one section per result, in order. Throws ImportError naming the result's
/// source if a result has the right fields but not the expected structure.
std::string render(const std::vector<Result>& results, const std::string& title = "ftdla report");

/// render() written atomically to `path`.
void write_report(const std::string& path, const std::vector<Result>& results, const std::string& title = "ftdla report");

// ---- Building blocks (exposed for tests) ----------------------------------------------------------------

struct Point {
  double x = 0, y = 0;
};

/// Indices of the Pareto-optimal points when lower x and higher y are better (cost, accuracy), in
/// increasing x. A point is on the front when no other point has x <= its x and y >= its y with one of
/// them strict; of exact duplicates only the first is kept; points with a non-finite coordinate are
/// ignored.
std::vector<std::size_t> pareto_front(const std::vector<Point>& pts);

/// The cost an optimize result minimizes, from an evaluation's overheads: "area", "energy" or
/// "area_energy" ((1 + area)(1 + energy) - 1), as in dse::objective_value. Throws ImportError for
/// another name.
double objective_cost(const std::string& objective, const nlohmann::json& evaluation);

/// Best feasible cost after each evaluation of an optimize history (NaN until the first feasible one).
/// An entry's cost is its recorded "objective", else objective_cost(objective, entry).
std::vector<double> best_feasible_so_far(const nlohmann::json& history, const std::string& objective = "area");

/// Short text of a design JSON's knobs ("full_tmr", "k=7 f=0.10 U=2 h=1").
std::string design_text(const nlohmann::json& design);

/// The plots of one section, each a complete <svg> (or, for the comparison, <table>) element.
/// `section` numbers the element ids. `others` for convergence: further optimize results drawn alongside.
std::string heatmap_svg(const nlohmann::json& characterize, int section);
std::string channels_svg(const nlohmann::json& characterize, int section);
std::string convergence_svg(const nlohmann::json& optimize, const std::vector<const nlohmann::json*>& others, int section);
std::string tradeoff_svg(const nlohmann::json& optimize, int section);
std::string comparison_table(const nlohmann::json& optimize, int section);

}  // namespace ftdla::report
