// SPDX-License-Identifier: MIT
// The report's plots: SVG elements written from characterize and optimize result JSON.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "ftdla/core/error.hpp"
#include "ftdla/report/report.hpp"
#include "json_access.hpp"
#include "svg.hpp"

namespace ftdla::report {

using nlohmann::json;
using namespace svg;

namespace {

constexpr double kWidth = 900;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// "rate [lo, hi]" of a {rate, ci95} entry.
std::string rate_text(const json& e, const char* rate_key = "rate", const char* ci_key = "ci95") {
  const auto [lo, hi] = interval(e, ci_key);
  return num(number(e, rate_key)) + " [" + num(lo) + ", " + num(hi) + "]";
}

}  // namespace

std::vector<std::size_t> pareto_front(const std::vector<Point>& pts) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < pts.size(); ++i)
    if (std::isfinite(pts[i].x) && std::isfinite(pts[i].y)) idx.push_back(i);
  // Cheapest first; at equal cost the most accurate first; then input order.
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    if (pts[a].x != pts[b].x) return pts[a].x < pts[b].x;
    return pts[a].y > pts[b].y;
  });
  std::vector<std::size_t> front;
  double best = -std::numeric_limits<double>::infinity();
  for (std::size_t i : idx)
    if (pts[i].y > best) {  // strictly more accurate than everything at most as costly
      front.push_back(i);
      best = pts[i].y;
    }
  return front;
}

double objective_cost(const std::string& objective, const json& e) {
  const double a = number(e, "area_overhead"), en = number(e, "energy_overhead");
  if (objective == "area") return a;
  if (objective == "energy") return en;
  if (objective == "area_energy") return (1 + a) * (1 + en) - 1;
  throw ImportError("unknown objective '" + objective + "' (expected area, energy or area_energy)");
}

/// The cost of history entry `h` of an optimize result: its recorded "objective", else from its overheads.
static double history_cost(const std::string& objective, const json& h) {
  const double v = number(h, "objective");
  return std::isfinite(v) ? v : objective_cost(objective, h);
}

std::vector<double> best_feasible_so_far(const json& history, const std::string& objective) {
  std::vector<double> out;
  double best = kNaN;
  for (const auto& h : history) {
    if (h.value("feasible", false)) {
      const double c = history_cost(objective, h);
      if (std::isfinite(c) && (!std::isfinite(best) || c < best)) best = c;
    }
    out.push_back(best);
  }
  return out;
}

std::string design_text(const json& d) {
  if (!d.is_object()) return "";
  const std::string preset = d.value("preset", std::string("none"));
  if (preset != "none") return preset;
  std::string k;
  const int64_t kv = d.contains("k") && d["k"].is_number() ? d["k"].get<int64_t>() : 0;
  if (kv) k = std::to_string(kv);
  else if (d.contains("k_per_layer") && d["k_per_layer"].is_object() && !d["k_per_layer"].empty()) k = "per-layer";
  else k = "A";
  std::string f;
  if (d.contains("protected") && d["protected"].is_number()) f = num(d["protected"].get<double>(), "%.2f");
  else if (d.contains("protected") && d["protected"].is_array()) f = std::to_string(d["protected"].size()) + " lists";
  else f = "0";
  const auto integer = [&](const char* key) {
    return d.contains(key) && d[key].is_number() ? std::to_string(d[key].get<int64_t>()) : std::string("?");
  };
  return "k=" + k + " f=" + f + " U=" + integer("lanes") + " h=" + integer("harden_bits");
}

// ---- Characterize ---------------------------------------------------------------------------------------

