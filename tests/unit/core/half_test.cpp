#include "core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace ingot {
namespace {

// The compiler's own _Float16 conversion rounds to nearest even: an independent reference.
uint16_t reference_f16(float f) {
  const _Float16 h = static_cast<_Float16>(f);
  uint16_t bits;
  std::memcpy(&bits, &h, 2);
  return bits;
}

TEST(Half, EveryHalfRoundTripsExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    const bool nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff) != 0;
    if (nan) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    _Float16 ref;
    std::memcpy(&ref, &h, 2);
    ASSERT_EQ(std::bit_cast<uint32_t>(f), std::bit_cast<uint32_t>(static_cast<float>(ref))) << h;
    ASSERT_EQ(f32_to_f16(f), h) << h;
  }
}

TEST(Half, F32ToF16MatchesCompilerOnStridedAndRandomFloats) {
  for (uint64_t x = 0; x <= 0xffffffffull; x += 4093) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(x));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), reference_f16(f)) << std::hex << x;
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-70000.0f, 70000.0f);
  for (int i = 0; i < 200000; ++i) {
    const float f = dist(rng) * std::ldexp(1.0f, -static_cast<int>(rng() % 40));
    ASSERT_EQ(f32_to_f16(f), reference_f16(f)) << f;
  }
}

TEST(Half, TiesRoundToEven) {
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65519.99f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(std::nanf("")) & 0x7e00, 0x7e00);
}

TEST(Bf16, RoundsToNearestEvenAndKeepsNan) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  EXPECT_EQ(bf16_to_f32(0x4049), std::bit_cast<float>(0x40490000u));
}

}  // namespace
}  // namespace ingot
