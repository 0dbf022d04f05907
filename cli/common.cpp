// SPDX-License-Identifier: MIT
#include "common.hpp"

#include <omp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <iostream>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/dist.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/json.hpp"
#include "ftdla/core/hash.hpp"
#include "ftdla/core/resources.hpp"

namespace ftdla::cli {

nlohmann::json read_json(const std::string& path, const std::string& what) {
  return parse_json<ConfigError>(read_file(path), what + " " + path);
}

std::string default_model_path() { return std::string(FTDLA_MODELS_DIR) + "/lenet5.onnx"; }

void ModelArgs::add_to(CLI::App& app, bool with_quant, bool with_bits, std::string bits_from) {
  model = default_model_path();
  app.add_option("model", model, "ONNX model (default: the shipped LeNet-5)");
  app.add_option("--data", data,
                 "test images: a directory with IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]), or a .npy "
                 "file [N,C,H,W] or [N,H,W], uint8 (scaled to [0,1]) or float32 (taken as is), with --labels; .npy images "
                 "also serve as calibration images");
  app.add_option("--labels", labels, ".npy labels for .npy --data: 1-D [N], int64, int32 or uint8");
  app.add_option("--mean", mean,
                 "subtract from each pixel (after uint8 /255): one value, or one per channel (0.49,0.48,0.45); for models "
                 "trained with normalization outside the graph");
  app.add_option("--std", std, "divide (pixel - mean) by this: one value, or one per channel");
  if (!with_quant) return;
  bits_from_ = std::move(bits_from);
  if (with_bits) {
    app.add_option("--wbits", wbits, "weight bits W [2, 16]");
    app.add_option("--abits", abits, "activation bits A [2, 16]");
    app.add_option("--accbits", accbits, "accumulator bits P [8, 32]");
  } else {
    // Accepted by the parser only to say where the bit widths come from (hidden from the help).
    unused_.push_back(app.add_option("--wbits", wbits)->group(""));
    unused_.push_back(app.add_option("--abits", abits)->group(""));
    unused_.push_back(app.add_option("--accbits", accbits)->group(""));
  }
  calib_opts_.push_back(app.add_option("--calib", calib, "calibration: minmax | percentile"));
  percentile_opt_ = app.add_option("--percentile", percentile, "percentile for --calib percentile, in (50, 100]");
  calib_opts_.push_back(percentile_opt_);
  calib_opts_.push_back(app.add_option("--calib-images", calib_images, "calibration images: the first N training images (with .npy --data, of those images)")->check(kNonNegative));
  calib_opts_.push_back(app.add_option("--calib-data", calib_data,
                                       "calibrate on these .npy images instead ([N,C,H,W] or [N,H,W], uint8 or float32; "
                                       "--mean/--std apply; no labels needed)"));
  quant_opts_ = calib_opts_;
  quant_opts_.push_back(app.add_option("--range", range, "range constraint k < A: clip (keep the A-bit step, clip the range) | rescale (MSE)"));
  quant_opts_.push_back(app.add_option("--quantization", quantization,
                                       "auto (the model's own scales if it has QuantizeLinear/DequantizeLinear or QLinear ops, "
                                       "else calibrate) | model | calibrate (re-quantize a pre-quantized model)")
                            ->check(CLI::IsMember({"auto", "model", "calibrate"})));
  quant_opts_.push_back(app.add_option("--requant", requant,
                                       "requantization: auto (float for the model's own scales, else fixed) | fixed "
                                       "(gemmlowp/TFLite int32 multiplier + shift) | float (ONNX Runtime: float32 scale, "
                                       "round half to even)")
                            ->check(CLI::IsMember({"auto", "fixed", "float"})));
  if (with_bits)
    for (const char* name : {"--wbits", "--abits", "--accbits"}) quant_opts_.push_back(app.get_option(name));
}

std::vector<std::string> ModelArgs::quant_options_given() const {
  std::vector<std::string> given;
  for (const CLI::Option* o : quant_opts_)
    if (o->count() > 0) given.push_back("--" + o->get_lnames().front());
  return given;
}

void ModelArgs::check_unused() const {
  for (const CLI::Option* o : unused_)
    if (o->count() > 0)
      throw ConfigError("--" + o->get_lnames().front() + ": not used by this command; " + bits_from_);
}

std::vector<float> parse_float_list(const std::string& text, const std::string& option) {
  std::vector<float> v;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string tok = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    tok.erase(0, tok.find_first_not_of(' '));
    tok.erase(tok.find_last_not_of(' ') + 1);
    float x = 0;
    if (tok.empty() || !CLI::detail::lexical_cast(tok, x))
      throw ConfigError(option + ": expected a number or a comma list of numbers, one per channel (got '" + text + "')");
    v.push_back(x);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return v;
}

const CLI::Validator kNonNegative(
    [](std::string& s) -> std::string {
      const size_t i = s.find_first_not_of(' ');
      if (i != std::string::npos && s[i] == '-') return "must be >= 0 (got " + s + ")";
      return "";
    },
    "", "");

namespace {
std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void check_writable_dir(const std::string& dir, const std::string& option, const std::string& path) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0)
    throw ConfigError(option + ": cannot write " + path + ": directory " + dir + " does not exist");
  if (!S_ISDIR(st.st_mode)) throw ConfigError(option + ": cannot write " + path + ": " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw ConfigError(option + ": cannot write " + path + ": directory " + dir + " is not writable");
}
}  // namespace