std::string heatmap_svg(const json& r, int section) {
  const json& layers = r.at("layers");
  size_t bits = r.contains("bits") && r["bits"].is_number_unsigned() ? r["bits"].get<size_t>() : 0;
  size_t longest = 0;
  double vmax = 0;
  for (const auto& L : layers) {
    bits = std::max(bits, L.at("bvf").size());
    longest = std::max(longest, shorten(L.value("name", std::string()), 30).size());
    for (const auto& b : L.at("bvf")) vmax = std::max(vmax, number(b, "rate", 0.0));
  }
  const double left = std::min(240.0, 16 + 7.0 * static_cast<double>(longest)), right = 110, top = 16, bottom = 54;
  const double cell_h = 22, cell_w = (kWidth - left - right) / static_cast<double>(std::max<size_t>(bits, 1));
  const double h = top + cell_h * static_cast<double>(layers.size()) + bottom;
  size_t cells = 0;
  for (const auto& L : layers) cells += L.at("bvf").size();
  std::string o = open("heatmap", section, kWidth, h, cells, "layer by bit vulnerability heatmap");
  const std::string grad = "heatmap-" + std::to_string(section) + "-scale";
  o += "<defs><linearGradient id=\"" + grad + "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (int i = 0; i <= 4; ++i) o += "<stop offset=\"" + num(i / 4.0) + "\" stop-color=\"" + viridis(i / 4.0) + "\"/>";
  o += "</linearGradient></defs>";
  for (size_t li = 0; li < layers.size(); ++li) {
    const json& L = layers[li];
    const std::string name = L.value("name", std::string());
    const double y = top + cell_h * static_cast<double>(li);
    o += text(left - 8, y + cell_h / 2 + 4, shorten(name, 30), "end", "tick");
    const json& bvf = L.at("bvf");
    for (size_t b = 0; b < bvf.size(); ++b) {
      const double v = number(bvf[b], "rate", 0.0), t = vmax > 0 ? std::sqrt(std::max(0.0, v) / vmax) : 0;
      o += "<rect class=\"cell\" x=\"" + px(left + cell_w * static_cast<double>(b)) + "\" y=\"" + px(y) + "\" width=\"" +
           px(cell_w) + "\" height=\"" + px(cell_h) + "\" fill=\"" + viridis(t) + "\"><title>" +
           escape_html(name + " bit " + std::to_string(b) + ": BVF " + rate_text(bvf[b]) + ", " +
                       num(number(bvf[b], "sdc"), "%.0f") + " SDC in " + num(number(bvf[b], "injections"), "%.0f") +
                       " injections") +
           "</title></rect>";
      if (cell_w >= 44)  // the value in the cell, dark on the light end of the scale
        o += text(left + cell_w * (static_cast<double>(b) + 0.5), y + cell_h / 2 + 4, num(v, "%.3f"), "middle",
                  t > 0.6 ? "cell-value dark" : "cell-value");
    }
  }
  const double yb = top + cell_h * static_cast<double>(layers.size());
  const size_t every = bits <= 16 ? 1 : bits <= 32 ? 2 : 4;
  for (size_t b = 0; b < bits; b += every)
    o += text(left + cell_w * (static_cast<double>(b) + 0.5), yb + 16, std::to_string(b), "middle", "tick");
  o += text(left + (kWidth - left - right) / 2, yb + 40, "bit (0 = LSB)", "middle", "label");
  // Colour scale.
  const double lx = kWidth - right + 24, lh = std::max(40.0, yb - top);
  o += "<rect class=\"legend\" x=\"" + px(lx) + "\" y=\"" + px(top) + "\" width=\"14\" height=\"" + px(lh) + "\" fill=\"url(#" + grad +
       ")\"/>";
  o += text(lx + 20, top + 10, num(vmax), "start", "tick");
  o += text(lx + 20, top + lh * 0.75 + 4, num(vmax / 16), "start", "tick");  // sqrt scale: 1/16 of the max at 1/4 height
  o += text(lx + 20, top + lh, "0", "start", "tick");
  o += text(lx + 20, top + lh / 2 + 4, "BVF (sqrt)", "start", "tick");
  return o + "</svg>";
}

