// Differential test of the int8 kernels against the reference scalar engine (accumulate_ref,
// requantize_all_ref): random single-layer graphs over shapes, groups (incl. depthwise), strides,
// dilations, padding, zero points, W and A from 2 to 8, P from 8 to 32, and every ISA this CPU has.
#include "ftdla/engine/kernels.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include <omp.h>

#include <climits>
#include <cmath>

#include "ftdla/core/bits.hpp"
#include "ftdla/core/rng.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/engine/winograd.hpp"
#include "support/models.hpp"

namespace ftdla::engine {
namespace {

int64_t uniform_int(Rng& r, int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(r.below(static_cast<uint64_t>(hi - lo + 1))); }

enum class Wino { No, Alone, Stacked };

/// A one-layer integer graph (Conv or Gemm) with random geometry, weights, bias, zero point and requantization;
/// with `winograd`, a 3x3 stride-1 convolution of the sizes that take the Winograd path on one image (Alone),
/// or only as a group's stacked images (Stacked: small maps, padding 1).
quant::QGraph random_layer(Rng& r, bool gemm, Wino winograd = Wino::No) {
  quant::QGraph q;
  q.options.wbits = static_cast<int>(uniform_int(r, 2, 8));
  q.options.abits = static_cast<int>(uniform_int(r, 2, 8));
  q.options.accbits = static_cast<int>(uniform_int(r, 8, 32));
  model::Graph& g = q.graph;
  model::Node node;
  node.name = "layer";
  node.inputs = {0};
  node.output = 1;
  Shape in_shape, out_shape;
  if (gemm) {
    node.op = model::OpKind::Gemm;
    const int64_t k = uniform_int(r, 1, 300), n = uniform_int(r, 1, 40);
    node.weight = Tensor<float>({n, k});
    in_shape = {k};
    out_shape = {n};
  } else {
    node.op = model::OpKind::Conv;
    const int64_t groups_kind = uniform_int(r, 0, 3);
    int64_t cg = groups_kind == 3 ? 1 : uniform_int(r, 1, 6);
    node.groups = groups_kind == 0 ? 1 : groups_kind == 3 ? uniform_int(r, 1, 8) : uniform_int(r, 2, 3);
    int64_t n_per_group = groups_kind == 3 ? 1 : uniform_int(r, 1, 14);
    model::Window& w = node.window;
    w.kernel_h = uniform_int(r, 1, 5);
    w.kernel_w = uniform_int(r, 1, 5);
    w.stride_h = uniform_int(r, 1, 3);
    w.stride_w = uniform_int(r, 1, 3);
    w.dilation_h = uniform_int(r, 1, 2);
    w.dilation_w = uniform_int(r, 1, 2);
    for (auto& p : w.pads) p = uniform_int(r, 0, 2);
    int64_t h = uniform_int(r, 1, 14), wd = uniform_int(r, 1, 14);
    if (winograd != Wino::No) {
      node.groups = 1;
      cg = uniform_int(r, 4, 40);
      n_per_group = uniform_int(r, 1, 20);
      w.kernel_h = w.kernel_w = 3;
      w.stride_h = w.stride_w = w.dilation_h = w.dilation_w = 1;
      h = uniform_int(r, 3, 24);
      wd = uniform_int(r, 3, 24);
      if (winograd == Wino::Stacked) {
        h = uniform_int(r, 1, 6);
        wd = uniform_int(r, 1, 6);
        for (auto& p : w.pads) p = 1;
      }
    }
    const int64_t oh = model::window_out_extent(h, w.kernel_h, w.stride_h, w.dilation_h, w.pads[0], w.pads[2], false);
    const int64_t ow = model::window_out_extent(wd, w.kernel_w, w.stride_w, w.dilation_w, w.pads[1], w.pads[3], false);
    const bool alone = oh >= 1 && ow >= 1 && kernels::winograd_pays(cg, oh, ow);
    if (oh < 1 || ow < 1 || (winograd == Wino::Alone && !alone) ||
        (winograd == Wino::Stacked && (alone || !kernels::winograd_pays(cg, oh, IntegerEngine::stacked_cols(ow, 8)))))
      return random_layer(r, gemm, winograd);
    node.weight = Tensor<float>({node.groups * n_per_group, cg, w.kernel_h, w.kernel_w});
    in_shape = {node.groups * cg, h, wd};
    out_shape = {node.groups * n_per_group, oh, ow};
  }
  g.values = {{"x", in_shape}, {"y", out_shape}};
  g.input = 0;
  g.output = 1;
  q.input = 0;
  q.output = 1;
  const int64_t rows = node.weight.shape[0], k = numel(node.weight.shape) / rows;
  g.nodes.push_back(node);

  quant::Encoding in;
  in.bits = q.options.abits;
  in.is_signed = r.below(2) == 1;
  if (in.is_signed) {
    in.qmin = -(1 << (in.bits - 1));
    in.qmax = (1 << (in.bits - 1)) - 1;
    in.zero_point = static_cast<int32_t>(uniform_int(r, in.qmin, in.qmax));
  } else {
    in.qmin = 0;
    in.qmax = (1 << in.bits) - 1;
  }
  quant::Encoding out;
  out.bits = q.options.abits;
  out.is_signed = r.below(2) == 1;
  out.zero_point = out.is_signed ? static_cast<int32_t>(uniform_int(r, -20, 20)) : 0;
  q.enc = {in, out};

  quant::QLayer L;
  L.name = "layer";
  L.node = 0;
  L.inputs = {0};
  L.output = 1;
  const int32_t wmax = (1 << (q.options.wbits - 1)) - 1;
  L.weight.resize(static_cast<size_t>(rows * k));
  for (auto& v : L.weight) v = static_cast<int32_t>(uniform_int(r, -wmax, wmax));
  for (int64_t i = 0; i < rows; ++i) {
    // Biases over the whole int32 range half the time: the P-bit wrap is exercised constantly.
    L.bias.push_back(static_cast<int32_t>(r.below(2) ? uniform_int(r, INT32_MIN, INT32_MAX) : uniform_int(r, -5000, 5000)));
    L.requant.push_back(quant::quantize_multiplier(std::exp(uniform_int(r, -200, 30) / 10.0)));
  }
  L.act_min = out.is_signed ? -(1 << (out.bits - 1)) : 0;
  L.act_max = out.is_signed ? (1 << (out.bits - 1)) - 1 : (1 << out.bits) - 1;
  q.layers.push_back(L);
  return q;
}

/// Run `cases` random layers; every ISA's accumulators and requantized outputs must equal the reference.
void differential(int64_t cases, uint64_t seed) {
  const std::vector<kernels::Isa> isas = kernels::supported_isas();
  const kernels::Isa saved = kernels::active_isa();
  int64_t compared = 0;
  for (int64_t c = 0; c < cases; ++c) {
    Rng r = Rng::derive(seed, static_cast<uint64_t>(c));
    const quant::QGraph q = random_layer(r, r.below(5) == 0);
    const IntegerEngine e(q);
    ASSERT_TRUE(e.fast_layer(0));
    const quant::Encoding& in = q.enc[0];
    std::vector<int32_t> input(static_cast<size_t>(numel(q.graph.values[0].shape)));
    const bool extremes = r.below(4) == 0;  // all-min / all-max operands: largest sums
    for (auto& v : input) v = static_cast<int32_t>(extremes ? (r.below(2) ? in.qmin : in.qmax) : uniform_int(r, in.qmin, in.qmax));
    std::vector<int32_t> acc_ref, out_ref, acc, out;
    e.accumulate_ref(0, input, acc_ref);
    e.requantize_all_ref(0, acc_ref, out_ref);
    for (kernels::Isa isa : isas) {
      if (isa == kernels::Isa::Scalar) continue;
      kernels::set_isa(isa);
      e.accumulate(0, input, acc);
      ASSERT_EQ(acc, acc_ref) << "case " << c << " isa " << kernels::isa_name(isa) << " W" << q.options.wbits << " A"
                              << q.options.abits << " P" << q.options.accbits;
      e.requantize_all(0, acc, out);
      ASSERT_EQ(out, out_ref) << "case " << c << " isa " << kernels::isa_name(isa);
      ++compared;
    }
  }
  kernels::set_isa(saved);
  if (isas.size() > 1) {
    EXPECT_GE(compared, cases);
  }
}

TEST(Kernels, DifferentialAgainstReference) { differential(100000, 20261201); }

TEST(Kernels, GroupedLayersEqualOneImageAtATime) {
  // Several images in one GEMM (run_layer_group): each image's accumulators and outputs equal run_layer's
  // on that image alone, for convolutions and fully connected layers, fixed-point and float requantization,
  // chunked or not, on every ISA.
  const kernels::Isa saved = kernels::active_isa();
  int64_t grouped = 0, chunked = 0, stacked_cases = 0;
  for (int64_t c = 0; c < 1500; ++c) {
    Rng r = Rng::derive(20261208, static_cast<uint64_t>(c));
    // A third: 3x3 layers on maps small enough that only a group's stacked images take Winograd.
    const bool stacked = c % 3 == 0;
    quant::QGraph q = stacked ? random_layer(r, false, Wino::Stacked) : random_layer(r, r.below(4) == 0);
    if (q.graph.nodes[0].groups != 1) continue;
    if (r.below(4) == 0) {
      q.float_requant = true;
      for (size_t j = 0; j < q.layers[0].requant.size(); ++j)
        q.layers[0].requant_scale.push_back(static_cast<float>(std::exp(uniform_int(r, -120, 0) / 10.0)));
    }
    IntegerEngine e(q);
    const size_t n = static_cast<size_t>(uniform_int(r, 2, 12));
    const int64_t panel = (q.layers[0].weight.size() / q.layers[0].bias.size() + 3) / 4 * 4 * e.pixels(0);  // one image's
    const bool chunks = r.below(3) == 0;
    if (chunks) e.set_group_panel_bytes(panel * uniform_int(r, 0, static_cast<int64_t>(n) - 1));
    const quant::Encoding& in = q.enc[0];
    std::vector<Trace> want(n);
    for (Trace& t : want) {
      t.values.resize(2);
      t.acc.resize(1);
      t.values[0].resize(static_cast<size_t>(numel(q.graph.values[0].shape)));
      const bool extremes = r.below(4) == 0;
      for (auto& v : t.values[0]) v = static_cast<int32_t>(extremes ? (r.below(2) ? in.qmin : in.qmax) : uniform_int(r, in.qmin, in.qmax));
    }
    const std::vector<Trace> inputs = want;
    kernels::set_isa(kernels::Isa::Scalar);
    for (Trace& t : want) e.run_layer(0, t);
    for (kernels::Isa isa : kernels::supported_isas()) {
      if (isa == kernels::Isa::Scalar) continue;
      kernels::set_isa(isa);
      ASSERT_TRUE(e.grouped_layer(0)) << "case " << c;
      if (stacked && isa == kernels::Isa::Avx2) {
        ASSERT_FALSE(e.winograd_layer(0));
        const int64_t ow = q.graph.values[1].shape[2], oh = e.pixels(0) / ow;
        const int64_t c_in = static_cast<int64_t>(q.layers[0].weight.size() / q.layers[0].bias.size() / 9);
        ASSERT_EQ(e.winograd_stacks(0, n), kernels::winograd_pays(c_in, oh, IntegerEngine::stacked_cols(ow, n)));
        stacked_cases += e.winograd_stacks(0, n);
      }
      std::vector<Trace> got = inputs;
      e.run_layer_group(0, got.data(), n);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i].acc, want[i].acc) << "case " << c << " image " << i << " " << kernels::isa_name(isa);
        ASSERT_EQ(got[i].values, want[i].values) << "case " << c << " image " << i << " " << kernels::isa_name(isa);
      }
      ++grouped;
      chunked += chunks;
    }
  }
  kernels::set_isa(saved);
  if (kernels::supported_isas().size() > 1) {
    EXPECT_GE(grouped, 500);
    EXPECT_GE(chunked, 100);
  }
  if (std::ranges::any_of(kernels::supported_isas(), kernels::winograd_available)) {
    EXPECT_GE(stacked_cases, 200);
  }
}

