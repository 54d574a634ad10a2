// Dequantization of hand-built blocks whose values are known exactly (small integers times
// powers of two), one test per format. The expected values are derived from the layout
// description in blocks.h, not from our own quantizer.
#include "core/error.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quant.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ingot::quant {
namespace {

constexpr uint16_t kHalfOne = 0x3c00, kHalfHalf = 0x3800, kHalfQuarter = 0x3400, kHalfTwo = 0x4000,
                   kHalfMinusOne = 0xbc00;

template <typename Block>
std::vector<float> dequantize_block(Type type, const Block& block, int n) {
  std::vector<float> out(static_cast<size_t>(n));
  dequantize_row(type, &block, out.data(), n);
  return out;
}

TEST(QuantDequantize, FloatTypes) {
  const float f32[3] = {1.5f, -2.0f, 0.0f};
  const uint16_t f16[3] = {kHalfOne, kHalfMinusOne, 0x7bff};  // 1, -1, 65504
  const uint16_t bf16[3] = {0x3f80, 0xc000, 0x4049};           // 1, -2, 3.140625
  float out[3];
  dequantize_row(Type::F32, f32, out, 3);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -2.0f);
  dequantize_row(Type::F16, f16, out, 3);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -1.0f);
  EXPECT_EQ(out[2], 65504.0f);
  dequantize_row(Type::BF16, bf16, out, 3);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 3.140625f);
}

TEST(QuantDequantize, Q4_0) {
  BlockQ4_0 b{};
  b.d = kHalfHalf;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = dequantize_block(Type::Q4_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], (j - 8) * 0.5f);
    EXPECT_EQ(y[j + 16], (7 - j) * 0.5f);
  }
}

TEST(QuantDequantize, Q4_1) {
  BlockQ4_1 b{};
  b.d = kHalfQuarter;
  b.m = kHalfMinusOne;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = dequantize_block(Type::Q4_1, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], j * 0.25f - 1);
    EXPECT_EQ(y[j + 16], (15 - j) * 0.25f - 1);
  }
}

TEST(QuantDequantize, Q5_0AndQ5_1) {
  BlockQ5_0 b0{};
  BlockQ5_1 b1{};
  b0.d = b1.d = kHalfOne;
  b1.m = kHalfHalf;
  const uint32_t qh = 0xaaaaaaaau;  // the fifth bit is set on odd elements
  std::memcpy(b0.qh, &qh, 4);
  std::memcpy(b1.qh, &qh, 4);
  for (int j = 0; j < 16; ++j) b0.qs[j] = b1.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y0 = dequantize_block(Type::Q5_0, b0, 32);
  const auto y1 = dequantize_block(Type::Q5_1, b1, 32);
  for (int j = 0; j < 32; ++j) {
    const int low = j < 16 ? j : 15 - (j - 16);
    const int q = low + ((j % 2) ? 16 : 0);
    EXPECT_EQ(y0[j], static_cast<float>(q - 16)) << j;
    EXPECT_EQ(y1[j], static_cast<float>(q) + 0.5f) << j;
  }
}

TEST(QuantDequantize, Q8_0AndQ8_1AndQ8_K) {
  BlockQ8_0 b0{};
  BlockQ8_1 b1{};
  b0.d = b1.d = kHalfTwo;
  for (int j = 0; j < 32; ++j) b0.qs[j] = b1.qs[j] = static_cast<int8_t>(j - 16);
  const auto y0 = dequantize_block(Type::Q8_0, b0, 32);
  const auto y1 = dequantize_block(Type::Q8_1, b1, 32);
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(y0[j], 2.0f * (j - 16));
    EXPECT_EQ(y1[j], 2.0f * (j - 16));
  }
  BlockQ8_K bk{};
  bk.d = 0.5f;
  for (int j = 0; j < 256; ++j) bk.qs[j] = static_cast<int8_t>(j - 128);
  const auto yk = dequantize_block(Type::Q8_K, bk, 256);
  for (int j = 0; j < 256; ++j) EXPECT_EQ(yk[j], 0.5f * (j - 128));
}

TEST(QuantDequantize, Mxfp4AndIq4Nl) {
  BlockMXFP4 m{};
  m.e = 128;  // 2^(128 - 127) times the halved table: the table values themselves
  BlockIQ4_NL nl{};
  nl.d = kHalfHalf;
  for (int j = 0; j < 16; ++j) m.qs[j] = nl.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto ym = dequantize_block(Type::MXFP4, m, 32);
  const auto yn = dequantize_block(Type::IQ4_NL, nl, 32);
  const float e2m1[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, 0, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  const float iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(ym[j], 2 * e2m1[j]);
    EXPECT_EQ(ym[j + 16], 2 * e2m1[15 - j]);
    EXPECT_EQ(yn[j], 0.5f * iq4nl[j]);
    EXPECT_EQ(yn[j + 16], 0.5f * iq4nl[15 - j]);
  }
  m.e = 126;  // two steps down: every value quarters
  const auto yq = dequantize_block(Type::MXFP4, m, 32);
  EXPECT_EQ(yq[7], 3.0f);
}