std::string channels_svg(const json& r, int section) {
  const json& layers = r.at("layers");
  // The top 10% of the channel ranking (the channels protection covers first) are drawn in orange.
  std::set<std::pair<std::string, int64_t>> top_set;
  if (r.contains("channel_ranking") && r["channel_ranking"].is_array()) {
    const json& rk = r["channel_ranking"];
    const size_t n = (rk.size() + 9) / 10;
    for (size_t i = 0; i < n && i < rk.size(); ++i)
      top_set.insert({rk[i].value("layer", std::string()), rk[i].value("channel", int64_t{-1})});
  }
  double vmax = 0;
  size_t total = 0;
  for (const auto& L : layers)
    for (const auto& c : L.at("channels")) {
      vmax = std::max({vmax, number(c, "rate", 0.0), interval(c, "ci95").second});
      ++total;
    }
  double lo = 0, hi = vmax > 0 ? vmax : 1;
  const std::vector<double> ticks = nice_ticks(lo, hi, 2);
  const double left = 70, right = 20, top = 26, panel = 70, gap = 44;
  const double h = top + (panel + gap) * static_cast<double>(layers.size()) + 10;
  std::string o = open("channels", section, kWidth, h, total, "channel vulnerability factor per layer");
  for (size_t li = 0; li < layers.size(); ++li) {
    const json& L = layers[li];
    const std::string name = L.value("name", std::string());
    const json& ch = L.at("channels");
    const double y0 = top + (panel + gap) * static_cast<double>(li);
    const Scale y{lo, hi, y0 + panel, y0};
    o += text(left, y0 - 8, shorten(name, 60) + " (" + std::to_string(ch.size()) + " channels)", "start", "panel-title");
    for (double t : ticks) {
      o += line(left, y(t), kWidth - right, y(t), "grid");
      o += text(left - 6, y(t) + 4, num(t, "%g"), "end", "tick");
    }
    if (ch.empty()) {
      o += text(left + 10, y0 + panel / 2, "no channel breakdown for this layer", "start", "tick");
      continue;
    }
    const double bw = (kWidth - left - right) / static_cast<double>(ch.size());
    for (size_t c = 0; c < ch.size(); ++c) {
      const double v = number(ch[c], "rate", 0.0);
      const int64_t id = ch[c].value("channel", static_cast<int64_t>(c));
      const bool is_top = top_set.count({name, id}) > 0;
      const double x = left + bw * static_cast<double>(c);
      o += "<rect class=\"bar" + std::string(is_top ? " top" : "") + "\" x=\"" + px(x + bw * 0.1) + "\" y=\"" + px(y(v)) +
           "\" width=\"" + px(std::max(0.6, bw * 0.8)) + "\" height=\"" + px(std::max(0.0, y(0) - y(v))) + "\"><title>" +
           escape_html(name + " channel " + std::to_string(id) + ": VF " + rate_text(ch[c]) + (is_top ? " (top 10%)" : "")) +
           "</title></rect>";
      if (ch.size() <= 64) {
        const auto [clo, chi] = interval(ch[c], "ci95");
        if (std::isfinite(clo) && std::isfinite(chi)) o += line(x + bw / 2, y(clo), x + bw / 2, y(chi), "whisker");
      }
    }
    o += line(left, y(0), kWidth - right, y(0), "axis");
    o += text(kWidth - right, y0 + panel + 16, "channel 0.." + std::to_string(ch.size() - 1), "end", "tick");
  }
  return o + "</svg>";
}

// ---- Optimize -------------------------------------------------------------------------------------------