TEST(Kernels, BatchesInGroupsGiveEachImagesTrace) {
  // run_batch / predict_batch run groups of images layer by layer: the same registers as run() per image,
  // for every group size the thread count gives.
  const int saved_threads = omp_get_max_threads();
  for (const char* name : test::kShippedModels) {
    const test::Quantized& m = test::quantized(name);
    std::vector<const float*> images;
    std::vector<Trace> want(13);
    for (size_t i = 0; i < want.size(); ++i) {
      images.push_back(test::test_set().image(static_cast<int64_t>(i)));
      m.engine->run(images[i], want[i]);
    }
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      for (size_t n : {2, 5, 13}) {
        std::vector<Trace> got(n);
        m.engine->run_batch(images.data(), got.data(), n);
        std::vector<int> top1(n, -1);
        m.engine->predict_batch(images.data(), top1.data(), n);
        for (size_t i = 0; i < n; ++i) {
          ASSERT_EQ(got[i].values, want[i].values) << name << " n " << n << " image " << i;
          ASSERT_EQ(got[i].acc, want[i].acc) << name << " n " << n << " image " << i;
          EXPECT_EQ(top1[i], m.engine->predict(want[i])) << name << " n " << n << " image " << i;
        }
      }
    }
  }
  omp_set_num_threads(saved_threads);
}

