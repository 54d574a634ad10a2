// The Q8_0 weights' activation format (backend/cpu/act_q8_16.h): the AVX2 quantizer equals the
// portable one bit for bit; every value is within half a step of its 16-value block's scale
// amax/127 (zero blocks stay zero, the largest value is exact); the portable dot equals the
// exact dot of the stored values; and the format's rounding error is below ggml's Q8_0
// activations' (one f16 scale per 32) on Gaussian data.
#include "backend/cpu/act_q8_16.h"
#include "backend/cpu/quant_tiles.h"
#include "backend_test_util.h"
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/quant.h"

#include <cmath>
#include <random>

namespace ingot::backend {
namespace {

using cpu::ActQ8_16;

// Test rows: uniform values, a zero block, tiny and huge magnitudes, values at exact half steps.
std::vector<float> awkward_values(int64_t n, uint32_t seed) {
  auto x = test::random_floats(static_cast<size_t>(n), seed, -3.0f, 3.0f);
  for (int j = 0; j < 16; ++j) x[32 + j] = 0.0f;                    // one zero half-block
  for (int j = 0; j < 16; ++j) x[64 + j] *= 1e-30f;                 // below f16's range
  for (int j = 0; j < 16; ++j) x[96 + j] *= 1e30f;                  // above f16's range
  for (int j = 0; j < 16; ++j) x[128 + j] = 0.5f * static_cast<float>(j - 8);  // a few distinct values
  x[160] = 127.0f;
  for (int j = 1; j < 16; ++j) x[160 + j] = static_cast<float>(j) + 0.5f;  // step 1: exact halves
  return x;
}

TEST(ActQ8_16, Avx2QuantizerIsBitIdenticalToThePortableOne) {
  const cpu::ActQuantizeFn avx2 = cpu::avx2_quantize_act_q8_16();
  if (avx2 == nullptr || quant::simd_path() != "avx2") GTEST_SKIP() << "no AVX2 on this CPU";
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const int64_t n = 1024;
    const auto x = awkward_values(n, seed);
    std::vector<uint8_t> a(cpu::act_q8_16_row_bytes(n)), b(a.size());
    cpu::quantize_act_q8_16(x.data(), a.data(), n);
    avx2(x.data(), b.data(), n);
    ASSERT_EQ(a, b) << "seed " << seed;
  }
}

TEST(ActQ8_16, ValuesAreWithinHalfAStepOfTheirBlockScale) {
  const int64_t n = 512;
  const auto x = awkward_values(n, 7);
  std::vector<ActQ8_16> blocks(static_cast<size_t>(n / 32));
  cpu::quantize_act_q8_16(x.data(), blocks.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const ActQ8_16& b = blocks[static_cast<size_t>(i / 32)];
    const int half = static_cast<int>(i % 32) / 16;
    float amax = 0;
    for (int64_t j = i / 16 * 16; j < i / 16 * 16 + 16; ++j) amax = std::max(amax, std::abs(x[j]));
    ASSERT_EQ(b.d[half], amax / 127) << i;
    const float q = b.qs[i % 32];
    ASSERT_LE(std::abs(q), 127.0f);
    ASSERT_LE(std::abs(static_cast<double>(x[i]) - static_cast<double>(q) * b.d[half]),
              0.5 * b.d[half] * (1 + 1e-6)) << i;
    if (std::abs(x[i]) == amax) {
      ASSERT_EQ(std::abs(q), amax > 0 ? 127.0f : 0.0f) << i;
    }
  }
  // ties round away from zero, as std::round: block 160.. has step 1 and values j + 0.5
  for (int j = 1; j < 16; ++j) EXPECT_EQ(blocks[5].qs[j], j + 1) << j;
}

TEST(ActQ8_16, PortableDotIsTheDotOfTheStoredValues) {
  const int64_t k = 4096;
  const auto wf = test::random_floats(static_cast<size_t>(k), 3);
  const auto x = test::random_floats(static_cast<size_t>(k), 4);
  std::vector<quant::BlockQ8_0> w(static_cast<size_t>(k / 32));
  std::vector<ActQ8_16> a(static_cast<size_t>(k / 32));
  quant::quantize_row(quant::Type::Q8_0, wf.data(), w.data(), k);
  cpu::quantize_act_q8_16(x.data(), a.data(), k);
  double exact = 0, mag = 0;
  for (int64_t i = 0; i < k; ++i) {
    const auto& wb = w[static_cast<size_t>(i / 32)];
    const auto& ab = a[static_cast<size_t>(i / 32)];
    const double p = static_cast<double>(f16_to_f32(wb.d)) * wb.qs[i % 32] * ab.d[(i % 32) / 16] * ab.qs[i % 32];
    exact += p;
    mag += std::abs(p);
  }
  EXPECT_NEAR(cpu::dot_q8_0_act_q8_16(k, w.data(), a.data()), exact, 1e-6 * mag);
}

TEST(ActQ8_16, RoundingErrorIsBelowQ8_0Activations) {
  // Gaussian rows as RMSNorm outputs are, and their products as SwiGLU's (heavier tails).
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  const int64_t n = 1 << 16;
  for (bool product : {false, true}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = product ? normal(rng) * normal(rng) : normal(rng);
    std::vector<ActQ8_16> a(static_cast<size_t>(n / 32));
    std::vector<quant::BlockQ8_0> q(static_cast<size_t>(n / 32));
    cpu::quantize_act_q8_16(x.data(), a.data(), n);
    quant::quantize_row(quant::Type::Q8_0, x.data(), q.data(), n);
    double e16 = 0, e32 = 0, s = 0;
    for (int64_t i = 0; i < n; ++i) {
      const auto& ab = a[static_cast<size_t>(i / 32)];
      const auto& qb = q[static_cast<size_t>(i / 32)];
      e16 += std::pow(x[i] - static_cast<double>(ab.d[(i % 32) / 16]) * ab.qs[i % 32], 2);
      e32 += std::pow(x[i] - static_cast<double>(f16_to_f32(qb.d)) * qb.qs[i % 32], 2);
      s += static_cast<double>(x[i]) * x[i];
    }
    const double r16 = std::sqrt(e16 / s), r32 = std::sqrt(e32 / s);
    std::printf("%s: relative rms rounding error %.3e (Q8_0 activations %.3e, %+.1f%%)\n",
                product ? "normal x normal" : "normal", r16, r32, 100 * (r16 / r32 - 1));
    EXPECT_LT(r16, (product ? 0.85 : 0.90) * r32);
  }
}

}  // namespace
}  // namespace ingot::backend