std::string convergence_svg(const json& r, const std::vector<const json*>& others, int section) {
  std::vector<const json*> all = {&r};
  all.insert(all.end(), others.begin(), others.end());
  size_t n = 0, total = 0;
  double ymax = 0;
  for (const json* s : all) {
    const json& hist = s->at("history");
    n = std::max(n, hist.size());
    total += hist.size();
    const std::string objective = s->value("objective", r.value("objective", std::string("area")));
    for (const auto& hh : hist) {
      const double c = history_cost(objective, hh);
      if (std::isfinite(c)) ymax = std::max(ymax, c);
    }
  }
  const double left = 80, right = 20, top = 34, bottom = 56, ph = 300;
  double x0 = 1, x1 = static_cast<double>(std::max<size_t>(n, 2)), y0 = 0, y1 = ymax > 0 ? 100 * ymax : 1;
  const std::vector<double> xt = nice_ticks(x0, x1, 8), yt = nice_ticks(y0, y1, 5);
  const Scale x{x0, x1, left, kWidth - right}, y{y0, y1, top + ph, top};
  std::string o = open("convergence", section, kWidth, top + ph + bottom, total, "optimization convergence");
  o += axes(x, y, xt, yt, "evaluation", r.value("objective", std::string("area")) + " overhead (%)");
  double lx = left + 10;
  for (size_t si = 0; si < all.size(); ++si) {
    const json& s = *all[si];
    const json& hist = s.at("history");
    const std::string objective = s.value("objective", r.value("objective", std::string("area")));
    const std::string colour = series_colour(si);
    const std::string label = s.value("method", std::string("?")) + " (seed " + num(number(s, "seed", number(r, "seed")), "%.0f") + ")";
    // Every evaluation: filled if feasible, hollow if not.
    for (size_t i = 0; i < hist.size(); ++i) {
      const double c = history_cost(objective, hist[i]);
      if (!std::isfinite(c)) continue;
      const bool feas = hist[i].value("feasible", false);
      o += "<circle class=\"eval\" cx=\"" + px(x(static_cast<double>(i + 1))) + "\" cy=\"" + px(y(100 * c)) + "\" r=\"3.5\" stroke=\"" +
           colour + "\" fill=\"" + (feas ? colour : std::string("white")) + "\"><title>" +
           escape_html("#" + std::to_string(i + 1) + " " + design_text(hist[i].value("design", json())) + ": " + pct(c) + ", " +
                       hist[i].value("decision", std::string(feas ? "feasible" : "infeasible")) + " (" +
                       hist[i].value("source", std::string("?")) + ")") +
           "</title></circle>";
    }
    // Best feasible so far: a step line from the first feasible evaluation on.
    const std::vector<double> best = best_feasible_so_far(hist, objective);
    std::string d;
    for (size_t i = 0; i < best.size(); ++i) {
      if (!std::isfinite(best[i])) continue;
      const double xi = x(static_cast<double>(i + 1)), yi = y(100 * best[i]);
      d += d.empty() ? "M" + px(xi) + " " + px(yi) : " H" + px(xi) + " V" + px(yi);
    }
    if (!d.empty()) {
      d += " H" + px(x(static_cast<double>(best.size())));
      o += "<path class=\"best\" d=\"" + d + "\" stroke=\"" + colour + "\"/>";
    }
    // Legend entry.
    o += "<rect x=\"" + px(lx) + "\" y=\"8\" width=\"12\" height=\"12\" fill=\"" + colour + "\"/>";
    o += text(lx + 16, 18, label, "start", "legend-text");
    lx += 40 + 7.0 * static_cast<double>(label.size());
  }
  o += text(kWidth - right, 18, "line: best feasible so far; filled: feasible, hollow: infeasible", "end", "tick");
  return o + "</svg>";
}

