// SPDX-License-Identifier: MIT
// IDX reader (plain or gzipped): data::read_idx on the input as a file.
#include "fuzz_common.hpp"
#include "ftdla/data/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ftdla::fuzz::MemFile file("idx");
  const std::string& path = file.write(data, size);
  ftdla::fuzz::accepts([&] {
    const ftdla::data::IdxArray a = ftdla::data::read_idx(path);
    int64_t n = 1;
    for (const int64_t d : a.dims) n *= d;
    if (n != static_cast<int64_t>(a.bytes.size())) ftdla::fuzz::fail("read_idx: payload size differs from the dims");
  });
  return 0;
}
