// SPDX-License-Identifier: MIT
// The C++ golden PE model (accel/pe.hpp) on hand-computed cases. It lives in the cost tests until the
// accel library exists; pe_rtl_test.cpp checks it against the generated Verilog.
#include "ftdla/accel/pe.hpp"

#include <gtest/gtest.h>

#include "ftdla/core/error.hpp"

namespace ftdla::accel {
namespace {

// Load weight `w` and activation `x` (one edge), then compute psum_in + (x - zp) * w (second edge).
int64_t mac_once(Pe& pe, int64_t w, uint64_t x_raw, int64_t zp, int64_t psum_in) {
  PeInputs in;
  in.load_w = true;
  in.w_in = static_cast<uint64_t>(w);
  in.x_in = x_raw;
  pe.clock(in);
  PeInputs mac;
  mac.zp = zp;
  mac.psum_in = static_cast<uint64_t>(psum_in);
  pe.clock(mac);
  return pe.psum_out();
}

TEST(PeConfig, DefaultsAreValid) { EXPECT_TRUE(PeConfig{}.validate().empty()); }

TEST(PeConfig, ValidateNamesFieldAndRange) {
  PeConfig c;
  c.harden_out_bits = 9;
  const auto problems = c.validate();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "pe.harden_out_bits: must be in [0, 8] (got 9)");
}

TEST(PeConfig, ValidateReportsAllProblemsAtOnce) {
  PeConfig c;
  c.wbits = 1;
  c.abits = 17;
  c.accbits = 33;
  c.harden_acc_bits = -1;
  const auto problems = c.validate();
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_NE(problems[0].find("pe.wbits"), std::string::npos);
  EXPECT_NE(problems[1].find("pe.abits"), std::string::npos);
  EXPECT_NE(problems[2].find("pe.accbits"), std::string::npos);
  EXPECT_NE(problems[3].find("pe.harden_acc_bits"), std::string::npos);
}

TEST(PeConfig, RequireValidThrowsConfigErrorWithEveryProblem) {
  PeConfig c;
  c.wbits = 17;
  c.harden_out_bits = 9;
  try {
    c.require_valid();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("pe.wbits: must be in [2, 16] (got 17)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("pe.harden_out_bits"), std::string::npos) << msg;
  }
  EXPECT_THROW(Pe{c}, ConfigError);
}

TEST(Pe, MacSubtractsZeroPointAndAccumulates) {
  Pe pe(PeConfig{});
  EXPECT_EQ(mac_once(pe, -3, 200, 10, 1000), 1000 + (200 - 10) * -3);
  Pe pe2(PeConfig{});
  EXPECT_EQ(mac_once(pe2, 127, 255, -256, -5), -5 + (255 + 256) * 127);  // zp at its (A+1)-bit minimum
}

TEST(Pe, SignedActivationsAreTwosComplement) {
  PeConfig c;
  c.x_signed = true;
  Pe pe(c);
  EXPECT_EQ(mac_once(pe, 5, 0xFF, 0, 0), -5);  // 0xFF is -1
  Pe unsigned_pe(PeConfig{});
  EXPECT_EQ(mac_once(unsigned_pe, 5, 0xFF, 0, 0), 255 * 5);
}

TEST(Pe, AccumulatorWrapsModulo2P) {
  PeConfig c;
  c.accbits = 16;
  Pe pe(c);
  EXPECT_EQ(mac_once(pe, 2, 1, 0, 32767), -32767);  // 32767 + 2 wraps to -32767
  EXPECT_EQ(pe.psum_out_raw(), 0x8001u);
}

TEST(Pe, MacUsesRegisteredActivationAndStationaryWeight) {
  Pe pe(PeConfig{});
  PeInputs in;
  in.load_w = true;
  in.w_in = 3;
  in.x_in = 7;
  pe.clock(in);  // w = 3, x_reg = 7; the MAC of this edge used the old registers (0)
  EXPECT_EQ(pe.psum_out(), 0);
  EXPECT_EQ(pe.x_out(), 7u);
  in.load_w = false;
  in.w_in = 100;  // ignored: weight is stationary
  in.x_in = 9;
  pe.clock(in);
  EXPECT_EQ(pe.psum_out(), 7 * 3);
  pe.clock(in);
  EXPECT_EQ(pe.psum_out(), 9 * 3);
  EXPECT_EQ(pe.w_reg(), 3u);
}

TEST(Pe, OutputRegisterLoadsOnlyWhenEnabled) {
  Pe pe(PeConfig{});
  PeInputs in;
  in.load_out = true;
  in.out_d = 0xA5;
  pe.clock(in);
  EXPECT_EQ(pe.out_raw(), 0xA5u);
  in.load_out = false;
  in.out_d = 0x11;
  in.inject_out = 0xFF;  // injection only acts at load time
  pe.clock(in);
  EXPECT_EQ(pe.out_raw(), 0xA5u);
}

TEST(Pe, SignedOutputReadsTwosComplement) {
  PeConfig c;
  c.x_signed = true;
  Pe pe(c);
  PeInputs in;
  in.load_out = true;
  in.out_d = 0x80;
  pe.clock(in);
  EXPECT_EQ(pe.out(), -128);
}

TEST(Pe, FlipInHardenedBitIsVotedAwayInEveryCopy) {
  PeConfig c;
  c.harden_out_bits = 3;  // bits 5..7
  for (int copy = 0; copy < 3; ++copy)
    for (int bit = 5; bit < 8; ++bit) {
      Pe pe(c);
      PeInputs in;
      in.load_out = true;
      in.out_d = 0x3C;
      in.inject_out = uint64_t{1} << bit;
      in.inject_copy = copy;
      pe.clock(in);
      EXPECT_EQ(pe.out_raw(), 0x3Cu) << "copy " << copy << " bit " << bit;
      EXPECT_NE(pe.out_copy(copy), copy == 0 ? 0x3Cu : 0x3Cu & 0xE0u);  // the copy itself is corrupted
    }
}

TEST(Pe, FlipInPlainBitShowsWhateverTheCopy) {
  PeConfig c;
  c.harden_out_bits = 3;
  for (int copy = 0; copy < 4; ++copy) {
    Pe pe(c);
    PeInputs in;
    in.load_out = true;
    in.out_d = 0x3C;
    in.inject_out = 0x10;  // bit 4: plain
    in.inject_copy = copy;
    pe.clock(in);
    EXPECT_EQ(pe.out_raw(), 0x2Cu) << "copy " << copy;
  }
}

TEST(Pe, CopyThreeHitsNoHardenedCopy) {
  PeConfig c;
  c.harden_out_bits = 8;
  Pe pe(c);
  PeInputs in;
  in.load_out = true;
  in.out_d = 0x3C;
  in.inject_out = 0xFF;
  in.inject_copy = 3;
  pe.clock(in);
  EXPECT_EQ(pe.out_raw(), 0x3Cu);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(pe.out_copy(k), 0x3Cu);
}

TEST(Pe, UnhardenedRegisterShowsEveryFlip) {
  Pe pe(PeConfig{});
  PeInputs in;
  in.load_out = true;
  in.out_d = 0x3C;
  in.inject_out = 0x81;
  in.inject_copy = 2;
  pe.clock(in);
  EXPECT_EQ(pe.out_raw(), 0xBDu);
}

TEST(Pe, AccumulatorHardeningMasksTopBitFlips) {
  PeConfig c;
  c.accbits = 16;
  c.harden_acc_bits = 4;
  Pe pe(c);
  PeInputs in;
  in.psum_in = 0x1234;
  in.inject_acc = 0xF001;  // four hardened bits in copy 1, plus plain bit 0
  in.inject_acc_copy = 1;
  pe.clock(in);
  EXPECT_EQ(pe.psum_out_raw(), 0x1235u);
}

TEST(Pe, InputsAreTruncatedToPortWidths) {
  PeConfig c;
  c.abits = 4;
  Pe pe(c);
  PeInputs in;
  in.load_w = true;
  in.w_in = 0x1FF;  // 8-bit 0xFF = -1
  in.x_in = 0xF3;   // 4-bit 3
  pe.clock(in);
  PeInputs mac;
  mac.zp = 0x3F;  // 5-bit 0x1F = -1
  pe.clock(mac);
  EXPECT_EQ(pe.psum_out(), (3 - -1) * -1);
}

TEST(Pe, StuckFlopsReadTheirStuckValue) {
  Pe pe(PeConfig{});
  PeStuck s;
  s.w_mask = 0x01, s.w_value = 0x01;   // weight bit 0 stuck at 1
  s.x_mask = 0x80, s.x_value = 0x00;   // activation bit 7 stuck at 0
  s.acc_mask = 0x100, s.acc_value = 0x100;
  pe.set_stuck(s);
  PeInputs in;
  in.load_w = true;
  in.w_in = 0x04;  // reads 5
  in.x_in = 0x83;  // reads 3, and x_out passes 3 on
  pe.clock(in);
  EXPECT_EQ(pe.w_reg(), 0x05u);
  EXPECT_EQ(pe.x_out(), 0x03u);
  PeInputs mac;
  pe.clock(mac);
  EXPECT_EQ(pe.psum_out(), 3 * 5 + 0x100);
  pe.set_stuck(PeStuck{});  // freed: the next value written is kept
  pe.clock(in);
  EXPECT_EQ(pe.w_reg(), 0x04u);
  EXPECT_EQ(pe.x_out(), 0x83u);
}

TEST(Pe, StuckHardenedOutputBitIsVotedAway) {
  PeConfig c;
  c.harden_out_bits = 2;
  Pe pe(c);
  PeStuck s;
  s.out_mask = 0xC1, s.out_value = 0xC1;  // two hardened bits (copy 0 only) and plain bit 0
  pe.set_stuck(s);
  PeInputs in;
  in.load_out = true;
  in.out_d = 0x10;
  pe.clock(in);
  EXPECT_EQ(pe.out_raw(), 0x11u);
  EXPECT_EQ(pe.out_copy(0), 0xD1u);
}

}  // namespace
}  // namespace ftdla::accel
