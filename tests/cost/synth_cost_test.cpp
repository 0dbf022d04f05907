// SPDX-License-Identifier: MIT
// The PE port activity measured on a real model: a MAC-weighted average over the layers, within the
// ranges OpenSTA accepts.
#include "ftdla/cost/synth_cost.hpp"

#include <gtest/gtest.h>

#include "support/models.hpp"

namespace ftdla::cost {
namespace {

TEST(OperandActivity, IsTheMacWeightedAverageOfTheLayers) {
  const test::Quantized& m = test::quantized("lenet5");
  const accel::Mapping mp = accel::map_network(m.q, {});
  std::vector<engine::Trace> traces(2);
  for (int i = 0; i < 2; ++i) m.engine->run(test::test_set().image(i), traces[static_cast<std::size_t>(i)]);
  const OperandActivity all = measure_operand_activity(m.q, mp, traces);
  // A layer with one output pixel (Gemm) has no consecutive accumulators: it carries no psum weight.
  double macs = 0, x = 0, psum_macs = 0, psum = 0, duty = 0;
  ASSERT_GE(mp.layers.size(), 2u);
  for (const accel::LayerMapping& lm : mp.layers) {
    accel::Mapping one = mp;
    one.layers = {lm};
    const OperandActivity a = measure_operand_activity(m.q, one, traces);
    const double w = static_cast<double>(lm.macs);
    macs += w;
    x += w * a.x_in.activity;
    if (lm.dims.m > 1) {
      psum_macs += w;
      psum += w * a.psum_in.activity;
    }
    duty += w * a.x_in.duty;
  }
  EXPECT_NEAR(all.x_in.activity, x / macs, 1e-12);
  ASSERT_GT(psum_macs, 0.0);
  EXPECT_NEAR(all.psum_in.activity, psum / psum_macs, 1e-12);
  EXPECT_NEAR(all.x_in.duty, duty / macs, 1e-12);
  for (const PortActivity& p : all.ports()) {
    EXPECT_GE(p.activity, 0.0) << p.port;
    EXPECT_LE(p.activity, 2.0) << p.port;
    EXPECT_GE(p.duty, 0.0) << p.port;
    EXPECT_LE(p.duty, 1.0) << p.port;
  }
  EXPECT_GT(all.x_in.activity, 0.0);
  EXPECT_GT(all.samples, 0);
}

}  // namespace
}  // namespace ftdla::cost
