// SPDX-License-Identifier: MIT
#include "ftdla/data/dataset.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <algorithm>
#include <sstream>

#include "ftdla/core/checked.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/core/text.hpp"

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
  for (const float s : std_per_channel)
    if (!(s > 0.0f)) {
      std::ostringstream os;
      os << "data.std: every value must be > 0 (got " << s << ")";
      throw ConfigError(os.str());
    }
  for (const float m : mean_per_channel)
    if (!std::isfinite(m)) {
      std::ostringstream os;
      os << "data.mean: every value must be finite (got " << m << ")";
      throw ConfigError(os.str());
    }
  if (limit < 0) throw ConfigError("data.limit: must be >= 0 (got " + std::to_string(limit) + ")");
}

namespace {
float per_channel(const std::vector<float>& v, float all, int64_t c, int64_t channels, const char* key) {
  if (v.empty()) return all;
  if (v.size() == 1) return v[0];
  if (static_cast<int64_t>(v.size()) != channels)
    throw ConfigError(std::string("data.") + key + ": " + std::to_string(v.size()) + " values, but the images have " +
                      std::to_string(channels) + " channel" + (channels == 1 ? "" : "s") +
                      " (give one value for all channels, or one per channel)");
  return v[static_cast<size_t>(c)];
}

/// x -> (x - mean[c]) / std[c] for every image of `count` with `channels` channels of `plane` values,
/// where x = convert(source element i).
template <typename Convert>
void normalize(std::vector<float>& out, int64_t count, int64_t channels, int64_t plane, const DataOptions& opt,
               Convert convert) {
  std::vector<float> mean(static_cast<size_t>(channels)), sd(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    mean[static_cast<size_t>(c)] = opt.channel_mean(c, channels);
    sd[static_cast<size_t>(c)] = opt.channel_std(c, channels);
  }
  out.resize(static_cast<size_t>(count * channels * plane));
  int64_t i = 0;
  for (int64_t n = 0; n < count; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      const float m = mean[static_cast<size_t>(c)], s = sd[static_cast<size_t>(c)];
      for (int64_t p = 0; p < plane; ++p, ++i) out[static_cast<size_t>(i)] = (convert(i) - m) / s;
    }
}
}  // namespace

float DataOptions::channel_mean(int64_t c, int64_t channels) const {
  return per_channel(mean_per_channel, mean, c, channels, "mean");
}
float DataOptions::channel_std(int64_t c, int64_t channels) const {
  return per_channel(std_per_channel, std, c, channels, "std");
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
  checked_mul(count, numel(ds.image_shape), dir + ": image data");  // bounded by read_idx's limit
  normalize(ds.pixels, count, 1, images.dims[1] * images.dims[2], opt,
            [&](int64_t i) { return static_cast<float>(images.bytes[static_cast<size_t>(i)]) / 255.0f; });
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

// --- .npy ---------------------------------------------------------------------------------------------

namespace {

std::string shape_text(const Shape& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (s.size() == 1 ? ",)" : ")");
}

/// The value of 'key' in the header dict, as its source text (a quoted string, True/False, or a tuple).
std::string header_value(const std::string& header, const std::string& key, const std::string& path) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) k = header.find("\"" + key + "\"");
  if (k == std::string::npos) throw ImportError(path + ": .npy header has no '" + key + "' (header: " + excerpt(header, 120) + ")");
  size_t i = header.find(':', k + key.size() + 2);
  if (i == std::string::npos) throw ImportError(path + ": malformed .npy header: " + excerpt(header, 120));
  ++i;
  while (i < header.size() && std::isspace(static_cast<unsigned char>(header[i]))) ++i;
  if (i >= header.size()) throw ImportError(path + ": malformed .npy header: " + excerpt(header, 120));
  size_t end;
  if (header[i] == '\'' || header[i] == '"') {
    end = header.find(header[i], i + 1);
    if (end == std::string::npos) throw ImportError(path + ": malformed .npy header: " + excerpt(header, 120));
    return header.substr(i + 1, end - i - 1);
  }
  if (header[i] == '(') {
    end = header.find(')', i);
    if (end == std::string::npos) throw ImportError(path + ": malformed .npy header: " + excerpt(header, 120));
    return header.substr(i, end - i + 1);
  }
  end = i;
  while (end < header.size() && (std::isalnum(static_cast<unsigned char>(header[end])) || header[end] == '_')) ++end;
  return header.substr(i, end - i);
}

