// .npy data: the reader against files numpy wrote (tests/fixtures, tools/make_npy_fixtures.py) and against
// hand-made bad files; per-channel normalization; .npy images equal to the IDX images they were made from.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ftdla/core/error.hpp"
#include "ftdla/core/text.hpp"
#include "ftdla/core/temp_dir.hpp"
#include "ftdla/data/dataset.hpp"
#include "support/npy_writer.hpp"

namespace ftdla::data {
namespace {

using test::npy_bytes;
using test::raw_bytes;
using test::write_bytes;

std::string fixture(const std::string& name) { return std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/" + name; }

template <typename E>
void expect_error(const std::function<void()>& f, std::initializer_list<std::string> words) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    const std::string m = e.what();
    for (const auto& w : words) EXPECT_NE(m.find(w), std::string::npos) << "'" << w << "' not in: " << m;
  }
}

TEST(Npy, ReadsWhatNumpyWrote) {
  const NpyArray a = read_npy(fixture("rgb32_images.npy"));
  EXPECT_EQ(a.dtype, "uint8");
  EXPECT_EQ(a.dims, (Shape{64, 3, 32, 32}));
  EXPECT_EQ(a.rows, 64);
  EXPECT_EQ(a.bytes.size(), 64u * 3 * 32 * 32);
  const NpyArray v2 = read_npy(fixture("npy_f32_nhw_v2.npy"));
  EXPECT_EQ(v2.dtype, "float32");
  EXPECT_EQ(v2.dims, (Shape{4, 5, 6}));
  float last;
  std::memcpy(&last, v2.bytes.data() + v2.bytes.size() - 4, 4);
  EXPECT_EQ(last, 119.0f / 100.0f);
  const NpyArray first = read_npy(fixture("rgb32_images.npy"), 2);
  EXPECT_EQ(first.rows, 2);
  EXPECT_EQ(first.bytes.size(), 2u * 3 * 32 * 32);
  EXPECT_TRUE(std::equal(first.bytes.begin(), first.bytes.end(), a.bytes.begin()));
}

TEST(Npy, LoadsUint8ImagesScaledAndFloatImagesAsTheyAre) {
  const Dataset d = load_npy(fixture("rgb32_images.npy"), fixture("rgb32_labels.npy"));
  EXPECT_EQ(d.count(), 64);
  EXPECT_EQ(d.image_shape, (Shape{3, 32, 32}));
  const NpyArray raw = read_npy(fixture("rgb32_images.npy"));
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(d.pixels[i], static_cast<float>(raw.bytes[i]) / 255.0f);
  for (int label : d.labels) {
    EXPECT_GE(label, 0);
    EXPECT_LT(label, 10);
  }
  // float32 N x H x W: one channel, values unchanged; int32 and uint8 labels.
  for (const char* labels : {"npy_labels_i32.npy", "npy_labels_u8.npy"}) {
    const Dataset f = load_npy(fixture("npy_f32_nhw_v2.npy"), fixture(labels));
    EXPECT_EQ(f.image_shape, (Shape{1, 5, 6}));
    EXPECT_EQ(f.labels, (std::vector<int>{3, 1, 4, 1}));
    for (size_t i = 0; i < f.pixels.size(); ++i) EXPECT_EQ(f.pixels[i], static_cast<float>(i) / 100.0f);
  }
  // limit
  DataOptions o;
  o.limit = 3;
  EXPECT_EQ(load_npy(fixture("npy_f32_nhw_v2.npy"), fixture("npy_labels_u8.npy"), o).count(), 3);
}

TEST(Npy, PerChannelMeanAndStd) {
  DataOptions o;
  o.mean_per_channel = {0.5f, 0.25f, 0.0f};
  o.std_per_channel = {0.5f, 2.0f, 1.0f};
  const Dataset d = load_npy(fixture("rgb32_images.npy"), fixture("rgb32_labels.npy"), o);
  const NpyArray raw = read_npy(fixture("rgb32_images.npy"));
  const int64_t plane = 32 * 32;
  for (int64_t img : {0, 63})
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p : {int64_t{0}, plane - 1}) {
        const int64_t i = (img * 3 + c) * plane + p;
        const float x = static_cast<float>(raw.bytes[static_cast<size_t>(i)]) / 255.0f;
        EXPECT_EQ(d.pixels[static_cast<size_t>(i)], (x - o.mean_per_channel[c]) / o.std_per_channel[c]);
      }
  o.mean_per_channel = {0.5f, 0.25f};
  expect_error<ConfigError>([&] { load_npy(fixture("rgb32_images.npy"), fixture("rgb32_labels.npy"), o); },
                            {"mean", "2 values", "3 channels"});
  o.mean_per_channel.clear();
  o.std_per_channel = {1.0f, 0.0f, 1.0f};
  expect_error<ConfigError>([&] { o.validate(); }, {"std", "> 0"});
}

