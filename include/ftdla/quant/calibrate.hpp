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

/// True when quantize(g, ..., opt) takes the model's own scales instead of calibrating (QuantSource Model, or
/// Auto on a pre-quantized graph): then it needs no calibration ranges.
bool uses_model_scales(const model::Graph& g, const QuantOptions& opt);

/// `ranges`, when given and measured on min(opt.calib_images, calib.count()) images of the same graph and
/// data, replaces the first pass (same result, one float pass saved).
QGraph quantize(const model::Graph& g, const data::Dataset& calib, const QuantOptions& opt,
                const FloatRanges* ranges = nullptr);

/// Check that a dataset fits the model: its images have the model's input shape (else ValidationError
/// naming both shapes) and it has at least one image.
void check_input_fits(const model::Graph& g, const data::Dataset& ds);
/// Check that every label of `ds` is one of the model's classes [0, numel(output)), where accuracy is
/// measured (calibration ignores labels); throws ValidationError naming the first bad image index.
void check_labels(const model::Graph& g, const data::Dataset& ds);

}  // namespace ftdla::quant
