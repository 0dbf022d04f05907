// SPDX-License-Identifier: MIT
// Image classification data from IDX files (the MNIST/Fashion-MNIST format), gzipped or plain.
// Images become NCHW float: (pixel/255 - mean) / std, the usual PyTorch export convention.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ftdla/core/tensor.hpp"

namespace ftdla::data {

/// Debian's dataset-fashion-mnist location, the default data directory.
inline constexpr const char* kDefaultDataDir = "/usr/share/datasets/fashion-mnist";

struct DataOptions {
  float mean = 0.0f;   ///< subtracted from pixel/255
  float std = 1.0f;    ///< divides (pixel/255 - mean); must be > 0
  int64_t limit = 0;   ///< keep only the first `limit` images; 0 = all
  void validate() const;  ///< throws ConfigError
};

struct Dataset {
  std::string source;          ///< directory it came from
  Shape image_shape;           ///< per image, [1, 28, 28] for (Fashion-)MNIST
  std::vector<float> pixels;   ///< count * numel(image_shape)
  std::vector<int> labels;     ///< count
  int64_t count() const { return static_cast<int64_t>(labels.size()); }
  const float* image(int64_t i) const { return pixels.data() + i * numel(image_shape); }
};

/// Images [begin, end) of `d` as a dataset of their own (source gets "[begin:end]" appended).
/// Throws ValidationError unless 0 <= begin <= end <= d.count().
Dataset subset(const Dataset& d, int64_t begin, int64_t end);

/// Raw IDX tensor: dims and unsigned bytes.
struct IdxArray {
  Shape dims;
  std::vector<uint8_t> bytes;
};

/// Bound on one IDX file's payload (decompressed): Fashion-MNIST's largest is 47 MB; a gzip bomb stops here.
inline constexpr int64_t kMaxIdxBytes = int64_t{1} << 30;

/// Read an IDX file (ubyte element type); `path` may be gzipped (detected by magic). Throws ImportError
/// (bad header, payload size not what the header declares, over kMaxIdxBytes, corrupt or truncated gzip).
IdxArray read_idx(const std::string& path);

/// Load split "train" or "test" from `dir` ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]).
/// Throws ImportError (missing directory/file, bad format) or ValidationError (image/label count mismatch,
/// no images).
Dataset load_split(const std::string& dir, const std::string& split, const DataOptions& opt = {});

}  // namespace ftdla::data
