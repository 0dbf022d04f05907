// The IDX reader on lying headers, gzip bombs and truncated or corrupt gzip streams.
#include "ftdla/data/dataset.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "ftdla/core/error.hpp"
#include "ftdla/core/temp_dir.hpp"

namespace ftdla::data {
namespace {

std::string be32(uint32_t v) {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
  return s;
}

/// IDX header for unsigned bytes with the given dims.
std::string header(std::initializer_list<uint32_t> dims) {
  std::string h = std::string("\0\0\x08", 3) + static_cast<char>(dims.size());
  for (uint32_t d : dims) h += be32(d);
  return h;
}

void write(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::string gzip(const std::string& bytes) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, bytes.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

template <typename E>
void expect_error(const std::string& path, std::initializer_list<std::string> parts) {
  try {
    read_idx(path);
    ADD_FAILURE() << "expected an error reading " << path;
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
  }
}

TEST(ReadIdx, WellFormedPlainAndGzippedFilesRead) {
  const TempDir d("ftdla-idx");
  const std::string file = header({3, 2}) + "abcdef";
  write(d.file("a"), file);
  write(d.file("a.gz"), gzip(file));
  for (const char* name : {"a", "a.gz"}) {
    const IdxArray a = read_idx(d.file(name));
    EXPECT_EQ(a.dims, (Shape{3, 2})) << name;
    EXPECT_EQ(std::string(a.bytes.begin(), a.bytes.end()), "abcdef") << name;
  }
}

TEST(ReadIdx, PayloadSizeMustMatchTheHeader) {
  const TempDir d("ftdla-idx");
  // A header claiming 60000 28x28 images over 100 bytes: an error, without allocating 47 MB first.
  write(d.file("short"), header({60000, 28, 28}) + std::string(100, 'x'));
  expect_error<ImportError>(d.file("short"), {"short", "payload has 100 bytes", "header says 47040000"});
  write(d.file("long"), header({2, 2}) + std::string(5, 'x'));
  expect_error<ImportError>(d.file("long"), {"long", "more than the 4 bytes"});
}

TEST(ReadIdx, HeaderDimsBeyondTheLimitAreRefused) {
  const TempDir d("ftdla-idx");
  write(d.file("big"), header({65535, 65535, 65535, 65535}));
  expect_error<ImportError>(d.file("big"), {"big", "exceed the 1024 MiB limit"});
}

TEST(ReadIdx, GzipBombStopsAtTheDeclaredSize) {
  // 32 MiB of zeros behind a header declaring 16 bytes: rejected once the 17th byte arrives.
  const TempDir d("ftdla-idx");
  write(d.file("bomb.gz"), gzip(header({4, 4}) + std::string(size_t{32} << 20, '\0')));
  expect_error<ImportError>(d.file("bomb.gz"), {"bomb.gz", "more than the 16 bytes"});
}

TEST(ReadIdx, TruncatedOrCorruptGzipIsAnError) {
  const TempDir d("ftdla-idx");
  const std::string gz = gzip(header({2, 3}) + "abcdef");
  // Without its 8-byte trailer (CRC-32 and size) the payload is complete, but the stream is not.
  write(d.file("notrailer.gz"), gz.substr(0, gz.size() - 8));
  expect_error<ImportError>(d.file("notrailer.gz"), {"notrailer.gz", "truncated gzip"});
  write(d.file("half.gz"), gz.substr(0, gz.size() / 2));
  expect_error<ImportError>(d.file("half.gz"), {"half.gz"});
  std::string bad = gz;
  bad[bad.size() - 6] ^= 0x5a;  // inside the CRC-32
  write(d.file("crc.gz"), bad);
  expect_error<ImportError>(d.file("crc.gz"), {"crc.gz", "corrupt gzip"});
}

TEST(LoadSplit, EmptySplitIsAnError) {
  const TempDir d("ftdla-idx");
  write(d.file("t10k-images-idx3-ubyte"), header({0, 28, 28}));
  write(d.file("t10k-labels-idx1-ubyte"), header({0}));
  try {
    load_split(d.path(), "test");
    ADD_FAILURE() << "expected ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("no images"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ftdla::data
