// Independent reference for fault injection (issue 13): the network computed on a simulated PE array.
//
// Every MAC of every compute layer runs through accel::Pe, the PE model the generated Verilog is checked
// against (tests/cost/pe_rtl_test.cpp, cosim_test.cpp), wired as the array of accel/mapping.hpp and clocked
// edge by edge, tile by tile, in array order. Faults are events on those PE registers, applied through the
// PE's own ports or its stuck-at hook (accel::PeStuck):
//   neuron transient: inject_out (copy 0) when the output register loads (g, m, n);
//   acc transient:    inject_acc (copy 0) at the edge that adds term k of (g, m, n);
//   input transient:  the x_in wire of the PE that latches x[m][k] for column n is flipped at that edge, so
//                     the flop holds the flipped value and passes it right as the array does;
//   weight transient: WS: the stationary weight register is rewritten with the flipped value (load_w) at the
//                     edge before the MAC of pixel m; OS: the w_in wire of the PE that latches W[n][k] for
//                     row m is flipped, and the value moves down;
//   permanent:        PeStuck on PE(r, c) of every layer's grid.
// How far a corrupted value travels is not looked up from the fault (span_end is ignored): it is wherever the
// simulated wires carry it. Protection is applied as circuits: hardened output bits and the range corrector
// are PeConfig options of every PE (their TMR copies and voter are the Pe's), protected channels are
// recomputed on a fault-free TMR lane (one Pe with its partial sum fed back) whose result replaces the
// array's, and full TMR runs the array without faults.
//
// Shared with the fast path (fault/injector.cpp): only golden arithmetic and geometry, none of it fault
// semantics: IntegerEngine::requantize (the column requantizer) and run_layer for pooling / Add / Clamp /
// Reshape, model::im2col (the engine's lowering, to stream the input matrix), GemmDims of the Mapping, and
// the fault structs themselves.
//
// WS tile (g, nt, kt), rows x cols used: each PE loads its weight over the load path, then x[m][kt*R + r]
// enters row r at edge m + r, moves one PE right per edge; PE(r, c) latches pixel m at edge m + r + c and
// adds its term at edge m + r + c + 1, taking psum_in from the PE above (row 0: the bias, or the previous
// k-tile's partial sum from the psum buffer). The last k-tile's sums are requantized and loaded into the
// output register of PE(R - 1, c) one edge after they leave the bottom used row.
// OS tile (g, mt, nt): x[mt*R + r][k] enters row r at edge k + r, W[nt*C + c][k] enters column c at edge
// k + c (moving down through each PE's weight register, load_w every edge); PE(r, c) adds term k at edge
// k + r + c + 1 to its own partial sum (psum_in = psum_out, the bias for k = 0) and loads its output
// register at edge K + r + c + 1.
// A PE is clocked only on the edges where it latches or computes something of the tile (the others would
// only compute values nobody reads), which keeps the cost near one clock per MAC.
#pragma once
#include <cstdint>
#include <vector>

#include "ftdla/accel/mapping.hpp"
#include "ftdla/engine/integer_engine.hpp"
#include "ftdla/fault/fault.hpp"

namespace ftdla::fault {

class PeArrayReference {
 public:
  /// `engine` and `mapping` must outlive the reference.
  PeArrayReference(const engine::IntegerEngine& engine, const accel::Mapping& mapping, Shield shield = {});

  /// The network's output registers for input registers `input` under `faults`. If `trace` is given it
  /// receives every register value (acc: the partial sums read from the array, per compute layer).
  /// Thread-safe. Throws std::invalid_argument for a fault outside the network or array.
  std::vector<int32_t> run(const std::vector<int32_t>& input, const FaultSet& faults,
                           engine::Trace* trace = nullptr) const;

  /// PE clock edges simulated by the last run() on this thread (array and TMR lane).
  static int64_t last_clocks();

 private:
  const engine::IntegerEngine& e_;
  const accel::Mapping& mp_;
  Shield shield_;
};

}  // namespace ftdla::fault
