// SPDX-License-Identifier: MIT
#include "ftdla/data/dataset.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <sstream>

#include "ftdla/core/checked.hpp"
#include "ftdla/core/error.hpp"

namespace ftdla::data {
namespace {

bool exists(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0;
}

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// An open IDX file, gzipped or plain (gzread passes plain files through).
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), f_(gzopen(path.c_str(), "rb")) {
    if (!f_) throw ImportError(path + ": cannot open file");
  }
  ~GzFile() { gzclose(f_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  /// Up to n bytes into dst; fewer only at the end of the data. A corrupt stream (bad deflate data or
  /// checksum) or a truncated one (a gzip member cut before its trailer, which gzread itself only
  /// reports through gzerror as Z_BUF_ERROR) throws ImportError.
  size_t read(uint8_t* dst, size_t n) {
    size_t got = 0;
    while (got < n) {
      const unsigned ask = static_cast<unsigned>(std::min<size_t>(n - got, 1u << 30));
      const int r = gzread(f_, dst + got, ask);
      if (r < 0) fail();
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    int err = Z_OK;
    gzerror(f_, &err);
    if (err == Z_BUF_ERROR) throw ImportError(path_ + ": truncated gzip data (the stream ends before its checksum trailer)");
    if (err != Z_OK) fail();
    return got;
  }

 private:
  [[noreturn]] void fail() {
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    throw ImportError(path_ + ": corrupt gzip data (" + std::string(msg ? msg : "unknown error") + ")");
  }
  std::string path_;
  gzFile f_;
};

}  // namespace

void DataOptions::validate() const {
  if (!(std > 0.0f)) {
    std::ostringstream os;
    os << "data.std: must be > 0 (got " << std << ")";
    throw ConfigError(os.str());
  }
  if (limit < 0) throw ConfigError("data.limit: must be >= 0 (got " + std::to_string(limit) + ")");
}

IdxArray read_idx(const std::string& path) {
  GzFile f(path);
  uint8_t head[4] = {0, 0, 0, 0};
  const size_t got = f.read(head, 4);
  if (got < 4 || head[0] != 0 || head[1] != 0) throw ImportError(path + ": not an IDX file (bad magic)");
  if (head[2] != 0x08) throw UnsupportedError(path + ": IDX element type " + std::to_string(head[2]) + " (only unsigned bytes, 0x08)");
  const int ndim = head[3];
  if (ndim < 1) throw ImportError(path + ": truncated IDX header");
  std::vector<uint8_t> dims(4 * static_cast<size_t>(ndim));
  if (f.read(dims.data(), dims.size()) != dims.size()) throw ImportError(path + ": truncated IDX header");
  IdxArray a;
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) {
    const uint8_t* p = dims.data() + 4 * d;
    a.dims.push_back((int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | int64_t{p[3]});
    if (__builtin_mul_overflow(n, a.dims.back(), &n) || n > kMaxIdxBytes)
      throw ImportError(path + ": IDX header dims " + to_string(a.dims) + (d + 1 < ndim ? "..." : "") +
                        " exceed the " + std::to_string(kMaxIdxBytes >> 20) + " MiB limit");
  }
  // Read what the header declares and one byte more, in pieces: memory follows the data actually
  // present (a lying header cannot make us allocate), and a gzip bomb is cut off at the declared size.
  constexpr size_t kPiece = size_t{1} << 22;
  const size_t want = static_cast<size_t>(n);
  while (a.bytes.size() < want) {
    const size_t at = a.bytes.size(), piece = std::min(kPiece, want - at);
    a.bytes.resize(at + piece);
    const size_t r = f.read(a.bytes.data() + at, piece);
    a.bytes.resize(at + r);
    if (r < piece)
      throw ImportError(path + ": IDX payload has " + std::to_string(a.bytes.size()) + " bytes, header says " + std::to_string(n));
  }
  uint8_t extra = 0;
  if (f.read(&extra, 1) != 0)
    throw ImportError(path + ": IDX payload has more than the " + std::to_string(n) + " bytes the header says");
  return a;
}

Dataset load_split(const std::string& dir, const std::string& split, const DataOptions& opt) {
  opt.validate();
  if (split != "train" && split != "test") throw ConfigError("data.split: must be 'train' or 'test' (got '" + split + "')");
  if (!is_dir(dir)) throw ImportError(dir + ": dataset directory not found");
  const std::string stem = split == "train" ? "train" : "t10k";
  auto find = [&](const std::string& base) {
    for (const std::string& p : {dir + "/" + base + ".gz", dir + "/" + base})
      if (exists(p)) return p;
    throw ImportError(dir + ": missing " + base + "[.gz]");
  };
  const IdxArray images = read_idx(find(stem + "-images-idx3-ubyte"));
  const IdxArray labels = read_idx(find(stem + "-labels-idx1-ubyte"));
  if (images.dims.size() != 3) throw ImportError(dir + ": image file must be 3-D [N,H,W]");
  if (labels.dims.size() != 1) throw ImportError(dir + ": label file must be 1-D [N]");
  if (images.dims[0] != labels.dims[0])
    throw ValidationError(dir + ": " + std::to_string(images.dims[0]) + " images but " + std::to_string(labels.dims[0]) + " labels");
  if (images.dims[0] == 0) throw ValidationError(dir + ": the " + split + " split has no images");
  Dataset ds;
  ds.source = dir;
  ds.image_shape = {1, images.dims[1], images.dims[2]};
  int64_t count = images.dims[0];
  if (opt.limit > 0) count = std::min(count, opt.limit);
  const int64_t per = numel(ds.image_shape);
  const int64_t total = checked_mul(count, per, dir + ": image data");  // bounded by read_idx's limit
  ds.pixels.resize(static_cast<size_t>(total));
  for (int64_t i = 0; i < total; ++i)
    ds.pixels[i] = (static_cast<float>(images.bytes[i]) / 255.0f - opt.mean) / opt.std;
  ds.labels.assign(labels.bytes.begin(), labels.bytes.begin() + count);
  return ds;
}

Dataset subset(const Dataset& d, int64_t begin, int64_t end) {
  if (begin < 0 || begin > end || end > d.count())
    throw ValidationError("data subset [" + std::to_string(begin) + ", " + std::to_string(end) + ") is outside the " +
                          std::to_string(d.count()) + " images of " + d.source);
  Dataset s;
  s.source = d.source + "[" + std::to_string(begin) + ":" + std::to_string(end) + "]";
  s.image_shape = d.image_shape;
  const int64_t per = numel(d.image_shape);
  s.pixels.assign(d.pixels.begin() + begin * per, d.pixels.begin() + end * per);
  s.labels.assign(d.labels.begin() + begin, d.labels.begin() + end);
  return s;
}

}  // namespace ftdla::data
