// SPDX-License-Identifier: MIT
#include "ftdla/data/dataset.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <sstream>

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

/// gzread handles both gzipped and plain files transparently.
std::vector<uint8_t> read_all(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw ImportError(path + ": cannot open file");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw ImportError(path + ": corrupt gzip data");
  return out;
}

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
  const std::vector<uint8_t> raw = read_all(path);
  if (raw.size() < 4 || raw[0] != 0 || raw[1] != 0) throw ImportError(path + ": not an IDX file (bad magic)");
  if (raw[2] != 0x08) throw UnsupportedError(path + ": IDX element type " + std::to_string(raw[2]) + " (only unsigned bytes, 0x08)");
  const int ndim = raw[3];
  if (ndim < 1 || raw.size() < 4 + 4 * static_cast<size_t>(ndim)) throw ImportError(path + ": truncated IDX header");
  IdxArray a;
  for (int d = 0; d < ndim; ++d) {
    const uint8_t* p = raw.data() + 4 + 4 * d;
    a.dims.push_back((int64_t{p[0]} << 24) | (int64_t{p[1]} << 16) | (int64_t{p[2]} << 8) | int64_t{p[3]});
  }
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  const size_t n = static_cast<size_t>(numel(a.dims));
  if (raw.size() - header != n)
    throw ImportError(path + ": IDX payload has " + std::to_string(raw.size() - header) + " bytes, header says " + std::to_string(n));
  a.bytes.assign(raw.begin() + static_cast<std::ptrdiff_t>(header), raw.end());
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
  Dataset ds;
  ds.source = dir;
  ds.image_shape = {1, images.dims[1], images.dims[2]};
  int64_t count = images.dims[0];
  if (opt.limit > 0) count = std::min(count, opt.limit);
  const int64_t per = numel(ds.image_shape);
  ds.pixels.resize(static_cast<size_t>(count * per));
  for (int64_t i = 0; i < count * per; ++i)
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