TEST(Kernels, GroupsOfImagesKeepTheirTracesWithinTheBound) {
  // trace_bytes is what a run's trace holds; groups shrink so that all threads' traces stay in the bound.
  for (const char* name : test::kShippedModels) {
    const test::Quantized& m = test::quantized(name);
    Trace t;
    m.engine->run(test::test_set().image(0), t);
    int64_t bytes = 0;
    for (const auto& v : t.values) bytes += static_cast<int64_t>(v.size()) * 4;
    for (const auto& a : t.acc) bytes += static_cast<int64_t>(a.size()) * 4;
    EXPECT_EQ(m.engine->trace_bytes(), bytes) << name;
    for (int threads : {1, 2, 64, 100000}) {
      const size_t g = m.engine->images_per_group(threads);
      EXPECT_GE(g, 1u);
      EXPECT_LE(g, m.engine->group_images());
      if (g > 1) {
        EXPECT_LE(static_cast<int64_t>(g) * threads * bytes, IntegerEngine::kGroupTraceBytes) << name;
      }
    }
    EXPECT_EQ(m.engine->images_per_group(1), std::min<size_t>(m.engine->group_images(),
                                                               static_cast<size_t>(IntegerEngine::kGroupTraceBytes / bytes)));
  }
}

TEST(Kernels, WinogradLayersEqualTheReference) {
  // 3x3 stride-1 convolutions on the Winograd path (AVX2): accumulators and the requantization fused in its
  // output transform against the scalar reference, over channels 4-40 (odd ones pad a channel), maps
  // 1-24 wide (odd ones end in half tiles, several tile rows per 16-tile vector), padding 0-2 per side, W and
  // A from 2 to 8, P from 8 to 32, extreme operands, and now and then a shift outside the vector range
  // (that channel is then requantized after the output transform).
  if (std::ranges::none_of(kernels::supported_isas(), kernels::winograd_available)) GTEST_SKIP() << "no AVX2";
  const kernels::Isa saved = kernels::active_isa();
  kernels::set_isa(kernels::Isa::Avx2);
  for (int64_t c = 0; c < 1500; ++c) {
    Rng r = Rng::derive(20261208, static_cast<uint64_t>(c));
    quant::QGraph q = random_layer(r, false, Wino::Alone);
    std::vector<quant::QuantizedMultiplier>& requant = q.layers[0].requant;
    if (c % 10 == 0) requant[r.below(requant.size())].shift = -40;
    const IntegerEngine e(q);
    ASSERT_TRUE(e.winograd_layer(0)) << "case " << c;
    const quant::Encoding& in = q.enc[0];
    Trace t;
    t.values.resize(2);
    t.acc.resize(1);
    std::vector<int32_t>& input = t.values[0];
    input.resize(static_cast<size_t>(numel(q.graph.values[0].shape)));
    const bool extremes = r.below(4) == 0;
    for (auto& v : input) v = static_cast<int32_t>(extremes ? (r.below(2) ? in.qmin : in.qmax) : uniform_int(r, in.qmin, in.qmax));
    std::vector<int32_t> acc_ref, out_ref, acc;
    e.accumulate_ref(0, input, acc_ref);
    e.requantize_all_ref(0, acc_ref, out_ref);
    e.accumulate(0, input, acc);
    ASSERT_EQ(acc, acc_ref) << "case " << c << " W" << q.options.wbits << " A" << q.options.abits << " P" << q.options.accbits;
    e.run_layer(0, t);
    ASSERT_EQ(t.acc[0], acc_ref) << "case " << c;
    ASSERT_EQ(t.values[1], out_ref) << "case " << c;
  }
  kernels::set_isa(saved);
}

