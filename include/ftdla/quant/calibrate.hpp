// SPDX-License-Identifier: MIT
// Post-training quantization: calibrate activation ranges on sample images, quantize weights per
// output channel, derive requantization multipliers, fuse Relu/Clip into their producers.
#pragma once
#include "ftdla/data/dataset.hpp"
#include "ftdla/model/graph.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::quant {

/// Quantize `g` using the first `opt.calib_images` images of `calib` (typically the training split).
/// Throws ConfigError for invalid options, ValidationError if the images do not fit the model input.
QGraph quantize(const model::Graph& g, const data::Dataset& calib, const QuantOptions& opt);

/// Check that a dataset's images fit the model's input shape; throws ValidationError naming both shapes.
void check_input_fits(const model::Graph& g, const data::Dataset& ds);

}  // namespace ftdla::quant