std::string tradeoff_svg(const json& r, int section) {
  const std::string objective = r.value("objective", std::string("area"));
  struct Mark {
    Point p;
    std::string label, tip;
    int kind;  // 0 search evaluation (feasible), 1 search (infeasible), 2 baseline, 3 chosen
  };
  std::vector<Mark> marks;
  auto tip = [&](const std::string& name, const json& e) {
    const auto [lo, hi] = interval(e, "faulty_accuracy_ci95");
    return name + " " + design_text(e.value("design", json())) + ": cost " + pct(objective_cost(objective, e)) +
           ", faulty accuracy " + num(number(e, "faulty_accuracy")) + " [" + num(lo) + ", " + num(hi) + "], " +
           e.value("decision", std::string());
  };
  // The chosen design first: it is also in the history, and of duplicates the front keeps the first.
  if (r.contains("best") && r["best"].is_object())
    marks.push_back({{objective_cost(objective, r["best"]), number(r["best"], "faulty_accuracy")}, "chosen", tip("chosen", r["best"]), 3});
  const json& hist = r.at("history");
  for (size_t i = 0; i < hist.size(); ++i) {
    const json& e = hist[i];
    marks.push_back({{history_cost(objective, e), number(e, "faulty_accuracy")}, "", tip("#" + std::to_string(i + 1), e),
                     e.value("feasible", false) ? 0 : 1});
  }
  if (r.contains("baselines") && r["baselines"].is_object())
    for (const auto& [name, e] : r["baselines"].items())
      marks.push_back({{objective_cost(objective, e), number(e, "faulty_accuracy")}, name, tip(name, e), 2});
  std::vector<Point> pts;
  for (const auto& m : marks) pts.push_back(m.p);
  const std::vector<size_t> front = pareto_front(pts);
  const double target = number(r, "reliability_target");
  // The view: the searched designs set the cost range (a baseline far beyond them, such as full TMR at
  // +200%, sits at the right edge); accuracy from a little below the lowest of the target, the chosen
  // design and the Pareto front in that range. Points outside are drawn as triangles on the edge.
  const std::set<size_t> on_front(front.begin(), front.end());
  double core = 0, xmin = 0, xmax = 0, ymin = 1, ymax = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (!std::isfinite(pts[i].x) || !std::isfinite(pts[i].y)) continue;
    if (marks[i].kind != 2) core = std::max(core, 100 * pts[i].x);
    xmin = std::min(xmin, 100 * pts[i].x);
    xmax = std::max(xmax, 100 * pts[i].x);
    ymax = std::max(ymax, pts[i].y);
  }
  if (core > 0 && xmax > 1.5 * core) xmax = 1.15 * core;
  for (size_t i = 0; i < pts.size(); ++i)
    if (std::isfinite(pts[i].x) && std::isfinite(pts[i].y) && 100 * pts[i].x <= xmax && (on_front.count(i) || marks[i].kind == 3))
      ymin = std::min(ymin, pts[i].y);
  if (std::isfinite(target)) ymin = std::min(ymin, target), ymax = std::max(ymax, target);
  if (ymin > ymax) ymin = 0, ymax = 1;
  ymin = std::max(0.0, ymin - 0.15 * std::max(ymax - ymin, 0.01));
  const double left = 80, right = 20, top = 20, bottom = 72, ph = 380;
  const std::vector<double> xt = nice_ticks(xmin, xmax, 8), yt = nice_ticks(ymin, ymax, 6);
  const Scale x{xmin, xmax, left, kWidth - right}, y{ymin, ymax, top + ph, top};
  auto cx_of = [&](const Point& p) { return std::min(x(100 * p.x), x.r1); };
  auto cy_of = [&](const Point& p) { return std::min(y(p.y), y.r0); };
  std::string o = open("tradeoff", section, kWidth, top + ph + bottom, marks.size(),
                       "cost versus accuracy under faults with the Pareto front");
  o.insert(o.size() - 1, " data-front=\"" + std::to_string(front.size()) + "\"");
  o += axes(x, y, xt, yt, objective + " overhead (%)", "accuracy under faults (search)", "%g", "%.3g");
  if (std::isfinite(target)) {
    o += line(x.r0, y(target), x.r1, y(target), "target");
    o += text(x.r1 - 4, y(target) - 5, "reliability target " + num(target), "end", "tick");
  }
  // Pareto front: staircase through the front points (cheapest first).
  std::string d;
  for (size_t i : front) {
    const double xi = cx_of(pts[i]), yi = cy_of(pts[i]);
    d += d.empty() ? "M" + px(xi) + " " + px(yi) : " H" + px(xi) + " V" + px(yi);
  }
  if (!d.empty()) o += "<path class=\"front\" d=\"" + d + "\"/>";
  for (size_t k = 0; k < marks.size(); ++k) {
    const size_t i = (k + 1) % marks.size();  // the chosen design (first) drawn last, on top
    const Mark& m = marks[i];
    if (!std::isfinite(m.p.x) || !std::isfinite(m.p.y)) continue;
    const double cx = cx_of(m.p), cy = cy_of(m.p);
    const bool off_x = 100 * m.p.x > xmax, off_y = m.p.y < ymin;
    const std::string title = "<title>" + escape_html(m.tip + (on_front.count(i) ? " (Pareto front)" : "")) + "</title>";
    const std::string cls = std::string(m.kind == 0 ? "eval feasible" : m.kind == 1 ? "eval infeasible" : m.kind == 2 ? "baseline" : "chosen") +
                            (on_front.count(i) ? " pareto" : "");
    if (off_x || off_y) {  // off the view: a triangle on the edge, pointing where the point is
      const std::string tri = off_x ? " l-9 -6 l0 12 z" : " l-6 -9 l12 0 z";
      o += "<path class=\"offscale " + cls + "\" d=\"M" + px(cx) + " " + px(cy) + tri + "\">" + title + "</path>";
      if (m.kind >= 2) {
        const std::string label = m.label + " (" + pct(m.p.x) + ", " + num(m.p.y, "%.3f") + ")";
        o += off_x ? text(cx - 12, cy - 8, label, "end", "point-label") : text(cx + 8, cy - 10, label, "start", "point-label");
      }
    } else if (m.kind <= 1) {
      o += "<circle class=\"" + cls + "\" cx=\"" + px(cx) + "\" cy=\"" + px(cy) + "\" r=\"4\">" + title + "</circle>";
    } else if (m.kind == 2) {
      o += "<path class=\"" + cls + "\" d=\"M" + px(cx) + " " + px(cy - 6) + " l6 6 l-6 6 l-6 -6 z\">" + title + "</path>" +
           text(cx + 8, cy - 6, m.label, "start", "point-label");
    } else {
      o += "<circle class=\"" + cls + "\" cx=\"" + px(cx) + "\" cy=\"" + px(cy) + "\" r=\"8\">" + title + "</circle>" +
           text(cx + 10, cy + 16, "chosen", "start", "point-label chosen-label");
    }
  }
  o += text(left, top + ph + 62, "dots: searched designs (hollow: infeasible); diamonds: baselines; ring: chosen; orange line: "
            "Pareto front; triangles: off the view", "start", "tick");
  return o + "</svg>";
}

