// SPDX-License-Identifier: MIT
// Internal: small helpers to write SVG plots as text (scales, ticks, axes, colours, numbers).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "ftdla/report/report.hpp"

namespace ftdla::report::svg {

/// printf-style number ("%.4g" by default); "n/a" for NaN/inf.
inline std::string num(double v, const char* fmt = "%.4g") {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}
/// A coordinate: one decimal.
inline std::string px(double v) { return num(v, "%.1f"); }
/// A fraction as a percentage with sign ("+3.25%").
inline std::string pct(double v) { return std::isfinite(v) ? num(100 * v, "%+.2f") + "%" : "n/a"; }

/// Linear map of [d0, d1] onto [r0, r1] (the middle of the range for an empty domain).
struct Scale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double operator()(double v) const { return d1 == d0 ? (r0 + r1) / 2 : r0 + (v - d0) * (r1 - r0) / (d1 - d0); }
};

/// About `n` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten); the domain is
/// widened to the outer ticks.
inline std::vector<double> nice_ticks(double& lo, double& hi, int n = 5) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, n);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag * 1.0000001) {
      step = m * mag;
      break;
    }
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> t;
  for (double v = lo; v <= hi + step * 1e-6; v += step) t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

/// Colour of t in [0, 1] on the viridis map (5 anchors, linear in between): dark purple to yellow.
inline std::string viridis(double t) {
  static const double a[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
  if (!std::isfinite(t)) t = 0;
  t = std::min(1.0, std::max(0.0, t)) * 4;
  const int i = std::min(3, static_cast<int>(t));
  const double f = t - i;
  char buf[8];
  int c[3];
  for (int k = 0; k < 3; ++k) c[k] = static_cast<int>(std::lround(a[i][k] + f * (a[i + 1][k] - a[i][k])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

/// Colours of data series, in order.
inline const char* series_colour(size_t i) {
  static const char* c[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"};
  return c[i % 6];
}

/// Opening tag of a plot.
inline std::string open(const std::string& kind, int section, double w, double h, size_t points, const std::string& label) {
  return "<svg class=\"plot\" id=\"" + kind + "-" + std::to_string(section) + "\" data-plot=\"" + kind + "\" data-points=\"" +
         std::to_string(points) + "\" viewBox=\"0 0 " + px(w) + " " + px(h) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
         "\" role=\"img\" aria-label=\"" + escape_html(label) + "\">";
}

inline std::string text(double x, double y, const std::string& s, const char* anchor = "start", const char* cls = "") {
  std::string o = "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"";
  if (*cls) o += std::string(" class=\"") + cls + "\"";
  return o + ">" + escape_html(s) + "</text>";
}

inline std::string line(double x1, double y1, double x2, double y2, const char* cls) {
  return "<line class=\"" + std::string(cls) + "\" x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
         "\"/>";
}

/// Axes with ticks, grid lines and labels around the plot area [x.r0, x.r1] x [y.r1, y.r0].
inline std::string axes(const Scale& x, const Scale& y, const std::vector<double>& xt, const std::vector<double>& yt,
                        const std::string& xlabel, const std::string& ylabel, const char* xfmt = "%g", const char* yfmt = "%g") {
  std::string o = "<g class=\"axes\">";
  for (double v : yt) {
    o += line(x.r0, y(v), x.r1, y(v), "grid");
    o += text(x.r0 - 6, y(v) + 4, num(v, yfmt), "end", "tick");
  }
  for (double v : xt) {
    o += line(x(v), y.r0, x(v), y.r0 + 5, "axis");
    o += text(x(v), y.r0 + 18, num(v, xfmt), "middle", "tick");
  }
  o += line(x.r0, y.r0, x.r1, y.r0, "axis") + line(x.r0, y.r0, x.r0, y.r1, "axis");
  o += text((x.r0 + x.r1) / 2, y.r0 + 38, xlabel, "middle", "label");
  o += "<text class=\"label\" text-anchor=\"middle\" transform=\"translate(" + px(x.r0 - 52) + "," + px((y.r0 + y.r1) / 2) +
       ") rotate(-90)\">" + escape_html(ylabel) + "</text>";
  return o + "</g>";
}

/// At most `n` bytes of s (cut on a UTF-8 character boundary, "…" appended when cut).
inline std::string shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t k = n;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return s.substr(0, k) + "\u2026";
}

}  // namespace ftdla::report::svg
