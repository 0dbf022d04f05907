// The HTML report: Pareto front, convergence, detection of result kinds, escaping, and the plots'
// structure on hand-made characterize and optimize results.
#include "ftdla/report/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"

namespace ftdla::report {
namespace {

using nlohmann::json;

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size())) ++n;
  return n;
}

/// The element with id `id` (from its opening tag to the matching close of `tag`; plots do not nest).
std::string element(const std::string& html, const std::string& id, const std::string& tag) {
  const size_t a = html.find("id=\"" + id + "\"");
  if (a == std::string::npos) return "";
  const size_t start = html.rfind("<" + tag, a);
  const size_t end = html.find("</" + tag + ">", a);
  return html.substr(start, end + tag.size() + 3 - start);
}

json rate(double r) { return {{"rate", r}, {"ci95", {r * 0.8, r * 1.2}}, {"sdc", 8}, {"injections", 100}}; }

/// A characterize result: `layers` layers named L0.. with `bits` BVF entries and `channels` channels each.
json characterize_result(int layers, int bits, int channels, const std::string& first_name = "conv1") {
  json ls = json::array(), ranking = json::array();
  for (int l = 0; l < layers; ++l) {
    json bvf = json::array(), ch = json::array();
    for (int b = 0; b < bits; ++b) bvf.push_back(rate(0.01 * b + 0.001 * l));
    for (int c = 0; c < channels; ++c) {
      json e = rate(0.02 * c);
      e["channel"] = c;
      ch.push_back(e);
      ranking.push_back({{"layer", l == 0 ? first_name : "L" + std::to_string(l)}, {"channel", c}, {"vf", 0.02 * c},
                         {"ci95", {0.0, 0.1}}, {"sdc_share", 0.01}});
    }
    ls.push_back({{"name", l == 0 ? first_name : "L" + std::to_string(l)}, {"neurons", 100}, {"vf", 0.05}, {"vf_ci95", {0.04, 0.06}},
                  {"bvf", bvf}, {"channels", ch}, {"sampled_neurons", json::array()}});
  }
  return {{"bits", bits}, {"layers", ls}, {"channel_ranking", ranking}, {"overall_vf", 0.05}, {"overall_vf_ci95", {0.04, 0.06}},
          {"injections", 1234}, {"seconds", 1.5}, {"completed", true},
          {"config", {{"model", "models/lenet5.onnx"}, {"site", "neuron"}, {"samples", 100}, {"images", 20}, {"seed", 1}}}};
}

json evaluation(double area, double faulty, bool feasible, const json& design = {{"preset", "none"}, {"k", 7}, {"protected", 0.1},
                                                                                  {"lanes", 2}, {"harden_bits", 1}}) {
  return {{"design", design},
          {"area_overhead", area},
          {"energy_overhead", area / 2},
          {"latency_overhead", 0.0},
          {"faulty_accuracy", faulty},
          {"faulty_accuracy_ci95", {faulty - 0.01, faulty + 0.01}},
          {"clean_accuracy", 0.9},
          {"sdc_rate", 1 - faulty},
          {"sdc_ci95", {0.9 - faulty, 1.1 - faulty}},
          {"feasible", feasible},
          {"decision", feasible ? "feasible" : "infeasible"},
          {"objective", area}};
}

json optimize_result(const std::string& method = "bo") {
  json hist = json::array();
  const double costs[] = {0.30, 0.10, 0.05, 0.20, 0.02};
  const double acc[] = {0.88, 0.86, 0.80, 0.87, 0.70};
  const bool feas[] = {true, true, false, true, false};
  for (int i = 0; i < 5; ++i) {
    json h = evaluation(costs[i], acc[i], feas[i]);
    h["source"] = i < 2 ? "initial" : method;
    hist.push_back(h);
  }
  json b = {{"unprotected", evaluation(0.0, 0.60, false, {{"preset", "unprotected"}})},
            {"full_tmr", evaluation(2.0, 0.90, true, {{"preset", "full_tmr"}})}};
  json best = evaluation(0.10, 0.86, true);
  best["validation"] = {{"faulty_accuracy", 0.855}, {"faulty_accuracy_ci95", {0.85, 0.86}}, {"clean_accuracy", 0.9},
                        {"feasible", true}, {"decision", "feasible"}};
  return {{"model", "models/lenet5.onnx"}, {"method", method}, {"objective", "area"}, {"budget", 5}, {"seed", 1},
          {"environment", {{"ber", 0.001}, {"site", "neuron"}}}, {"reliability_target", 0.85}, {"baseline_clean_accuracy", 0.9},
          {"history", hist}, {"baselines", b}, {"best", best}, {"stop_reason", "budget"}};
}