void check_output_file(const std::string& path, const std::string& option) {
  if (path.empty() || path == "-") return;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw ConfigError(option + ": cannot write " + path + ": it is a directory");
    if (!S_ISREG(st.st_mode)) throw ConfigError(option + ": cannot write " + path + ": not a regular file");
    if (::access(path.c_str(), W_OK) != 0) throw ConfigError(option + ": cannot write " + path + ": file is not writable");
  }
  // Files are written atomically (a temporary in the same directory, renamed): the directory must be writable.
  check_writable_dir(parent_dir(path), option, path);
}

void check_output_dir(const std::string& path, const std::string& option) {
  if (path.empty()) return;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw ConfigError(option + ": " + path + " exists and is not a directory");
    check_writable_dir(path, option, path);
    return;
  }
  check_writable_dir(parent_dir(path), option, path);
}

void warn_deprecated(const std::string& old_name, const std::string& new_name) {
  if (dist::is_root()) std::fprintf(stderr, "ftdla: warning: %s is deprecated, use %s\n", old_name.c_str(), new_name.c_str());
}

namespace {
int g_json_fd = -1;
bool g_quiet = false;
}  // namespace

void json_to_stdout() {
  if (!dist::is_root() || g_json_fd >= 0) return;  // the other ranks' stdout is /dev/null already
  std::fflush(stdout);
  std::cout.flush();
  g_json_fd = ::dup(STDOUT_FILENO);
  if (g_json_fd < 0) throw Error("--json -: cannot duplicate stdout");
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
}

bool quiet() { return g_quiet; }
void set_quiet(bool q) { g_quiet = q; }

quant::QuantOptions ModelArgs::quant_options() const {
  quant::QuantOptions q;
  q.wbits = wbits;
  q.abits = abits;
  q.accbits = accbits;
  if (calib == "minmax") q.calib = quant::CalibMethod::MinMax;
  else if (calib == "percentile") q.calib = quant::CalibMethod::Percentile;
  else throw ConfigError("--calib: unknown method '" + calib + "' (expected minmax or percentile)");
  if (percentile_opt_ && percentile_opt_->count() > 0 && q.calib != quant::CalibMethod::Percentile)
    throw ConfigError("--percentile: only used with --calib percentile (got --calib " + calib + ")");
  q.percentile = percentile;
  q.calib_images = calib_images;
  if (range == "clip") q.range = quant::RangeMode::Clip;
  else if (range == "rescale") q.range = quant::RangeMode::Rescale;
  else throw ConfigError("--range: unknown mode '" + range + "' (expected clip or rescale)");
  q.source = quantization == "model" ? quant::QuantSource::Model
             : quantization == "calibrate" ? quant::QuantSource::Calibrate : quant::QuantSource::Auto;
  q.requant = requant == "fixed" ? quant::RequantMode::FixedPoint
              : requant == "float" ? quant::RequantMode::Float : quant::RequantMode::Auto;
  for (const CLI::Option* o : calib_opts_) q.calibration_given |= o->count() > 0;
  q.validate();
  return q;
}

