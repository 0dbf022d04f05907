// SPDX-License-Identifier: MIT
// Post-training quantization: calibrate activation ranges on sample images, quantize weights per
// output channel, derive requantization multipliers, fuse Relu/Clip into their producers.
#pragma once
#include "ftdla/data/dataset.hpp"
#include "ftdla/model/graph.hpp"
#include "ftdla/quant/qgraph.hpp"

#include <cstdint>
#include <vector>

namespace ftdla::quant {

/// Quantize `g` using the first `opt.calib_images` images of `calib` (typically the training split).
/// Throws ConfigError for invalid options, ValidationError if the images do not fit the model input.
/// Float range [lo, hi] of every value over the first `images` calibration images: the first calibration
/// pass. It depends on neither bit widths nor range constraints, so one measurement serves every
/// QuantOptions of a model and data set (the optimizer quantizes once per k).
struct FloatRanges {
  int64_t images = 0;
  std::vector<double> lo, hi;  ///< per value id
};
FloatRanges measure_ranges(const model::Graph& g, const data::Dataset& calib, int64_t images);

/// `ranges`, when given and measured on min(opt.calib_images, calib.count()) images of the same graph and
/// data, replaces the first pass (same result, one float pass saved).
QGraph quantize(const model::Graph& g, const data::Dataset& calib, const QuantOptions& opt,
                const FloatRanges* ranges = nullptr);

/// Check that a dataset's images fit the model's input shape; throws ValidationError naming both shapes.
void check_input_fits(const model::Graph& g, const data::Dataset& ds);
/// Check that every label of a test set is one of the model's outputs (a class index below the number
/// of logits); throws ValidationError naming the first label that is not.
void check_labels_fit(const model::Graph& g, const data::Dataset& ds);

}  // namespace ftdla::quant