Shape parse_shape(const std::string& tuple, const std::string& path) {
  Shape dims;
  size_t i = 1;
  while (i < tuple.size() && tuple[i] != ')') {
    while (i < tuple.size() && (std::isspace(static_cast<unsigned char>(tuple[i])) || tuple[i] == ',')) ++i;
    if (i >= tuple.size() || tuple[i] == ')') break;
    size_t j = i;
    int64_t v = 0;
    while (j < tuple.size() && std::isdigit(static_cast<unsigned char>(tuple[j]))) {
      if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) throw ImportError(path + ": .npy shape too large: " + excerpt(tuple, 120));
      v = v * 10 + (tuple[j] - '0');
      ++j;
    }
    if (j == i) throw ImportError(path + ": malformed .npy shape " + excerpt(tuple, 120));
    // Python 2 era files may write 64L.
    if (j < tuple.size() && tuple[j] == 'L') ++j;
    dims.push_back(v);
    i = j;
  }
  return dims;
}

}  // namespace

NpyArray read_npy(const std::string& path, int64_t max_rows) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) throw ImportError(path + ": file not found");
  if (!S_ISREG(st.st_mode)) throw ImportError(path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path + ": cannot open file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), 10);
  if (in.gcount() < 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0)
    throw ImportError(path + ": not a .npy file (bad magic; expected a file written by numpy.save)");
  const int major = pre[6], minor = pre[7];
  uint64_t header_len, prefix;
  if (major == 1) {
    header_len = uint64_t{pre[8]} | (uint64_t{pre[9]} << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    in.read(reinterpret_cast<char*>(pre + 10), 2);
    if (in.gcount() < 2) throw ImportError(path + ": truncated .npy header");
    header_len = uint64_t{pre[8]} | (uint64_t{pre[9]} << 8) | (uint64_t{pre[10]} << 16) | (uint64_t{pre[11]} << 24);
    prefix = 12;
  } else {
    throw UnsupportedError(path + ": .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                           " (supported: 1.0, 2.0, 3.0)");
  }
  if (prefix + header_len > file_size) throw ImportError(path + ": truncated .npy header");
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  if (static_cast<uint64_t>(in.gcount()) != header_len) throw ImportError(path + ": truncated .npy header");
  while (!header.empty() && (header.back() == '\n' || header.back() == ' ' || header.back() == '\0')) header.pop_back();

  const std::string descr = header_value(header, "descr", path);
  const std::string fortran = header_value(header, "fortran_order", path);
  const std::string shape = header_value(header, "shape", path);
  if (fortran == "True")
    throw UnsupportedError(path + ": fortran_order (column-major) .npy arrays are not supported; save a C-order array "
                                  "(np.save(f, np.ascontiguousarray(a)))");
  if (fortran != "False") throw ImportError(path + ": malformed .npy header (fortran_order " + fortran + ")");
  NpyArray a;
  size_t item = 0;
  if (descr == "|u1" || descr == "<u1" || descr == "u1") a.dtype = "uint8", item = 1;
  else if (descr == "<i4") a.dtype = "int32", item = 4;
  else if (descr == "<i8") a.dtype = "int64", item = 8;
  else if (descr == "<f4") a.dtype = "float32", item = 4;
  else if (!descr.empty() && descr[0] == '>')
    throw UnsupportedError(path + ": big-endian dtype '" + excerpt(descr) + "' (supported: little-endian uint8, int32, int64, float32; "
                           "convert with a.astype(a.dtype.newbyteorder('<')))");
  else
    throw UnsupportedError(path + ": dtype '" + excerpt(descr) + "' (supported: uint8, int32, int64, float32)");
  if (shape.empty() || shape.front() != '(') throw ImportError(path + ": malformed .npy shape " + excerpt(shape, 120));
  a.dims = parse_shape(shape, path);

  // Declared size against the file size, before allocating anything.
  unsigned __int128 declared = item;
  for (const int64_t d : a.dims) {
    declared *= static_cast<uint64_t>(d);
    if (declared > file_size) break;
  }
  const uint64_t payload = file_size - prefix - header_len;
  if (declared != payload) {
    std::ostringstream os;
    os << path << ": .npy header declares shape " << shape_text(a.dims) << " of " << a.dtype << " ("
       << (declared > file_size ? std::string("more than the file holds") : std::to_string(static_cast<uint64_t>(declared)) + " bytes")
       << "), but the file has " << payload << " bytes of data";
    throw ImportError(os.str());
  }
  const int64_t total_rows = a.dims.empty() ? 1 : a.dims[0];
  a.rows = max_rows > 0 ? std::min(max_rows, total_rows) : total_rows;
  const uint64_t row_bytes = total_rows > 0 ? payload / static_cast<uint64_t>(total_rows) : 0;
  a.bytes.resize(static_cast<size_t>(row_bytes * static_cast<uint64_t>(a.rows)));
  in.read(reinterpret_cast<char*>(a.bytes.data()), static_cast<std::streamsize>(a.bytes.size()));
  if (static_cast<size_t>(in.gcount()) != a.bytes.size()) throw ImportError(path + ": read error");
  return a;
}

Dataset load_npy(const std::string& images_path, const std::string& labels_path, const DataOptions& opt) {
  opt.validate();
  // No labels path: calibration images, whose labels nobody reads (all 0).
  const bool with_labels = !labels_path.empty();
  NpyArray labels;
  if (with_labels) {
    labels = read_npy(labels_path, opt.limit);
    if (labels.dtype == "float32")
      throw UnsupportedError(labels_path + ": labels dtype float32 (supported: int64, int32, uint8)");
    if (labels.dims.size() != 1)
      throw ValidationError(labels_path + ": labels must be 1-D [N], got shape " + shape_text(labels.dims));
  }
  const NpyArray images = read_npy(images_path, opt.limit);
  if (images.dtype != "uint8" && images.dtype != "float32")
    throw UnsupportedError(images_path + ": images dtype " + images.dtype + " (supported: uint8, float32)");
  if (images.dims.size() != 3 && images.dims.size() != 4)
    throw ValidationError(images_path + ": images must be [N,C,H,W] or [N,H,W], got shape " + shape_text(images.dims));
  if (with_labels && images.dims[0] != labels.dims[0])
    throw ValidationError(images_path + " has " + std::to_string(images.dims[0]) + " images but " + labels_path + " has " +
                          std::to_string(labels.dims[0]) + " labels");
  if (images.dims[0] == 0) throw ValidationError(images_path + ": no images (N = 0)");
  Dataset ds;
  ds.source = images_path;
  ds.image_shape = images.dims.size() == 4 ? Shape{images.dims[1], images.dims[2], images.dims[3]}
                                          : Shape{1, images.dims[1], images.dims[2]};
  for (const int64_t d : ds.image_shape)
    if (d < 1) throw ValidationError(images_path + ": empty images, shape " + shape_text(images.dims));
  const int64_t count = images.rows;
  const int64_t channels = ds.image_shape[0], plane = ds.image_shape[1] * ds.image_shape[2];
  if (images.dtype == "uint8") {
    normalize(ds.pixels, count, channels, plane, opt,
              [&](int64_t i) { return static_cast<float>(images.bytes[static_cast<size_t>(i)]) / 255.0f; });
  } else {
    normalize(ds.pixels, count, channels, plane, opt, [&](int64_t i) {
      float v;
      std::memcpy(&v, images.bytes.data() + 4 * i, 4);
      if (!std::isfinite(v))
        throw ValidationError(images_path + ": image " + std::to_string(i / (channels * plane)) + " has a non-finite value");
      return v;
    });
  }
  ds.labels.resize(static_cast<size_t>(count));
  for (int64_t i = 0; with_labels && i < count; ++i) {
    int64_t v;
    if (labels.dtype == "uint8") {
      v = labels.bytes[static_cast<size_t>(i)];
    } else if (labels.dtype == "int32") {
      int32_t x;
      std::memcpy(&x, labels.bytes.data() + 4 * i, 4);
      v = x;
    } else {
      std::memcpy(&v, labels.bytes.data() + 8 * i, 8);
    }
    if (v < 0 || v > std::numeric_limits<int>::max())
      throw ValidationError(labels_path + ": label " + std::to_string(i) + " is " + std::to_string(v) + " (labels must be class indices >= 0)");
    ds.labels[static_cast<size_t>(i)] = static_cast<int>(v);
  }
  return ds;
}

bool DataSource::is_npy() const {
  return !labels.empty() || (data.size() >= 4 && data.compare(data.size() - 4, 4, ".npy") == 0);
}

Dataset load(const DataSource& src, const std::string& split, const DataOptions& opt) {
  if (split != "train" && split != "test") throw ConfigError("data.split: must be 'train' or 'test' (got '" + split + "')");
  if (split == "train" && !src.calib.empty()) return load_npy(src.calib, "", opt);
  if (!src.is_npy()) return load_split(src.data, split, opt);
  if (is_dir(src.data))
    throw ConfigError("--labels: only with .npy images (--data " + src.data + " is a directory, read as IDX files with their labels)");
  if (src.labels.empty()) throw ConfigError("--data " + src.data + ": .npy images need --labels LABELS.npy");
  return load_npy(src.data, src.labels, opt);
}

}  // namespace ftdla::data