TEST(Kernels, WinogradAtTheChannelBoundEqualsTheDirectSum) {
  // The largest sums the Winograd bound admits: kWinogradMaxChannels channels of 255 against weights of
  // -128 (and of 127), 4 * sum within 2^31 by 0.03%; one output per 2x2 position, P = 32, no bias.
  if (std::ranges::none_of(kernels::supported_isas(), kernels::winograd_available)) GTEST_SKIP() << "no AVX2";
  const int64_t c = kernels::kWinogradMaxChannels, n = 2, h = 3, w = 3;  // pads 1: a 3x3 output, 4 tiles
  std::vector<int32_t> weights(n * c * 9), input(c * h * w, 255), init(n, 0), acc(n * h * w);
  for (int64_t i = 0; i < c * 9; ++i) {
    weights[i] = -128;
    weights[c * 9 + i] = 127;
  }
  const kernels::WinogradWeights u = kernels::winograd_weights(weights.data(), n, c);
  kernels::winograd_conv3x3(kernels::Isa::Avx2, input.data(), h, w, 0, 0, 1, 1, h, w, u, init.data(), 32, acc.data(),
                            nullptr);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t taps = (y == 1 ? 3 : 2) * (x == 1 ? 3 : 2);  // the zero padding contributes nothing
        ASSERT_EQ(acc[(j * h + y) * w + x], taps * c * 255 * (j == 0 ? -128 : 127)) << j << " " << y << " " << x;
      }
}