TEST(Npy, RejectsWhatItCannotReadWithAClearError) {
  expect_error<UnsupportedError>([] { read_npy(fixture("npy_fortran.npy")); }, {"npy_fortran.npy", "fortran_order"});
  expect_error<UnsupportedError>([] { read_npy(fixture("npy_bigendian.npy")); }, {"npy_bigendian.npy", "big-endian", ">f4"});
  expect_error<UnsupportedError>([] { read_npy(fixture("npy_f64.npy")); }, {"npy_f64.npy", "<f8"});
  expect_error<ImportError>([] { read_npy(fixture("bad_not_onnx.onnx")); }, {"bad_not_onnx.onnx", "not a .npy file"});
  expect_error<ImportError>([] { read_npy("/nonexistent/x.npy"); }, {"/nonexistent/x.npy", "not found"});
  // int32 images, float32 labels, 2-D labels.
  expect_error<UnsupportedError>([] { load_npy(fixture("npy_labels_i32.npy"), fixture("npy_labels_i32.npy")); },
                                 {"npy_labels_i32.npy", "int32"});
  expect_error<UnsupportedError>([] { load_npy(fixture("npy_f32_nhw_v2.npy"), fixture("npy_f32_nhw_v2.npy")); },
                                 {"npy_f32_nhw_v2.npy", "float32"});
}

TEST(Npy, HeaderSizesAreCheckedAgainstTheFileBeforeAllocating) {
  const TempDir d("ftdla-npy");
  const std::vector<float> px(2 * 3 * 4, 0.5f);
  // Truncated: the header says 3 images, the file holds 2.
  write_bytes(d.file("short.npy"), npy_bytes("<f4", {3, 3, 4}, raw_bytes(px)));
  expect_error<ImportError>([&] { read_npy(d.file("short.npy")); }, {"short.npy", "(3, 3, 4)", "96 bytes"});
  // An absurd shape: rejected without trying to allocate 2^62 bytes.
  write_bytes(d.file("huge.npy"), npy_bytes("<f4", {int64_t{1} << 40, 1 << 20, 4}, raw_bytes(px)));
  expect_error<ImportError>([&] { read_npy(d.file("huge.npy")); }, {"huge.npy", "more than the file holds"});
  // Extra bytes after the data.
  write_bytes(d.file("long.npy"), npy_bytes("<f4", {2, 3, 4}, raw_bytes(px) + "xx"));
  expect_error<ImportError>([&] { read_npy(d.file("long.npy")); }, {"long.npy", "98 bytes"});
  // A truncated header.
  write_bytes(d.file("head.npy"), npy_bytes("<f4", {2, 3, 4}, raw_bytes(px)).substr(0, 30));
  expect_error<ImportError>([&] { read_npy(d.file("head.npy")); }, {"head.npy", "truncated"});
  // Format 2.0 written by this writer reads back.
  write_bytes(d.file("v2.npy"), npy_bytes("<f4", {2, 3, 4}, raw_bytes(px), 2));
  EXPECT_EQ(read_npy(d.file("v2.npy")).dims, (Shape{2, 3, 4}));
}

TEST(Npy, ShapeAndCountMismatchesNameBothSides) {
  const TempDir d("ftdla-npy");
  const std::vector<uint8_t> px(5 * 4 * 4, 7);
  write_bytes(d.file("img.npy"), npy_bytes("|u1", {5, 4, 4}, raw_bytes(px)));
  write_bytes(d.file("lab4.npy"), npy_bytes("<i8", {4}, raw_bytes(std::vector<int64_t>{0, 1, 2, 3})));
  expect_error<ValidationError>([&] { load_npy(d.file("img.npy"), d.file("lab4.npy")); }, {"img.npy", "5 images", "lab4.npy", "4 labels"});
  write_bytes(d.file("lab2d.npy"), npy_bytes("<i8", {5, 1}, raw_bytes(std::vector<int64_t>{0, 1, 2, 3, 4})));
  expect_error<ValidationError>([&] { load_npy(d.file("img.npy"), d.file("lab2d.npy")); }, {"lab2d.npy", "1-D", "(5, 1)"});
  write_bytes(d.file("neg.npy"), npy_bytes("<i8", {5}, raw_bytes(std::vector<int64_t>{0, 1, -2, 3, 4})));
  expect_error<ValidationError>([&] { load_npy(d.file("img.npy"), d.file("neg.npy")); }, {"neg.npy", "label 2", "-2"});
  write_bytes(d.file("img2d.npy"), npy_bytes("|u1", {5, 16}, raw_bytes(px)));
  write_bytes(d.file("lab5.npy"), npy_bytes("<i8", {5}, raw_bytes(std::vector<int64_t>{0, 1, 2, 3, 4})));
  expect_error<ValidationError>([&] { load_npy(d.file("img2d.npy"), d.file("lab5.npy")); }, {"img2d.npy", "[N,C,H,W]", "(5, 16)"});
  std::vector<float> nan(5 * 16, 0.0f);
  nan[20] = std::numeric_limits<float>::quiet_NaN();
  write_bytes(d.file("nan.npy"), npy_bytes("<f4", {5, 4, 4}, raw_bytes(nan)));
  expect_error<ValidationError>([&] { load_npy(d.file("nan.npy"), d.file("lab5.npy")); }, {"nan.npy", "image 1", "non-finite"});
}

