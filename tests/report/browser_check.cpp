// The HTML report in a real browser (headless Chromium, Debian's `chromium`): `ftdla report` on real
// characterize and optimize results (tests/fixtures/report/), then
//  - the DOM after Chromium parsed and laid it out: every plot present, with its data marks, and drawn
//    with a non-zero size (measured by a probe script added to a copy of the report; the report itself
//    has no script);
//  - a screenshot that is not blank (PNG decoded here with zlib: many colours, much non-white).
// Skipped (GTEST_SKIP) only when no chromium is installed. CTest label: browser.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <set>
#include <string>
#include <vector>

#include "cli/run_ftdla.hpp"
#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/core/text.hpp"

namespace ftdla::report {
namespace {

std::string fixture(const std::string& name) { return std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/report/" + name; }

/// The Chromium program: $FTDLA_CHROMIUM, else chromium or chromium-browser on PATH; "" if none.
std::string find_chromium() {
  if (const char* env = std::getenv("FTDLA_CHROMIUM"); env && *env) return env;
  for (const char* name : {"chromium", "chromium-browser"}) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return name;
  }
  return "";
}

/// Runs headless Chromium on `url` with `args`; stdout to `out`. Returns the exit status.
int chromium(const std::string& exe, const TempDir& dir, const std::string& args, const std::string& url, const std::string& out) {
  const std::string cmd = "timeout 60 " + exe + " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run " +
                          "--user-data-dir=" + shell_quote(dir.file("profile")) + " " + args + " " + shell_quote(url) + " >" +
                          shell_quote(out) + " 2>" + shell_quote(dir.file("chromium.err"));
  const int st = std::system(cmd.c_str());
  return st == -1 ? -1 : WEXITSTATUS(st);
}

// ---- PNG decoding (8-bit RGB/RGBA, non-interlaced: what Chromium writes) ----------------------------------

struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> pixels;  // 0xRRGGBB
};

uint32_t be32(const std::string& s, size_t p) {
  return (uint32_t(uint8_t(s[p])) << 24) | (uint32_t(uint8_t(s[p + 1])) << 16) | (uint32_t(uint8_t(s[p + 2])) << 8) | uint8_t(s[p + 3]);
}

Image decode_png(const std::string& png) {
  Image img;
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) throw std::runtime_error("not a PNG");
  std::string idat;
  int depth = 0, type = 0, interlace = 0;
  for (size_t p = 8; p + 8 <= png.size();) {
    const uint32_t len = be32(png, p);
    const std::string tag = png.substr(p + 4, 4);
    if (p + 12 + len > png.size()) throw std::runtime_error("truncated PNG");
    if (tag == "IHDR") {
      img.width = be32(png, p + 8);
      img.height = be32(png, p + 12);
      depth = uint8_t(png[p + 16]);
      type = uint8_t(png[p + 17]);
      interlace = uint8_t(png[p + 20]);
    } else if (tag == "IDAT") {
      idat += png.substr(p + 8, len);
    }
    p += 12 + len;
  }
  if (depth != 8 || (type != 2 && type != 6) || interlace != 0)
    throw std::runtime_error("unsupported PNG (depth " + std::to_string(depth) + ", colour type " + std::to_string(type) + ")");
  const size_t bpp = type == 6 ? 4 : 3, stride = img.width * bpp;
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf n = raw.size();
  if (uncompress(raw.data(), &n, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK || n != raw.size())
    throw std::runtime_error("cannot inflate PNG data");
  std::vector<uint8_t> prev(stride, 0), cur(stride);
  img.pixels.reserve(size_t(img.width) * img.height);
  for (uint32_t y = 0; y < img.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw std::runtime_error("bad PNG filter");
      }
      cur[i] = uint8_t(in[i] + pred);
    }
    for (uint32_t x = 0; x < img.width; ++x)
      img.pixels.push_back((uint32_t(cur[x * bpp]) << 16) | (uint32_t(cur[x * bpp + 1]) << 8) | cur[x * bpp + 2]);
    prev.swap(cur);
  }
  return img;
}

// The probe added to a copy of the report: for every plot, its rendered size and number of drawn
// elements, written into the DOM as data-probe="id:width:height:elements;...".
const char* kProbe = R"(<script>
(function () {
  var out = [];
  document.querySelectorAll('.plot').forEach(function (e) {
    var r = e.getBoundingClientRect();
    var n = e.querySelectorAll('rect,circle,path,line,tr').length;
    out.push(e.id + ':' + Math.round(r.width) + ':' + Math.round(r.height) + ':' + n);
  });
  document.body.setAttribute('data-probe', out.join(';'));
})();
</script>)";