std::string comparison_table(const json& r, int section) {
  const std::string objective = r.value("objective", std::string("area"));
  std::vector<std::pair<std::string, const json*>> rows;
  if (r.contains("baselines") && r["baselines"].is_object())
    for (const char* name : {"unprotected", "full_tmr", "algorithm_only", "architecture_only", "circuit_only"})
      if (r["baselines"].contains(name)) rows.push_back({name, &r["baselines"][name]});
  if (r.contains("baselines") && r["baselines"].is_object())  // any others, in file order
    for (const auto& [name, e] : r["baselines"].items())
      if (std::none_of(rows.begin(), rows.end(), [&](const auto& p) { return p.first == name; })) rows.push_back({name, &e});
  const bool have_best = r.contains("best") && r["best"].is_object();
  if (have_best) rows.push_back({"cross_layer (chosen)", &r["best"]});
  bool validated = false;
  for (const auto& [name, e] : rows) validated |= e->contains("validation") && (*e)["validation"].is_object();
  std::string o = "<table class=\"plot comparison\" id=\"comparison-" + std::to_string(section) +
                  "\" data-plot=\"comparison\" data-points=\"" + std::to_string(rows.size()) + "\">";
  o += "<thead><tr><th>design</th><th>knobs</th><th>area</th><th>energy</th><th>latency</th><th>cost (" + escape_html(objective) +
       ")</th><th>accuracy under faults " + std::string(validated ? "(validated)" : "(search)") +
       " [95%]</th><th>SDC rate (search) [95%]</th><th>clean accuracy</th><th>" +
       (validated ? "validated decision" : "decision") + "</th></tr></thead><tbody>";
  for (const auto& [name, e] : rows) {
    const json& f = validated && e->contains("validation") && (*e)["validation"].is_object() ? (*e)["validation"] : *e;
    const auto [flo, fhi] = interval(f, "faulty_accuracy_ci95");
    const auto [slo, shi] = interval(*e, "sdc_ci95");
    const std::string decision = f.value("decision", std::string());
    const bool chosen = have_best && e == &r["best"];
    o += std::string("<tr") + (chosen ? " class=\"chosen\"" : "") + "><td>" + escape_html(name) + "</td><td>" +
         escape_html(design_text(e->value("design", json()))) + "</td><td>" + pct(number(*e, "area_overhead")) + "</td><td>" +
         pct(number(*e, "energy_overhead")) + "</td><td>" + pct(number(*e, "latency_overhead")) + "</td><td>" +
         pct(objective_cost(objective, *e)) + "</td><td>" + num(number(f, "faulty_accuracy"), "%.4f") + " [" +
         num(flo, "%.4f") + ", " + num(fhi, "%.4f") + "]</td><td>" + num(number(*e, "sdc_rate"), "%.4f") + " [" +
         num(slo, "%.4f") + ", " + num(shi, "%.4f") + "]</td><td>" + num(number(f, "clean_accuracy"), "%.4f") + "</td><td class=\"" +
         (f.value("feasible", false) ? "ok" : "bad") + "\">" + escape_html(decision) + "</td></tr>";
  }
  if (!have_best)
    o += "<tr class=\"chosen\"><td>cross_layer</td><td colspan=\"9\">no feasible design found within the budget</td></tr>";
  return o + "</tbody></table>";
}

}  // namespace ftdla::report