TEST(Kernels, GemmWithFusedRequantizationEqualsGemmThenRequantizeRow) {
  // The requantization the AVX2 tile does in its store against the scalar GEMM followed by the scalar row
  // requantization: shapes with partial tiles and row blocks, P from 8 to 32 (wrapped sums), right and
  // saturating left shifts, signed and unsigned clamps, and a shift outside the vector range (the rows are
  // then requantized after the GEMM).
  Rng r(61);
  for (int round = 0; round < 300; ++round) {
    const int64_t ml = 1 + r.below(90), k = 1 + r.below(200), n = 1 + r.below(14), kq = (k + 3) / 4;
    const int pbits = 8 + static_cast<int>(r.below(25));
    std::vector<int32_t> w(n * k), init(n);
    for (auto& x : w) x = static_cast<int32_t>(r.below(256)) - 128;
    for (auto& x : init) x = static_cast<int32_t>(r());
    const kernels::PackedWeights pw = kernels::pack_weights(w.data(), n, k);
    std::vector<uint8_t> a(kq * kernels::round_up(ml, kernels::kMAlign) * 4 + 64);
    for (auto& x : a) x = static_cast<uint8_t>(r.below(256));
    std::vector<quant::QuantizedMultiplier> qm(n);
    for (auto& q : qm) q = {static_cast<int32_t>((1u << 30) + r.below(1u << 30)), static_cast<int32_t>(r.below(40)) - 31};
    if (round % 10 == 0) qm[r.below(n)].shift = -40;  // not a shift quantize() makes: the scalar rows
    const bool unsigned_out = round % 2;
    const int32_t zp = unsigned_out ? static_cast<int32_t>(r.below(256)) : static_cast<int32_t>(r.below(256)) - 128;
    const int32_t lo = unsigned_out ? 0 : -128, hi = unsigned_out ? 255 : 127;
    std::vector<int32_t> c_ref(n * ml), want(n * ml);
    kernels::gemm_u8s8(kernels::Isa::Scalar, a.data(), ml, kq, pw, 0, n, init.data(), pbits, c_ref.data(), ml);
    for (int64_t j = 0; j < n; ++j)
      kernels::requantize_row(kernels::Isa::Scalar, c_ref.data() + j * ml, ml, qm[j], zp, lo, hi, want.data() + j * ml);
    for (kernels::Isa isa : kernels::supported_isas()) {
      std::vector<int32_t> c(n * ml, 777), out(n * ml, 777);
      const kernels::FusedRequant rq{qm.data(), zp, lo, hi, out.data()};
      kernels::gemm_u8s8(isa, a.data(), ml, kq, pw, 0, n, init.data(), pbits, c.data(), ml, &rq);
      ASSERT_EQ(c, c_ref) << "round " << round << " isa " << kernels::isa_name(isa);
      ASSERT_EQ(out, want) << "round " << round << " P " << pbits << " isa " << kernels::isa_name(isa);
    }
  }
}