TEST(Npy, ErrorsQuoteHeaderBytesOnOneLine) {
  // A damaged header (found by bench/bad_input_sweep.sh): newlines and binary bytes in the echoed header
  // would split the one-line error; they are shown as \xNN.
  const TempDir d("ftdla-npy");
  write_bytes(d.file("bad.npy"), npy_bytes("|u1\n\x01\xff", {2, 4, 4}, std::string(32, '\0')));
  try {
    (void)read_npy(d.file("bad.npy"));
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find("\\x0a\\x01\\xff"), std::string::npos) << m;
  }
  EXPECT_EQ(excerpt(std::string("a\nb\x7f") + std::string(100, 'c'), 5), "a\\x0ab\\x7fc...");
}

TEST(Npy, DataSourcePicksTheReader) {
  EXPECT_FALSE((DataSource{"/some/dir", "", ""}).is_npy());
  EXPECT_TRUE((DataSource{"x.npy", "", ""}).is_npy());
  EXPECT_TRUE((DataSource{"images.bin", "labels.npy", ""}).is_npy());
  expect_error<ConfigError>([] { load(DataSource{fixture("rgb32_images.npy"), "", ""}, "test"); }, {"--labels"});
  expect_error<ConfigError>([] { load(DataSource{fixture(""), fixture("rgb32_labels.npy"), ""}, "test"); }, {"--labels", "directory"});
  // Both splits are the same .npy images.
  const Dataset a = load(DataSource{fixture("npy_f32_nhw_v2.npy"), fixture("npy_labels_u8.npy"), ""}, "train");
  const Dataset b = load(DataSource{fixture("npy_f32_nhw_v2.npy"), fixture("npy_labels_u8.npy"), ""}, "test");
  EXPECT_EQ(a.pixels, b.pixels);
  // Calibration images of their own (no labels) replace the "train" split only.
  const Dataset c = load(DataSource{fixture("npy_f32_nhw_v2.npy"), fixture("npy_labels_u8.npy"), fixture("rgb32_images.npy")}, "train");
  const Dataset t = load(DataSource{fixture("npy_f32_nhw_v2.npy"), fixture("npy_labels_u8.npy"), fixture("rgb32_images.npy")}, "test");
  const Dataset rgb = load(DataSource{fixture("rgb32_images.npy"), fixture("rgb32_labels.npy"), ""}, "test");
  EXPECT_EQ(c.pixels, rgb.pixels);
  EXPECT_EQ(c.labels, std::vector<int>(rgb.labels.size(), 0));
  EXPECT_EQ(t.pixels, b.pixels);
}

// The first 300 Fashion-MNIST test images as .npy (uint8 N x H x W, and float32 N x 1 x H x W holding
// pixel/255): the same floats as the IDX reader gives, bit for bit, so every result on them is the same.
TEST(NpyVsIdx, SameImagesGiveTheSamePixelsAndLabels) {
  const std::string dir = kDefaultDataDir;
  IdxArray images, labels;
  try {
    images = read_idx(dir + "/t10k-images-idx3-ubyte.gz");
    labels = read_idx(dir + "/t10k-labels-idx1-ubyte.gz");
  } catch (const ImportError& e) {
    GTEST_SKIP() << "Fashion-MNIST not installed: " << e.what();
  }
  const int64_t n = 300, per = 28 * 28;
  const TempDir d("ftdla-npy");
  const std::string u8(images.bytes.begin(), images.bytes.begin() + n * per);
  write_bytes(d.file("u8.npy"), npy_bytes("|u1", {n, 28, 28}, u8));
  std::vector<float> f(static_cast<size_t>(n * per));
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(images.bytes[i]) / 255.0f;
  write_bytes(d.file("f32.npy"), npy_bytes("<f4", {n, 1, 28, 28}, raw_bytes(f), 2));
  std::vector<int64_t> lab(labels.bytes.begin(), labels.bytes.begin() + n);
  write_bytes(d.file("labels.npy"), npy_bytes("<i8", {n}, raw_bytes(lab)));
  for (const DataOptions& o : {DataOptions{}, DataOptions{0.2860f, 0.3530f, 0}}) {
    DataOptions lim = o;
    lim.limit = n;
    const Dataset idx = load_split(dir, "test", lim);
    const Dataset a = load_npy(d.file("u8.npy"), d.file("labels.npy"), o);
    EXPECT_EQ(a.image_shape, idx.image_shape);
    EXPECT_EQ(a.labels, idx.labels);
    EXPECT_EQ(0, std::memcmp(a.pixels.data(), idx.pixels.data(), a.pixels.size() * sizeof(float)));
    if (o.mean == 0.0f) {  // float32 values are taken as they are: only without normalization are they the same
      const Dataset b = load_npy(d.file("f32.npy"), d.file("labels.npy"), o);
      EXPECT_EQ(b.image_shape, idx.image_shape);
      EXPECT_EQ(0, std::memcmp(b.pixels.data(), idx.pixels.data(), b.pixels.size() * sizeof(float)));
    }
  }
}

}  // namespace
}  // namespace ftdla::data