TEST(ReportBrowser, EveryPlotRendersAndScreenshotIsNotBlank) {
  const std::string exe = find_chromium();
  if (exe.empty()) GTEST_SKIP() << "chromium not installed (apt-get install chromium, or scripts/install-deps.sh)";
  const TempDir dir("ftdla-report-browser");
  const std::string html = dir.file("report.html");
  const auto r = cli::test::run_ftdla("", {"report", fixture("characterize_lenet5.json"), fixture("optimize_lenet5_bo.json"),
                                           fixture("optimize_lenet5_random.json"), "-o", html});
  ASSERT_EQ(r.status, 0) << r.command << "\n" << r.err;
  const std::string report = read_file(html);

  // 1. DOM: parsed by Chromium, every plot there with data marks, laid out with a non-zero size.
  std::string probed = report;
  probed.insert(probed.rfind("</body>"), kProbe);
  write_file_atomic(dir.file("probed.html"), probed);
  ASSERT_EQ(chromium(exe, dir, "--dump-dom", "file://" + dir.file("probed.html"), dir.file("dom.html")), 0)
      << read_file(dir.file("chromium.err"));
  const std::string dom = read_file(dir.file("dom.html"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex("data-probe=\"([^\"]*)\""))) << dom.substr(0, 2000);
  std::map<std::string, std::vector<long>> probe;
  const std::string all = m[1];
  const std::regex entry("([a-z]+-[0-9]+):([0-9]+):([0-9]+):([0-9]+)");
  for (std::sregex_iterator it(all.begin(), all.end(), entry), end; it != end; ++it)
    probe[(*it)[1]] = {std::stol((*it)[2]), std::stol((*it)[3]), std::stol((*it)[4])};
  const std::vector<std::string> plots = {"heatmap-1", "channels-1", "convergence-2", "tradeoff-2", "comparison-2",
                                          "convergence-3", "tradeoff-3", "comparison-3"};
  for (const auto& id : plots) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(probe.count(id)) << "plot missing from the DOM; probe: " << all;
    EXPECT_GT(probe[id][0], 100) << "width";
    EXPECT_GT(probe[id][1], 50) << "height";
    EXPECT_GT(probe[id][2], 3) << "drawn elements";
    // The serialized DOM has the element with a positive data-points.
    std::smatch pm;
    ASSERT_TRUE(std::regex_search(dom, pm, std::regex("id=\"" + id + "\"[^>]*data-points=\"([0-9]+)\""))) << id;
    EXPECT_GT(std::stol(pm[1]), 0);
  }
  // The heatmap has one cell per layer and bit of the characterization; the convergence plot of the BO
  // result draws the random search's evaluations too.
  const nlohmann::json c = nlohmann::json::parse(read_file(fixture("characterize_lenet5.json")));
  size_t cells = 0;
  for (const auto& L : c["layers"]) cells += L["bvf"].size();
  EXPECT_EQ(cells, c["layers"].size() * c["bits"].get<size_t>());
  EXPECT_NE(dom.find("id=\"heatmap-1\" data-plot=\"heatmap\" data-points=\"" + std::to_string(cells) + "\""), std::string::npos);
  size_t dom_cells = 0;
  for (size_t p = dom.find("<rect class=\"cell\""); p != std::string::npos; p = dom.find("<rect class=\"cell\"", p + 1)) ++dom_cells;
  EXPECT_EQ(dom_cells, cells);
  EXPECT_NE(dom.find(">random (seed "), std::string::npos);

  // 2. Screenshot: not blank.
  const std::string png = dir.file("shot.png");
  ASSERT_EQ(chromium(exe, dir, "--hide-scrollbars --window-size=1200,2000 --screenshot=" + shell_quote(png), "file://" + html,
                     dir.file("shot.out")),
            0)
      << read_file(dir.file("chromium.err"));
  const Image img = decode_png(read_file(png));
  EXPECT_EQ(img.width, 1200u);
  EXPECT_EQ(img.height, 2000u);
  std::set<uint32_t> colours(img.pixels.begin(), img.pixels.end());
  size_t non_white = 0;
  for (uint32_t p : img.pixels) non_white += p != 0xffffff;
  EXPECT_GE(colours.size(), 50u) << "too few colours: the page did not render its plots";
  EXPECT_GT(static_cast<double>(non_white) / static_cast<double>(img.pixels.size()), 0.03) << "page almost blank";
  // The heatmap's viridis colours are on the first screen.
  size_t viridis_like = 0;
  for (uint32_t p : colours) viridis_like += ((p >> 16) & 0xff) < 120 && ((p >> 8) & 0xff) > 60 && (p & 0xff) > 60;
  EXPECT_GT(viridis_like, 5u);
}

}  // namespace
}  // namespace ftdla::report
