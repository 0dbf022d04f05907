// SPDX-License-Identifier: MIT
// Dataflow mapping of compute layers onto an R x C systolic PE array, and the cycle model.
//
// Every Conv/Gemm is viewed as a GEMM per group: M output pixels x N output channels x K = C/g*R*S.
// Weight-stationary (WS, default): array rows <-> K, columns <-> N. Tile (g, nt, kt) loads weights
//   W[n = nt*C + c][k = kt*R + r] into PE(r, c) (one row per cycle, over a separate load path), then streams
//   the M input vectors: x[m][k] enters row r and moves right; partial sums move down and leave the used
//   rows at the bottom (k-tiles are chained: the next k-tile starts from the previous partial sum).
//   The output neuron register of column c sits in the bottom PE row (R - 1).
// Output-stationary (OS): rows <-> M, columns <-> N. Tile (g, mt, nt): PE(r, c) accumulates output
//   (m = mt*R + r, n = nt*C + c) over K steps; x[m][k] moves right along row r, W[n][k] moves down column c.
// Unused rows/columns of a partial tile are idle (bypassed).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ftdla/model/lowering.hpp"
#include "ftdla/quant/qgraph.hpp"

namespace ftdla::accel {

enum class Dataflow { WeightStationary, OutputStationary };

/// "ws" / "os".
const char* dataflow_name(Dataflow d);
/// Parse "ws" | "os"; throws ConfigError listing the accepted names.
Dataflow parse_dataflow(const std::string& s);

struct ArraySpec {
  int rows = 32;  ///< R, in [1, 1024]
  int cols = 32;  ///< C, in [1, 1024]
  Dataflow dataflow = Dataflow::WeightStationary;
  /// Throws ConfigError naming the field ("accel.rows: ...").
  void validate() const;
};

/// One compute layer on the array.
struct LayerMapping {
  size_t layer = 0;          ///< index into QGraph::layers
  std::string name;
  model::GemmDims dims;
  int64_t tiles = 0;         ///< tiles over all groups
  int64_t macs = 0;          ///< useful MACs per inference
  int64_t cycles = 0;        ///< cycles per inference, including weight load and fill/drain
  double utilization = 0.0;  ///< macs / (cycles * R * C)
};

/// Cycles to run a GEMM of the given dims on the array (the per-layer cycle model).
int64_t gemm_cycles(const ArraySpec& a, const model::GemmDims& d);

/// A PE coordinate.
struct PeCoord {
  int r = 0, c = 0;
};

struct Mapping {
  ArraySpec spec;
  std::vector<LayerMapping> layers;  ///< one per compute layer, in QGraph order
  int64_t total_cycles = 0;
  int64_t total_macs = 0;

  /// The mapping entry of QGraph layer index `layer` (throws InternalError if not a compute layer).
  const LayerMapping& of(size_t layer) const;
  /// The PE that performs MAC (m, n, k) of a group (n within the group).
  PeCoord pe_of_mac(int64_t m, int64_t n, int64_t k) const {
    if (spec.dataflow == Dataflow::WeightStationary)
      return {static_cast<int>(k % spec.rows), static_cast<int>(n % spec.cols)};
    return {static_cast<int>(m % spec.rows), static_cast<int>(n % spec.cols)};
  }
  /// The PE whose output neuron register holds output (m, n).
  PeCoord pe_of_output(int64_t m, int64_t n) const {
    if (spec.dataflow == Dataflow::WeightStationary) return {spec.rows - 1, static_cast<int>(n % spec.cols)};
    return {static_cast<int>(m % spec.rows), static_cast<int>(n % spec.cols)};
  }
};

/// Map every compute layer of `q`; throws ConfigError if the spec is invalid.
Mapping map_network(const quant::QGraph& q, const ArraySpec& spec);

}  // namespace ftdla::accel