TEST(Kernels, RequantizeRowMatchesScalarAtExtremes) {
  // Accumulators at and near the int32 limits, every shift from -31 to +30 (saturating left shifts).
  std::vector<int32_t> acc = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX, 1 << 30, -(1 << 30), 12345, -12345,
                              (1 << 16) + 1, -(1 << 16) - 1, 3, -3, 5, -5};
  Rng r(7);
  for (int i = 0; i < 4000; ++i) acc.push_back(static_cast<int32_t>(r()));
  for (int shift = -31; shift <= 30; ++shift)
    for (int32_t mult : {1 << 30, (1 << 30) + 1, INT32_MAX, 1518500250, 0}) {
      const quant::QuantizedMultiplier qm{mult, shift};
      std::vector<int32_t> fast(acc.size()), ref(acc.size());
      kernels::requantize_row(kernels::Isa::Scalar, acc.data(), static_cast<int64_t>(acc.size()), qm, -7, -128, 127, ref.data());
      for (kernels::Isa isa : kernels::supported_isas()) {
        kernels::requantize_row(isa, acc.data(), static_cast<int64_t>(acc.size()), qm, -7, -128, 127, fast.data());
        ASSERT_EQ(fast, ref) << "shift " << shift << " mult " << mult << " isa " << kernels::isa_name(isa);
      }
      // Unclamped: the raw rounding result must match too.
      kernels::requantize_row(kernels::Isa::Scalar, acc.data(), static_cast<int64_t>(acc.size()), qm, 0, INT32_MIN, INT32_MAX, ref.data());
      for (kernels::Isa isa : kernels::supported_isas()) {
        kernels::requantize_row(isa, acc.data(), static_cast<int64_t>(acc.size()), qm, 0, INT32_MIN, INT32_MAX, fast.data());
        ASSERT_EQ(fast, ref) << "unclamped shift " << shift << " mult " << mult << " isa " << kernels::isa_name(isa);
      }
    }
}

TEST(Kernels, RequantizeShortRowsInPlaceLeaveTheirNeighboursAlone) {
  // Rows of 1 to 20 elements (the masked last vector), written in place as the Add does and into a buffer
  // whose element past the row is a sentinel that must survive.
  Rng r(41);
  const quant::QuantizedMultiplier qm{1518500250, -7};
  for (int64_t n = 1; n <= 20; ++n)
    for (kernels::Isa isa : kernels::supported_isas()) {
      std::vector<int32_t> acc(static_cast<size_t>(n) + 1), mult(acc.size()), shift(acc.size());
      for (size_t i = 0; i < acc.size(); ++i) {
        acc[i] = static_cast<int32_t>(r());
        mult[i] = static_cast<int32_t>((1u << 30) + r.below(1u << 30));
        shift[i] = static_cast<int32_t>(r.below(40)) - 31;
      }
      std::vector<int32_t> ref(acc.size(), 777), fast(acc.size(), 777);
      kernels::requantize_row(kernels::Isa::Scalar, acc.data(), n, qm, 5, -128, 127, ref.data());
      kernels::requantize_row(isa, acc.data(), n, qm, 5, -128, 127, fast.data());
      ASSERT_EQ(fast, ref) << "row n " << n << " isa " << kernels::isa_name(isa);
      std::vector<int32_t> in_place = acc;
      kernels::requantize_row(isa, in_place.data(), n, qm, 5, -128, 127, in_place.data());
      ref.back() = acc.back();
      ASSERT_EQ(in_place, ref) << "in place n " << n << " isa " << kernels::isa_name(isa);
      std::fill(ref.begin(), ref.end(), 777);
      std::fill(fast.begin(), fast.end(), 777);
      kernels::requantize_lanes(kernels::Isa::Scalar, acc.data(), n, mult.data(), shift.data(), 5, -128, 127, ref.data());
      kernels::requantize_lanes(isa, acc.data(), n, mult.data(), shift.data(), 5, -128, 127, fast.data());
      ASSERT_EQ(fast, ref) << "lanes n " << n << " isa " << kernels::isa_name(isa);
    }
}

