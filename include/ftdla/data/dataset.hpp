// SPDX-License-Identifier: MIT
// Image classification data: IDX files (the MNIST/Fashion-MNIST format, gzipped or plain), or NumPy .npy
// files (what np.save writes, e.g. a PyTorch test set exported with np.save).
// Images become NCHW float. uint8 pixels (IDX, or a uint8 .npy) are scaled to [0, 1] first: x = pixel/255;
// float32 .npy pixels are taken as they are: x = value. Then x = (x - mean[c]) / std[c] per channel c.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ftdla/core/tensor.hpp"

namespace ftdla::data {

/// Debian's dataset-fashion-mnist location, the default data directory.
inline constexpr const char* kDefaultDataDir = "/usr/share/datasets/fashion-mnist";

struct DataOptions {
  DataOptions() = default;
  /// One mean and std for all channels, and a limit: DataOptions{0.0f, 1.0f, 256}.
  DataOptions(float m, float s, int64_t l = 0) : mean(m), std(s), limit(l) {}
  float mean = 0.0f;   ///< subtracted from every channel (unless mean_per_channel is given)
  float std = 1.0f;    ///< divides (x - mean); must be > 0 (unless std_per_channel is given)
  int64_t limit = 0;   ///< keep only the first `limit` images; 0 = all
  /// Per-channel normalization: one value per image channel, replacing `mean` / `std` when not empty.
  /// The count must match the images' channels (checked when loading).
  std::vector<float> mean_per_channel, std_per_channel;
  void validate() const;  ///< throws ConfigError
  /// Mean and std of channel `c` of `channels`; throws ConfigError if a per-channel list has another size.
  float channel_mean(int64_t c, int64_t channels) const;
  float channel_std(int64_t c, int64_t channels) const;
};

struct Dataset {
  std::string source;          ///< directory or file(s) it came from
  Shape image_shape;           ///< per image [C, H, W]: [1, 28, 28] for (Fashion-)MNIST
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

/// A .npy array: NPY format 1.0, 2.0 or 3.0, C order, little-endian (or byte-sized) elements.
struct NpyArray {
  std::string dtype;           ///< "uint8", "int32", "int64" or "float32"
  Shape dims;                  ///< as declared in the header
  std::vector<uint8_t> bytes;  ///< raw little-endian elements of the rows read (see read_npy)
  int64_t rows = 0;            ///< leading-dimension entries in `bytes`
};

/// Read a .npy file, only its first `max_rows` entries along the first dimension (0 = all). The header's
/// shape and dtype are checked against the file size before anything is allocated. Throws ImportError
/// (not a .npy file, truncated or oversized payload) or UnsupportedError (fortran_order, big-endian or
/// a dtype other than uint8, int32, int64, float32).
NpyArray read_npy(const std::string& path, int64_t max_rows = 0);

/// Images and labels from .npy files: images [N,C,H,W] or [N,H,W] (C = 1), uint8 (scaled by 1/255) or
/// float32 (taken as they are); labels 1-D of length N, int64, int32 or uint8, each >= 0. Throws
/// ImportError / UnsupportedError (file, dtype) or ValidationError (shapes, counts, label values,
/// non-finite pixels); every message names the file.
/// An empty `labels` path loads images alone (labels 0): calibration images.
Dataset load_npy(const std::string& images, const std::string& labels, const DataOptions& opt = {});

/// Where a command's images come from: an IDX directory (`data`, with its train and test splits), or
/// .npy files (`data` = images, `labels`), which have one split: the same images serve as test and
/// calibration images.
struct DataSource {
  std::string data = kDefaultDataDir;
  std::string labels;  ///< labels .npy; empty for an IDX directory
  std::string calib;   ///< .npy calibration images (the "train" split, no labels); empty: the data's own
  /// True when `data` is read as .npy images: `labels` is given or `data` ends in ".npy".
  bool is_npy() const;
};

/// Split "train" or "test" of `src`: load_split() for an IDX directory, load_npy() for .npy files (both
/// splits are the same images); "train" is `src.calib` when given. Throws ConfigError for .npy images without labels or labels without
/// .npy images.
Dataset load(const DataSource& src, const std::string& split, const DataOptions& opt = {});

}  // namespace ftdla::data
