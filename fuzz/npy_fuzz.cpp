// SPDX-License-Identifier: MIT
// .npy reader: data::read_npy (all rows and a row limit) and data::load_npy. An input holding the
// separator "@@LABELS@@" is split into an images file and a labels file for load_npy; otherwise the
// same bytes serve as both.
#include <cstring>

#include "fuzz_common.hpp"
#include "ftdla/data/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ftdla::fuzz::MemFile images("npy_images"), labels("npy_labels");
  static const char kSep[] = "@@LABELS@@";
  const uint8_t* sep = static_cast<const uint8_t*>(memmem(data, size, kSep, sizeof(kSep) - 1));
  const size_t first = sep ? static_cast<size_t>(sep - data) : size;
  images.write(data, first);
  if (sep) labels.write(sep + sizeof(kSep) - 1, size - first - (sizeof(kSep) - 1));
  const std::string& labels_path = sep ? labels.path() : images.path();
  using namespace ftdla::data;
  ftdla::fuzz::accepts([&] {
    const NpyArray a = read_npy(images.path());
    (void)read_npy(images.path(), 2);
    if (a.rows < 0) ftdla::fuzz::fail("read_npy: negative rows");
  });
  ftdla::fuzz::accepts([&] {
    const Dataset d = load_npy(images.path(), labels_path, DataOptions{0.5f, 0.25f, 3});
    if (d.pixels.size() != static_cast<size_t>(d.count() * ftdla::numel(d.image_shape)))
      ftdla::fuzz::fail("load_npy: pixel count differs from count * image size");
  });
  return 0;
}