TEST(Kernels, FusedAddEqualsTheTfliteSteps) {
  // The three requantizations of the int8 Add, written out with 64-bit intermediates, against the fused
  // kernel on every ISA: realistic multipliers (scale ratios < 1 with 20 bits of headroom), zero points,
  // clamps, all lengths to 40 (the masked tail), and in place.
  Rng r(53);
  for (int round = 0; round < 200; ++round) {
    const int64_t n = round < 40 ? round + 1 : 1000 + round;
    const int ls = round % 3 == 0 ? 20 : static_cast<int>(r.below(21));
    const double s1 = 0.01 + 0.1 * r.below(1000) / 1000.0, s2 = 0.01 + 0.1 * r.below(1000) / 1000.0;
    const double so = 0.02 + 0.2 * r.below(1000) / 1000.0, twice_max = 2 * std::max(s1, s2);
    const quant::QuantizedMultiplier in1 = quant::quantize_multiplier(s1 / twice_max);
    const quant::QuantizedMultiplier in2 = quant::quantize_multiplier(s2 / twice_max);
    const quant::QuantizedMultiplier out_qm = quant::quantize_multiplier(twice_max / (std::ldexp(1.0, ls) * so));
    const int32_t z1 = static_cast<int32_t>(r.below(256)) - 128, z2 = static_cast<int32_t>(r.below(256)) - 128;
    const int32_t zp = static_cast<int32_t>(r.below(256)) - 128, lo = round % 2 ? -128 : 0, hi = 127;
    std::vector<int32_t> a(n), b(n), want(n);
    for (int64_t i = 0; i < n; ++i) {
      a[i] = static_cast<int32_t>(r.below(256)) - 128;
      b[i] = static_cast<int32_t>(r.below(256)) - 128;
      const int32_t t1 = quant::multiply_by_quantized_multiplier(static_cast<int32_t>((int64_t{a[i]} - z1) << ls), in1);
      const int32_t t2 = quant::multiply_by_quantized_multiplier(static_cast<int32_t>((int64_t{b[i]} - z2) << ls), in2);
      want[i] = static_cast<int32_t>(
          std::clamp<int64_t>(int64_t{quant::multiply_by_quantized_multiplier(t1 + t2, out_qm)} + zp, lo, hi));
    }
    for (kernels::Isa isa : kernels::supported_isas()) {
      std::vector<int32_t> got(n + 1, 777);
      kernels::add_requantize(isa, a.data(), b.data(), n, z1, z2, ls, in1, in2, out_qm, zp, lo, hi, got.data());
      ASSERT_EQ(got.back(), 777) << "wrote past n " << n << " isa " << kernels::isa_name(isa);
      got.pop_back();
      ASSERT_EQ(got, want) << "n " << n << " ls " << ls << " isa " << kernels::isa_name(isa);
      std::vector<int32_t> in_place = a;
      kernels::add_requantize(isa, in_place.data(), b.data(), n, z1, z2, ls, in1, in2, out_qm, zp, lo, hi, in_place.data());
      ASSERT_EQ(in_place, want) << "in place n " << n << " isa " << kernels::isa_name(isa);
    }
  }
}

TEST(Kernels, RequantizeLanesMatchesScalarWithAMultiplierAndShiftPerElement) {
  // Every lane its own multiplier and shift in [-31, 31], accumulators at the int32 limits and random:
  // 200,000 elements, clamped and unclamped, odd lengths (the scalar tail).
  std::vector<int32_t> base = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX, 1 << 30, -(1 << 30), 3, -3, 5, -5};
  Rng r(29);
  const int32_t mults[] = {1 << 30, (1 << 30) + 1, INT32_MAX, 1518500250, 0};
  for (int round = 0; round < 20; ++round) {
    const int64_t n = 9999 + round;  // not a multiple of 16
    std::vector<int32_t> acc(n), mult(n), shift(n), fast(n), ref(n);
    for (int64_t i = 0; i < n; ++i) {
      acc[i] = i < static_cast<int64_t>(base.size()) ? base[i] : static_cast<int32_t>(r());
      mult[i] = r.below(4) == 0 ? mults[r.below(5)] : static_cast<int32_t>((1u << 30) + r.below(1u << 30));
      shift[i] = static_cast<int32_t>(r.below(63)) - 31;
    }
    for (const auto& [zp, lo, hi] : {std::tuple<int32_t, int32_t, int32_t>{-7, -128, 127}, {0, INT32_MIN, INT32_MAX}}) {
      kernels::requantize_lanes(kernels::Isa::Scalar, acc.data(), n, mult.data(), shift.data(), zp, lo, hi, ref.data());
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(ref[i], std::clamp<int64_t>(int64_t{quant::multiply_by_quantized_multiplier(acc[i], {mult[i], shift[i]})} + zp, lo, hi));
      for (kernels::Isa isa : kernels::supported_isas()) {
        kernels::requantize_lanes(isa, acc.data(), n, mult.data(), shift.data(), zp, lo, hi, fast.data());
        ASSERT_EQ(fast, ref) << "round " << round << " isa " << kernels::isa_name(isa);
      }
    }
  }
}