data::DataOptions ModelArgs::data_options(int64_t limit) const {
  data::DataOptions d;
  const std::vector<float> m = parse_float_list(mean, "--mean"), s = parse_float_list(std, "--std");
  for (const float x : s)
    if (!(x > 0.0f)) throw ConfigError("--std: every value must be > 0 (got '" + std + "')");
  if (m.size() == 1) d.mean = m[0];
  else d.mean_per_channel = m;
  if (s.size() == 1) d.std = s[0];
  else d.std_per_channel = s;
  d.limit = limit;
  d.validate();
  return d;
}

void write_json(const std::string& path, const nlohmann::json& j) {
  if (!dist::is_root()) return;
  if (path == "-") {
    const std::string text = j.dump(2) + "\n";
    if (g_json_fd < 0) {
      std::cout << text << std::flush;
      return;
    }
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(g_json_fd, text.data() + done, text.size() - done);
      if (n <= 0) throw Error("--json -: cannot write to stdout");
      done += static_cast<size_t>(n);
    }
    return;
  }
  write_file_atomic(path, j.dump(2) + "\n");
}

double job_peak_rss_mb() {
  double mb = peak_rss_mb();
  dist::allreduce_max(&mb, 1);
  return mb;
}

void add_run_info(nlohmann::json& j, double peak_rss) {
  j["ranks"] = dist::size();
  j["threads"] = omp_get_max_threads();
  j["peak_rss_mb"] = peak_rss;
}

int64_t parse_bytes(const std::string& text, const std::string& option) {
  auto fail = [&](const std::string& why) {
    return ConfigError(option + ": " + why + " (got '" + text + "')");
  };
  const std::string expected = "expected a positive number of bytes, optionally with a K, M, G or T suffix such as 4G or 512M";
  size_t i = 0;
  const size_t n = text.size();
  std::string whole, frac;
  while (i < n && std::isdigit(static_cast<unsigned char>(text[i]))) whole += text[i++];
  if (i < n && text[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(text[i]))) frac += text[i++];
  }
  if (whole.empty() && frac.empty()) throw fail(expected);
  while (i < n && text[i] == ' ') ++i;
  std::string unit;
  for (; i < n; ++i) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  int shift = -1;
  const char* const prefixes = "kmgt";
  if (unit.empty() || unit == "b") shift = 0;
  else if (const char* p = std::strchr(prefixes, unit[0]); p && *p && (unit.size() == 1 || unit.substr(1) == "b" || unit.substr(1) == "ib"))
    shift = 10 * static_cast<int>(p - prefixes + 1);
  if (shift < 0) throw fail(expected);
  if (shift == 0 && frac.find_first_not_of('0') != std::string::npos) throw fail("must be a whole number of bytes");
  // value = (whole + frac / 10^f) * 2^shift, rounded down, computed exactly in 128 bits.
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size()));
  frac.resize(std::min<size_t>(frac.size(), 18));  // finer than 2^40 * 10^-18 < 10^-5 bytes: no effect
  const auto max = static_cast<unsigned __int128>(INT64_MAX);
  if (whole.size() > 19) throw fail("too large (at most 2^63 - 1 bytes)");
  unsigned __int128 w = 0, f = 0, scale = 1;
  for (const char c : whole) w = w * 10 + static_cast<unsigned>(c - '0');
  for (const char c : frac) {
    f = f * 10 + static_cast<unsigned>(c - '0');
    scale *= 10;
  }
  if (w > max) throw fail("too large (at most 2^63 - 1 bytes)");
  const unsigned __int128 value = (w << shift) + ((f << shift) / scale);
  if (value > max) throw fail("too large (at most 2^63 - 1 bytes)");
  if (value == 0) throw fail("must be at least 1 byte");
  return static_cast<int64_t>(value);
}

std::string format_bytes(int64_t bytes) {
  static const char* const units[] = {"TiB", "GiB", "MiB", "KiB"};
  for (int u = 0; u < 4; ++u) {
    const int shift = 10 * (4 - u);
    if (bytes > 0 && bytes % (int64_t{1} << shift) == 0) return std::to_string(bytes >> shift) + units[u];
  }
  return std::to_string(bytes);
}

