// Writes a ResNet-18 for 1x28x28 input as an ONNX file with seeded random (He-scaled) weights and
// BatchNormalization parameters, for benchmarks at sizes no shipped model has:
//
//   make_resnet18 [--width 64] [--seed 1] [--batch 0] -o resnet18w64.onnx
//
// Same architecture and op set as tools/train_models.py's ResNet18 (what torch.onnx exports at
// opset 13): 3x3 stem conv (stride 1, no max-pool) + BN + Relu; four stages of two BasicBlocks
// (widths w, 2w, 4w, 8w; stride 2 at the first block of stages 2-4 with a 1x1 conv + BN shortcut);
// residual Add + Relu; GlobalAveragePool, Flatten, Gemm to 10 classes. --batch 0 (default) gives a
// symbolic batch dimension "N" (ftdla and ONNX Runtime both accept it), --batch B a fixed one.
// The file is re-read with ftdla's importer before the program reports its parameters and MACs.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ftdla/core/rng.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "support/onnx_builder.hpp"

namespace {

using ftdla::test::OnnxBuilder;

struct Generator {
  OnnxBuilder b;
  ftdla::Rng rng;
  int64_t params = 0;
  int n = 0;  // running node counter for unique value names

  Generator(int64_t batch, uint64_t seed) : b({batch, 1, 28, 28}), rng(seed) {}

  std::vector<float> normal(size_t count, double std) {
    std::vector<float> v(count);
    for (auto& x : v) x = static_cast<float>(rng.normal() * std);
    return v;
  }
  std::vector<float> uniform(size_t count, double lo, double hi) {
    std::vector<float> v(count);
    for (auto& x : v) x = static_cast<float>(lo + (hi - lo) * rng.uniform());
    return v;
  }

  /// Conv (no bias, He-normal weights: std = sqrt(2 / fan_in)) followed by BatchNormalization in
  /// inference form; `gamma_hi` caps the BN scale (smaller on a block's last BN so that the
  /// residual sums of random weights do not grow too fast). Returns the BN output's name.
  std::string conv_bn(const std::string& x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                      double gamma_hi = 1.0) {
    const std::string id = std::to_string(n++);
    const std::string w = "conv" + id + ".weight";
    b.init(w, {cout, cin, k, k}, normal(static_cast<size_t>(cout * cin * k * k), std::sqrt(2.0 / static_cast<double>(cin * k * k))));
    auto* c = b.node("Conv", {x, w}, "conv" + id);
    OnnxBuilder::ints(c, "kernel_shape", {k, k});
    OnnxBuilder::ints(c, "pads", {k / 2, k / 2, k / 2, k / 2});
    OnnxBuilder::ints(c, "strides", {stride, stride});
    OnnxBuilder::ints(c, "dilations", {1, 1});
    OnnxBuilder::i(c, "group", 1);
    const std::string p = "bn" + id;
    const auto cn = static_cast<size_t>(cout);
    b.init(p + ".weight", {cout}, uniform(cn, 0.5 * gamma_hi, gamma_hi));
    b.init(p + ".bias", {cout}, uniform(cn, -0.1, 0.1));
    b.init(p + ".running_mean", {cout}, uniform(cn, -0.1, 0.1));
    b.init(p + ".running_var", {cout}, uniform(cn, 0.5, 1.5));
    auto* bn = b.node("BatchNormalization", {"conv" + id, p + ".weight", p + ".bias", p + ".running_mean", p + ".running_var"}, p);
    OnnxBuilder::f(bn, "epsilon", 1e-5f);
    OnnxBuilder::f(bn, "momentum", 0.9f);
    params += cout * cin * k * k + 2 * cout;  // weights + BN scale/shift (running stats are buffers)
    return p;
  }

  std::string relu(const std::string& x) {
    const std::string y = "relu" + std::to_string(n++);
    b.node("Relu", {x}, y);
    return y;
  }

  std::string basic_block(const std::string& x, int64_t cin, int64_t cout, int64_t stride) {
    const std::string a = relu(conv_bn(x, cin, cout, 3, stride));
    const std::string r = conv_bn(a, cout, cout, 3, 1, 0.5);
    const std::string sc = (stride != 1 || cin != cout) ? conv_bn(x, cin, cout, 1, stride, 0.5) : x;
    const std::string s = "add" + std::to_string(n++);
    b.node("Add", {r, sc}, s);
    return relu(s);
  }

  std::string build(int64_t w) {
    std::string x = relu(conv_bn("input", 1, w, 3, 1));
    int64_t cin = w;
    const int64_t widths[] = {w, 2 * w, 4 * w, 8 * w};
    for (int s = 0; s < 4; ++s) {
      x = basic_block(x, cin, widths[s], s == 0 ? 1 : 2);
      x = basic_block(x, widths[s], widths[s], 1);
      cin = widths[s];
    }
    b.node("GlobalAveragePool", {x}, "gap");
    OnnxBuilder::i(b.node("Flatten", {"gap"}, "flat"), "axis", 1);
    b.init("fc.weight", {10, cin}, normal(static_cast<size_t>(10 * cin), std::sqrt(1.0 / static_cast<double>(cin))));
    b.init("fc.bias", {10}, uniform(10, -0.1, 0.1));
    auto* fc = b.node("Gemm", {"flat", "fc.weight", "fc.bias"}, "logits");
    OnnxBuilder::f(fc, "alpha", 1.0f);
    OnnxBuilder::f(fc, "beta", 1.0f);
    OnnxBuilder::i(fc, "transB", 1);
    params += 10 * cin + 10;
    return b.finish("logits");
  }
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr, "make_resnet18: %s\nusage: make_resnet18 [--width W] [--seed S] [--batch B (0 = symbolic N)] -o OUT.onnx\n", msg);
  std::exit(2);
}

int64_t parse_int(const char* s, const char* what, int64_t lo) {
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (!end || *end || end == s || v < lo) usage((std::string("bad ") + what + " '" + s + "'").c_str());
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t width = 64, batch = 0;
  uint64_t seed = 1;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    if (a == "--width") width = parse_int(argv[++i], "--width", 1);
    else if (a == "--seed") seed = static_cast<uint64_t>(parse_int(argv[++i], "--seed", 0));
    else if (a == "--batch") batch = parse_int(argv[++i], "--batch", 0);
    else if (a == "-o" || a == "--out") out = argv[++i];
    else usage(("unknown option " + a).c_str());
  }
  if (out.empty()) usage("-o OUT.onnx is required");

  Generator g(batch == 0 ? 1 : batch, seed);
  std::string bytes = g.build(width);
  if (batch == 0) {  // the builder writes fixed dims: make the batch symbolic
    onnx::ModelProto m;
    if (!m.ParseFromString(bytes)) usage("internal error: could not re-parse the built model");
    auto* d0 = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0);
    d0->set_dim_param("N");
    m.set_producer_name("ftdla make_resnet18");
    bytes = m.SerializeAsString();
  }
  {
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::fprintf(stderr, "make_resnet18: cannot write %s\n", out.c_str());
      return 1;
    }
  }
  const ftdla::model::Graph graph = ftdla::model::load_onnx(out);
  std::printf("%s: ResNet-18 width %lld (seed %llu, batch %s): %lld parameters, %lld MACs per image, %zu bytes\n",
              out.c_str(), static_cast<long long>(width), static_cast<unsigned long long>(seed),
              batch == 0 ? "N" : std::to_string(batch).c_str(), static_cast<long long>(g.params),
              static_cast<long long>(graph.total_macs()), bytes.size());
  return 0;
}