// ---- Pareto front ---------------------------------------------------------------------------------------

TEST(ReportPareto, HandMadePoints) {
  // (cost, accuracy): 0 and 2 and 4 are optimal; 1 is beaten by 2 (cheaper, more accurate); 3 by 4.
  const std::vector<Point> pts = {{0.0, 0.5}, {0.3, 0.6}, {0.2, 0.7}, {0.5, 0.8}, {0.4, 0.9}};
  EXPECT_EQ(pareto_front(pts), (std::vector<size_t>{0, 2, 4}));
}

TEST(ReportPareto, TiesDuplicatesAndNonFinite) {
  const double nan = std::nan("");
  // Same cost: only the most accurate; same accuracy: only the cheapest; exact duplicate: first only.
  const std::vector<Point> pts = {{0.1, 0.5}, {0.1, 0.6}, {0.3, 0.6}, {0.1, 0.6}, {nan, 0.99}, {0.05, nan}, {0.6, 0.95}};
  EXPECT_EQ(pareto_front(pts), (std::vector<size_t>{1, 6}));
  EXPECT_TRUE(pareto_front({}).empty());
}

TEST(ReportPareto, FrontIsExactlyTheNonDominatedSet) {
  // Brute force on a grid of points.
  std::vector<Point> pts;
  for (int i = 0; i < 40; ++i) pts.push_back({std::fmod(i * 0.37, 1.0), std::fmod(i * 0.61 + 0.2, 1.0)});
  const auto front = pareto_front(pts);
  for (size_t i = 0; i < pts.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < pts.size(); ++j)
      dominated |= j != i && pts[j].x <= pts[i].x && pts[j].y >= pts[i].y && (pts[j].x < pts[i].x || pts[j].y > pts[i].y);
    EXPECT_EQ(std::find(front.begin(), front.end(), i) != front.end(), !dominated) << i;
  }
  for (size_t k = 1; k < front.size(); ++k) EXPECT_LT(pts[front[k - 1]].x, pts[front[k]].x);
}

// ---- Costs and convergence -----------------------------------------------------------------------------

TEST(ReportConvergence, BestFeasibleSoFar) {
  const auto best = best_feasible_so_far(optimize_result()["history"]);
  ASSERT_EQ(best.size(), 5u);
  EXPECT_DOUBLE_EQ(best[0], 0.30);
  EXPECT_DOUBLE_EQ(best[1], 0.10);
  EXPECT_DOUBLE_EQ(best[2], 0.10);  // 0.05 is infeasible
  EXPECT_DOUBLE_EQ(best[3], 0.10);
  EXPECT_DOUBLE_EQ(best[4], 0.10);
  json h = json::array({evaluation(0.1, 0.5, false), evaluation(0.2, 0.9, true)});
  const auto b2 = best_feasible_so_far(h);
  EXPECT_TRUE(std::isnan(b2[0]));
  EXPECT_DOUBLE_EQ(b2[1], 0.2);
}

TEST(ReportConvergence, ObjectiveCost) {
  const json e = {{"area_overhead", 0.1}, {"energy_overhead", 0.2}};
  EXPECT_DOUBLE_EQ(objective_cost("area", e), 0.1);
  EXPECT_DOUBLE_EQ(objective_cost("energy", e), 0.2);
  EXPECT_NEAR(objective_cost("area_energy", e), 1.1 * 1.2 - 1, 1e-12);
  EXPECT_THROW(objective_cost("latency", e), ImportError);
}

TEST(ReportDesign, Text) {
  EXPECT_EQ(design_text({{"preset", "full_tmr"}}), "full_tmr");
  EXPECT_EQ(design_text({{"preset", "none"}, {"k", 7}, {"protected", 0.1}, {"lanes", 2}, {"harden_bits", 1}}), "k=7 f=0.10 U=2 h=1");
  EXPECT_EQ(design_text({{"preset", "none"}, {"k", 0}, {"k_per_layer", {{"conv1", 5}}}, {"protected", 0.0}, {"lanes", 0},
                         {"harden_bits", 0}}),
            "k=per-layer f=0.00 U=0 h=0");
}

// ---- Detection and errors --------------------------------------------------------------------------------