void MemoryArgs::add_to(CLI::App& app) {
  max_memory = format_bytes(fault::kDefaultMaxMemory);
  app.add_option("--max-memory", max_memory,
                 "memory bound for the golden runs: their registers are kept if they fit in half of it, else "
                 "recomputed per image (bytes, or with a K/M/G/T suffix: 512M, 4G)")
      ->type_name("SIZE")
      ->capture_default_str();
}

void add_memory_info(nlohmann::json& j, int64_t max_memory, bool golden_stored, int64_t golden_bytes) {
  constexpr double kMiB = 1024.0 * 1024.0;
  j["max_memory_mb"] = static_cast<double>(max_memory) / kMiB;
  j["golden_stored"] = golden_stored;
  j["golden_mb"] = static_cast<double>(golden_bytes) / kMiB;
}

nlohmann::json to_json(const ModelArgs& a) {
  // One value stays a number (as before per-channel values existed), several are a list.
  auto values = [](const std::string& text, const char* option) {
    const std::vector<float> v = parse_float_list(text, option);
    return v.size() == 1 ? nlohmann::json(v[0]) : nlohmann::json(v);
  };
  nlohmann::json j = {{"model", a.model}, {"data", a.data}, {"mean", values(a.mean, "--mean")}, {"std", values(a.std, "--std")},
                      {"wbits", a.wbits}, {"abits", a.abits}, {"accbits", a.accbits}, {"calib", a.calib},
                      {"percentile", a.percentile}, {"calib_images", a.calib_images}, {"range", a.range},
                      {"quantization_option", a.quantization}, {"requant_option", a.requant}};
  if (!a.labels.empty()) j["labels"] = a.labels;
  if (!a.calib_data.empty()) j["calib_data"] = a.calib_data;
  return j;
}

std::string model_fingerprint(const ModelArgs& a) { return hex64(fnv1a64(read_file(a.model))); }

}  // namespace ftdla::cli

#include <unistd.h>

#include <csignal>

#include "ftdla/model/onnx_import.hpp"
#include "ftdla/quant/calibrate.hpp"

namespace ftdla::cli {

void AccelArgs::add_to(CLI::App& app) {
  app.add_option("--rows", rows, "PE array rows R")->check(kNonNegative);
  app.add_option("--cols", cols, "PE array columns C")->check(kNonNegative);
  app.add_option("--dataflow", dataflow, "ws (weight-stationary) | os (output-stationary)");
}

accel::ArraySpec AccelArgs::spec() const {
  accel::ArraySpec s;
  s.rows = rows;
  s.cols = cols;
  s.dataflow = accel::parse_dataflow(dataflow);
  s.validate();
  return s;
}

nlohmann::json to_json(const AccelArgs& a) { return {{"rows", a.rows}, {"cols", a.cols}, {"dataflow", a.dataflow}}; }

std::unique_ptr<InjectionSetup> load_for_injection(const ModelArgs& m, const AccelArgs& a, int64_t images,
                                                   int64_t max_memory) {
  auto s = std::make_unique<InjectionSetup>();
  const quant::QuantOptions qo = m.quant_options();
  const accel::ArraySpec as = a.spec();
  s->graph = model::load_onnx(m.model);
  s->test = data::load(m.source(), "test", m.data_options(images));
  quant::check_input_fits(s->graph, s->test);
  quant::check_labels(s->graph, s->test);
  s->calib = data::load(m.source(), "train", m.data_options(qo.calib_images));
  s->q = quant::quantize(s->graph, s->calib, qo);
  s->engine = std::make_unique<engine::IntegerEngine>(s->q);
  s->mapping = accel::map_network(s->q, as);
  s->injector = std::make_unique<fault::Injector>(*s->engine, s->mapping);
  s->golden = std::make_unique<fault::GoldenSet>(*s->engine, s->test, images, max_memory);
  return s;
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>& install_stop_handler() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  return g_stop;
}

Progress::Progress(std::string label)
    : label_(std::move(label)), tty_(dist::is_root() && !quiet() && ::isatty(2) != 0), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::operator()(int64_t done, int64_t total) {
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const double secs = std::chrono::duration<double>(now - start_).count();
  const int width = 30, filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  const double eta = frac > 0 ? secs * (1 - frac) / frac : 0.0;
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %5.1f%% %.0fs left ", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total), 100 * frac, eta);
}

void Progress::finish() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace ftdla::cli