TEST(Kernels, ScalarRowMatchesMultiplyByQuantizedMultiplier) {
  Rng r(11);
  for (int i = 0; i < 20000; ++i) {
    const int32_t a = static_cast<int32_t>(r());
    const quant::QuantizedMultiplier qm = quant::quantize_multiplier(std::exp(uniform_int(r, -200, 30) / 10.0));
    int32_t out = 0;
    kernels::requantize_row(kernels::Isa::Scalar, &a, 1, qm, 3, -100, 100, &out);
    const int64_t want = std::clamp<int64_t>(int64_t{quant::multiply_by_quantized_multiplier(a, qm)} + 3, -100, 100);
    ASSERT_EQ(out, want);
  }
}

TEST(Kernels, LayersSplitOverThreadsGiveTheSameTrace) {
  // A batch of one splits every layer over the threads (threshold lowered to 0 here): same registers.
  const int saved_threads = omp_get_max_threads();
  for (const char* name : test::kShippedModels) {
    const test::Quantized& m = test::quantized(name);
    IntegerEngine split(m.q);
    split.set_layer_parallel_macs(0);
    for (int threads : {2, 3}) {
      omp_set_num_threads(threads);
      for (int64_t i = 0; i < 5; ++i) {
        Trace want, got;
        m.engine->run(test::test_set().image(i), want);
        const float* image = test::test_set().image(i);
        split.run_batch(&image, &got, 1);
        ASSERT_EQ(got.values, want.values) << name << " threads " << threads;
        ASSERT_EQ(got.acc, want.acc) << name << " threads " << threads;
        int top1 = -1;
        split.predict_batch(&image, &top1, 1);
        EXPECT_EQ(top1, m.engine->predict(want));
      }
    }
  }
  omp_set_num_threads(saved_threads);
}

TEST(Kernels, IsaSelectionFallsBackAndRejectsUnsupported) {
  EXPECT_EQ(kernels::supported_isas().front(), kernels::Isa::Scalar);
  EXPECT_EQ(kernels::supported_isas().back(), kernels::best_isa());
  const kernels::Isa saved = kernels::active_isa();
  kernels::set_isa(kernels::Isa::Scalar);
  EXPECT_EQ(kernels::active_isa(), kernels::Isa::Scalar);
  kernels::set_isa(saved);
}

TEST(Kernels, EveryIsaGivesTheReferenceTraceOnShippedModels) {
  // End to end: every register of every layer (convs, depthwise, Gemm, pooling, residual Add) on the int8
  // kernels equals the scalar reference engine, on real images of every shipped model.
  const kernels::Isa saved = kernels::active_isa();
  for (const char* name : test::kShippedModels) {
    const test::Quantized& m = test::quantized(name);
    for (int64_t i = 0; i < 20; ++i) {
      Trace want;
      kernels::set_isa(kernels::Isa::Scalar);
      m.engine->run(test::test_set().image(i), want);
      for (kernels::Isa isa : kernels::supported_isas()) {
        kernels::set_isa(isa);
        Trace got;
        const float* image = test::test_set().image(i);
        m.engine->run_batch(&image, &got, 1);
        ASSERT_EQ(got.values, want.values) << name << " image " << i << " " << kernels::isa_name(isa);
        ASSERT_EQ(got.acc, want.acc) << name << " image " << i << " " << kernels::isa_name(isa);
      }
    }
  }
  kernels::set_isa(saved);
}

}  // namespace
}  // namespace ftdla::engine