TEST(ReportDetect, ByFields) {
  EXPECT_EQ(detect(characterize_result(2, 8, 3), "c.json"), Kind::Characterize);
  EXPECT_EQ(detect(optimize_result(), "o.json"), Kind::Optimize);
  for (const json& j : {json::array(), json(3), json{{"model", "x"}}, json{{"history", json::array()}}}) {
    try {
      detect(j, "x.json");
      ADD_FAILURE() << j.dump();
    } catch (const ImportError& e) {
      EXPECT_NE(std::string(e.what()).find("x.json: not a ftdla characterize or optimize result"), std::string::npos) << e.what();
    }
  }
  // A characterization saved mid-run.
  try {
    detect({{"strata_sdc", {1, 2}}, {"completed", false}}, "p.json");
    ADD_FAILURE();
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("not finished"), std::string::npos) << e.what();
  }
}

TEST(ReportDetect, LoadResultErrorsAreOneLine) {
  const TempDir dir("ftdla-report");
  const std::string bad = dir.file("bad.json"), other = dir.file("other.json"), good = dir.file("good.json");
  std::ofstream(bad) << "{\"layers\": [1, 2,\n\n oops";
  std::ofstream(other) << "{\"clean_accuracy\": 0.9}";
  std::ofstream(good) << characterize_result(1, 4, 2).dump();
  for (const auto& [path, what] : std::vector<std::pair<std::string, std::string>>{
           {bad, "not valid JSON"},
           {other, "not a ftdla characterize or optimize result"},
           {dir.file("missing.json"), "cannot read"},
           {dir.path(), "it is a directory"}}) {
    try {
      load_result(path);
      ADD_FAILURE() << path;
    } catch (const ImportError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(path), std::string::npos) << m;
      EXPECT_NE(m.find(what), std::string::npos) << m;
      EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    }
  }
  EXPECT_EQ(load_result(good).source, good);
}

TEST(ReportDetect, WrongStructureNamesTheSource) {
  json c = characterize_result(1, 4, 2);
  c["layers"][0]["bvf"] = 5;  // not an array
  try {
    render({{"weird.json", c}});
    ADD_FAILURE();
  } catch (const ImportError& e) {
    EXPECT_NE(std::string(e.what()).find("weird.json"), std::string::npos) << e.what();
  }
}

// ---- Escaping ---------------------------------------------------------------------------------------------