TEST(QuantDequantize, Q2_K) {
  BlockQ2_K b{};
  b.d = kHalfOne;
  b.dmin = kHalfHalf;
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>(s | ((s % 4) << 4));
  for (uint8_t& q : b.qs) q = 0xe4;  // levels 0, 1, 2, 3 at shifts 0, 2, 4, 6
  const auto y = dequantize_block(Type::Q2_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int s = e / 16, q = (e % 128) / 32;
    EXPECT_EQ(y[e], static_cast<float>(s * q) - 0.5f * static_cast<float>(s % 4)) << e;
  }
}

TEST(QuantDequantize, Q3_K) {
  BlockQ3_K b{};
  b.d = kHalfOne;
  for (int i = 0; i < 8; ++i) b.scales[i] = 0x21;  // low nibbles: 1 for sub-blocks 0-7, 2 for 8-15
  for (int i = 8; i < 12; ++i) b.scales[i] = 0xaa;  // high bits 2 for all: +32 cancels the bias
  for (uint8_t& q : b.qs) q = 0xe4;
  for (int l = 0; l < 32; ++l) b.hmask[l] = static_cast<uint8_t>(l % 2 ? 0xff : 0x00);
  const auto y = dequantize_block(Type::Q3_K, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int scale = e / 16 < 8 ? 1 : 2;
    const int q = (e % 128) / 32 - ((e % 32) % 2 ? 0 : 4);
    EXPECT_EQ(y[e], static_cast<float>(scale * q)) << e;
  }
}

TEST(QuantDequantize, Q4_KAndQ5_K) {
  BlockQ4_K b4{};
  BlockQ5_K b5{};
  uint8_t scales[12];
  for (int i = 0; i < 4; ++i) scales[i] = 2;      // sub-blocks 0-3: scale 2
  for (int i = 4; i < 8; ++i) scales[i] = 1;      // sub-blocks 0-3: min 1
  for (int i = 8; i < 12; ++i) scales[i] = 0x13;  // sub-blocks 4-7: scale 3, min 1
  scales[0] |= 0x40;                              // ... and sub-block 4's scale gains 16: 19
  std::memcpy(b4.scales, scales, 12);
  std::memcpy(b5.scales, scales, 12);
  b4.d = b5.d = kHalfOne;
  b4.dmin = b5.dmin = kHalfOne;
  for (int i = 0; i < 128; ++i) b4.qs[i] = b5.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  for (uint8_t& h : b5.qh) h = 0xaa;  // the fifth bit on odd sub-blocks
  const auto y4 = dequantize_block(Type::Q4_K, b4, 256);
  const auto y5 = dequantize_block(Type::Q5_K, b5, 256);
  for (int e = 0; e < 256; ++e) {
    const int sub = e / 32, l = e % 32;
    const int scale = sub < 4 ? 2 : (sub == 4 ? 19 : 3);
    const int q = sub % 2 ? 15 - l % 16 : l % 16;
    EXPECT_EQ(y4[e], static_cast<float>(scale * q - 1)) << e;
    EXPECT_EQ(y5[e], static_cast<float>(scale * (q + (sub % 2 ? 16 : 0)) - 1)) << e;
  }
}

TEST(QuantDequantize, Q6_K) {
  BlockQ6_K b{};
  b.d = kHalfOne;
  for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(s - 8);
  for (uint8_t& q : b.ql) q = 0x21;
  for (uint8_t& q : b.qh) q = 0xe4;
  const auto y = dequantize_block(Type::Q6_K, b, 256);
  const int q_by_quarter[4] = {1 - 32, (1 | 16) - 32, (2 | 32) - 32, (2 | 48) - 32};
  for (int e = 0; e < 256; ++e) {
    EXPECT_EQ(y[e], static_cast<float>((e / 16 - 8) * q_by_quarter[(e % 128) / 32])) << e;
  }
}

TEST(QuantDequantize, IQ4_XS) {
  BlockIQ4_XS b{};
  b.d = kHalfOne;
  b.scales_h = 0xaaaa;  // high bits 2 everywhere: the six-bit scale minus 32 is the low nibble
  for (uint8_t& s : b.scales_l) s = 0x21;
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>((i % 16) | ((15 - i % 16) << 4));
  const auto y = dequantize_block(Type::IQ4_XS, b, 256);
  for (int e = 0; e < 256; ++e) {
    const int sub = e / 32, j = e % 32;
    const int scale = sub % 2 ? 2 : 1;
    const int index = j < 16 ? j : 15 - (j - 16);
    EXPECT_EQ(y[e], static_cast<float>(scale * kIq4nlValues[index])) << e;
  }
}

TEST(QuantDequantize, UnsupportedTypeIsAnError) {
  EXPECT_FALSE(is_supported(Type::IQ2_XXS));
  EXPECT_THROW(ops(Type::IQ2_XXS), ingot::Error);
  EXPECT_TRUE(is_supported(Type::Q4_K));
}

}  // namespace
}  // namespace ingot::quant
