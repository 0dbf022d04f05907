// SPDX-License-Identifier: MIT
#include "ftdla/accel/mapping.hpp"

#include "ftdla/core/error.hpp"

namespace ftdla::accel {

namespace {
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
}  // namespace

const char* dataflow_name(Dataflow d) { return d == Dataflow::WeightStationary ? "ws" : "os"; }

Dataflow parse_dataflow(const std::string& s) {
  if (s == "ws") return Dataflow::WeightStationary;
  if (s == "os") return Dataflow::OutputStationary;
  throw ConfigError("accel.dataflow: unknown dataflow '" + s + "' (expected ws or os)");
}

void ArraySpec::validate() const {
  if (rows < 1 || rows > 1024) throw ConfigError("accel.rows: must be in [1, 1024] (got " + std::to_string(rows) + ")");
  if (cols < 1 || cols > 1024) throw ConfigError("accel.cols: must be in [1, 1024] (got " + std::to_string(cols) + ")");
}

int64_t gemm_cycles(const ArraySpec& a, const model::GemmDims& d) {
  const int64_t R = a.rows, C = a.cols;
  int64_t cycles = 0;
  if (d.n <= 0 || d.m <= 0 || d.k <= 0) return 0;
  if (a.dataflow == Dataflow::WeightStationary) {
    // Per tile: load rows_used weight rows, stream M vectors, skew fill/drain of rows_used + cols_used - 2.
    for (int64_t kt = 0; kt < ceil_div(d.k, R); ++kt) {
      const int64_t rows = std::min(R, d.k - kt * R);
      for (int64_t nt = 0; nt < ceil_div(d.n, C); ++nt) {
        const int64_t cols = std::min(C, d.n - nt * C);
        cycles += rows + d.m + rows + cols - 2;
      }
    }
  } else {
    // Per tile: K accumulation steps, skew rows_used + cols_used - 2, then drain rows_used outputs per column.
    for (int64_t mt = 0; mt < ceil_div(d.m, R); ++mt) {
      const int64_t rows = std::min(R, d.m - mt * R);
      for (int64_t nt = 0; nt < ceil_div(d.n, C); ++nt) {
        const int64_t cols = std::min(C, d.n - nt * C);
        cycles += d.k + rows + cols - 2 + rows;
      }
    }
  }
  return cycles * d.groups;
}

const LayerMapping& Mapping::of(size_t layer) const {
  for (const auto& l : layers)
    if (l.layer == layer) return l;
  throw InternalError("Mapping::of: layer " + std::to_string(layer) + " is not a compute layer");
}

Mapping map_network(const quant::QGraph& q, const ArraySpec& spec) {
  spec.validate();
  Mapping mp;
  mp.spec = spec;
  for (size_t l : q.compute_layers()) {
    LayerMapping lm;
    lm.layer = l;
    lm.name = q.layers[l].name;
    lm.dims = model::gemm_dims(q.graph, q.graph.nodes[q.layers[l].node]);
    const auto& d = lm.dims;
    lm.tiles = d.groups * (spec.dataflow == Dataflow::WeightStationary ? ceil_div(d.k, spec.rows) : ceil_div(d.m, spec.rows)) *
               ceil_div(d.n, spec.cols);
    lm.macs = d.groups * d.m * d.n * d.k;
    lm.cycles = gemm_cycles(spec, d);
    lm.utilization = static_cast<double>(lm.macs) / (static_cast<double>(lm.cycles) * spec.rows * spec.cols);
    mp.total_cycles += lm.cycles;
    mp.total_macs += lm.macs;
    mp.layers.push_back(lm);
  }
  return mp;
}

}  // namespace ftdla::accel