TEST(ReportEscape, Characters) {
  EXPECT_EQ(escape_html("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(escape_html("plain"), "plain");
}

TEST(ReportEscape, TextFromJsonIsEscapedEverywhere) {
  const std::string evil = "<script>alert(\"x\")</script>&'";
  json c = characterize_result(2, 4, 3, evil);
  c["config"]["model"] = evil;
  json o = optimize_result();
  o["model"] = evil;
  o["method"] = evil;
  o["baselines"][evil] = evaluation(0.5, 0.8, true, {{"preset", evil}});
  const std::string html = render({{evil + ".json", c}, {"o.json", o}}, evil);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("\"x\""), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"), std::string::npos);
}

// ---- Plots ----------------------------------------------------------------------------------------------

TEST(ReportPlots, HeatmapHasLayersTimesBitsCells) {
  const json c = characterize_result(3, 8, 4);
  const std::string svg = heatmap_svg(c, 1);
  EXPECT_EQ(count(svg, "<rect class=\"cell\""), 3u * 8u);
  EXPECT_NE(svg.find("data-points=\"24\""), std::string::npos);
  EXPECT_NE(svg.find("id=\"heatmap-1\""), std::string::npos);
  // The most vulnerable cell gets the top of the colour scale (viridis yellow), the least the bottom.
  EXPECT_NE(svg.find("#fde725"), std::string::npos);
  EXPECT_NE(svg.find("#440154"), std::string::npos);
}

TEST(ReportPlots, ChannelsHaveOneBarPerChannelAndTopTenPercentMarked) {
  const json c = characterize_result(2, 4, 10);  // 20 channels in the ranking: the first 2 are "top"
  const std::string svg = channels_svg(c, 3);
  EXPECT_EQ(count(svg, "<rect class=\"bar"), 20u);
  EXPECT_EQ(count(svg, "<rect class=\"bar top\""), 2u);
  EXPECT_NE(svg.find("id=\"channels-3\""), std::string::npos);
  EXPECT_NE(svg.find("data-points=\"20\""), std::string::npos);
}

TEST(ReportPlots, NoChannelPlotForSitesWithoutChannels) {
  json c = characterize_result(2, 32, 0);
  c["config"]["site"] = "acc";
  const std::string html = render({{"c.json", c}});
  EXPECT_NE(html.find("id=\"heatmap-1\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"channels-1\""), std::string::npos);
  EXPECT_NE(html.find("No channel breakdown in this result (acc site)"), std::string::npos);
  EXPECT_EQ(count(html, "<rect class=\"cell\""), 64u);
}

TEST(ReportPlots, ConvergenceDrawsEveryEvaluationAndOtherRunsAlongside) {
  const json bo = optimize_result("bo"), rnd = optimize_result("random");
  const std::string one = convergence_svg(bo, {}, 1);
  EXPECT_EQ(count(one, "<circle class=\"eval\""), 5u);
  EXPECT_EQ(count(one, "<path class=\"best\""), 1u);
  const std::string two = convergence_svg(bo, {&rnd}, 1);
  EXPECT_EQ(count(two, "<circle class=\"eval\""), 10u);
  EXPECT_EQ(count(two, "<path class=\"best\""), 2u);
  EXPECT_NE(two.find(">random (seed 1)<"), std::string::npos);
  EXPECT_NE(two.find("data-points=\"10\""), std::string::npos);
}

TEST(ReportPlots, RandomSearchEmbeddedInTheResultIsDrawnAlongside) {
  json bo = optimize_result("bo");
  bo["random_search"] = {{"history", optimize_result("random")["history"]}};
  const std::string html = render({{"o.json", bo}});
  const std::string svg = element(html, "convergence-1", "svg");
  EXPECT_EQ(count(svg, "<circle class=\"eval\""), 10u);
  EXPECT_NE(svg.find(">random_search (seed 1)<"), std::string::npos);
}

TEST(ReportPlots, TradeoffMarksFrontChosenAndBaselines) {
  const std::string svg = tradeoff_svg(optimize_result(), 2);
  // 5 evaluations + 2 baselines + chosen.
  EXPECT_NE(svg.find("data-points=\"8\""), std::string::npos);
  // Points (cost, acc): (0.30,.88) (0.10,.86) (0.05,.80) (0.20,.87) (0.02,.70), unprotected (0,.60),
  // full_tmr (2,.90), chosen (0.10,.86, a duplicate of #2): front = unprotected, #5, #3, #2, #4, #1, full_tmr.
  EXPECT_NE(svg.find("data-front=\"7\""), std::string::npos);
  EXPECT_EQ(count(svg, "<circle class=\"chosen"), 1u);
  // Full TMR (+200%) is far beyond the searched designs (at most +30%): a triangle on the right edge.
  EXPECT_EQ(count(svg, "<path class=\"baseline"), 1u);
  EXPECT_EQ(count(svg, "<path class=\"offscale baseline pareto\""), 1u);
  EXPECT_NE(svg.find(">full_tmr (+200.00%, 0.900)<"), std::string::npos);
  EXPECT_EQ(count(svg, "<path class=\"front\""), 1u);
  EXPECT_EQ(count(svg, "class=\"target\""), 1u);
}

TEST(ReportPlots, ComparisonTableRowsAndIntervals) {
  const std::string t = comparison_table(optimize_result(), 2);
  EXPECT_NE(t.find("id=\"comparison-2\""), std::string::npos);
  EXPECT_EQ(count(t, "<tr"), 4u);  // header + 2 baselines + chosen
  EXPECT_NE(t.find("(validated)"), std::string::npos);
  EXPECT_NE(t.find("0.8550 [0.8500, 0.8600]"), std::string::npos);  // the chosen design's validated interval
  EXPECT_NE(t.find("<tr class=\"chosen\"><td>cross_layer (chosen)</td><td>k=7 f=0.10 U=2 h=1</td>"), std::string::npos);
  json none = optimize_result();
  none["best"] = nullptr;
  EXPECT_NE(comparison_table(none, 1).find("no feasible design found"), std::string::npos);
}

TEST(ReportDocument, SelfContainedDeterministicAndEveryPlot) {
  const std::vector<Result> in = {{"c.json", characterize_result(3, 8, 4)}, {"o.json", optimize_result()}};
  const std::string html = render(in);
  EXPECT_EQ(html, render(in));
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("http"), std::string::npos);  // no external URL of any kind (inline SVG needs no xmlns)
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  for (const char* id : {"heatmap-1", "channels-1", "convergence-2", "tradeoff-2"}) EXPECT_FALSE(element(html, id, "svg").empty()) << id;
  EXPECT_FALSE(element(html, "comparison-2", "table").empty());
  // Every <svg> is closed.
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<svg"), 4u);
}

TEST(ReportDocument, WriteReport) {
  const TempDir dir("ftdla-report");
  write_report(dir.file("r.html"), {{"o.json", optimize_result()}}, "T");
  std::ifstream in(dir.file("r.html"));
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(s.find("<title>T</title>"), std::string::npos);
  EXPECT_NE(s.find("id=\"comparison-1\""), std::string::npos);
}

}  // namespace
}  // namespace ftdla::report
