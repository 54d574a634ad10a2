// Each SIMD kernel table against the scalar one on odd sizes (tails), and the scalar attention
// kernels and exp against double-precision formulas.
#include "backend_test_util.h"
#include "core/half.h"

namespace ingot::backend {
namespace {

using test::random_floats;

class Kernels : public ::testing::TestWithParam<cpu::Isa> {
 protected:
  const cpu::Kernels k = *cpu::kernels_for(GetParam());
};

TEST_P(Kernels, ExpSumMatchesStdExp) {
  for (int64_t n : {1, 7, 16, 37, 200}) {
    auto x = random_floats(static_cast<size_t>(n), 1, -100.0f, 3.0f);
    const auto original = x;
    const float sum = k.exp_sum(n, x.data(), 1.5f);
    double expect_sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double e = std::exp(static_cast<double>(original[i] - 1.5f));  // float argument
      expect_sum += e;
      ASSERT_NEAR(x[i], e, 1e-6 * e + 1e-37) << original[i];
    }
    EXPECT_NEAR(sum, expect_sum, 1e-6 * expect_sum);
  }
}

TEST_P(Kernels, AttentionBlockKernelsMatchDoubleReference) {
  for (int64_t d : {64, 67, 128}) {
    for (int64_t n_g : {1, 3, 4, 6}) {
      SCOPED_TRACE("head_dim " + std::to_string(d) + " heads " + std::to_string(n_g));
      const int64_t n_keys = 13, stride = 3 * d + 5, score_stride = 20;
      const auto kf = random_floats(static_cast<size_t>(n_keys * stride), 2);
      std::vector<uint16_t> kh(kf.size());
      for (size_t i = 0; i < kf.size(); ++i) kh[i] = f32_to_f16(kf[i]);
      const auto q = random_floats(static_cast<size_t>(n_g * d), 3);
      const auto p = random_floats(static_cast<size_t>(n_g * score_stride), 4, 0.0f, 1.0f);
      std::vector<float> s16(static_cast<size_t>(n_g * score_stride)), s32(s16.size());
      k.qk_f16(d, kh.data(), stride, n_keys, q.data(), n_g, 0.125f, s16.data(), score_stride);
      k.qk_f32(d, kf.data(), stride, n_keys, q.data(), n_g, 0.125f, s32.data(), score_stride);
      const auto acc0 = random_floats(static_cast<size_t>(n_g * d), 5);
      auto a16 = acc0, a32 = acc0;
      k.pv_f16(d, kh.data(), stride, n_keys, p.data(), n_g, score_stride, a16.data());
      k.pv_f32(d, kf.data(), stride, n_keys, p.data(), n_g, score_stride, a32.data());
      for (int64_t g = 0; g < n_g; ++g) {
        for (int64_t j = 0; j < n_keys; ++j) {
          double e16 = 0, e32 = 0;
          for (int64_t i = 0; i < d; ++i) {
            e16 += static_cast<double>(f16_to_f32(kh[j * stride + i])) * q[g * d + i];
            e32 += static_cast<double>(kf[j * stride + i]) * q[g * d + i];
          }
          ASSERT_NEAR(s16[g * score_stride + j], e16 * 0.125, 1e-5);
          ASSERT_NEAR(s32[g * score_stride + j], e32 * 0.125, 1e-5);
        }
        for (int64_t i = 0; i < d; ++i) {
          double e16 = acc0[g * d + i], e32 = acc0[g * d + i];
          for (int64_t j = 0; j < n_keys; ++j) {
            e16 += p[g * score_stride + j] * static_cast<double>(f16_to_f32(kh[j * stride + i]));
            e32 += p[g * score_stride + j] * static_cast<double>(kf[j * stride + i]);
          }
          ASSERT_NEAR(a16[g * d + i], e16, 1e-5);
          ASSERT_NEAR(a32[g * d + i], e32, 1e-5);
        }
      }
    }
  }
}

TEST_P(Kernels, DotAxpyAndConversionsMatchScalar) {
  const cpu::Kernels& ref = cpu::scalar_kernels();
  for (int64_t n : {1, 15, 33, 67}) {
    const auto a = random_floats(static_cast<size_t>(n), 6),
               b = random_floats(static_cast<size_t>(n), 7);
    std::vector<uint16_t> h(static_cast<size_t>(n)), h_ref(h.size());
    k.f32_to_f16(n, a.data(), h.data());
    ref.f32_to_f16(n, a.data(), h_ref.data());
    ASSERT_EQ(h, h_ref);
    std::vector<float> back(h.size()), back_ref(h.size());
    k.f16_to_f32(n, h.data(), back.data());
    ref.f16_to_f32(n, h.data(), back_ref.data());
    ASSERT_EQ(back, back_ref);
    EXPECT_NEAR(k.dot_f32(n, a.data(), b.data()), ref.dot_f32(n, a.data(), b.data()), 1e-5);
    EXPECT_NEAR(k.dot_f16(n, h.data(), b.data()), ref.dot_f16(n, h.data(), b.data()), 1e-5);
    auto y = b, y_ref = b;
    k.axpy_f16(n, 0.3f, h.data(), y.data());
    ref.axpy_f16(n, 0.3f, h.data(), y_ref.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], y_ref[i], 1e-6);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, Kernels, ::testing::ValuesIn(test::available_isas()),
                         test::isa_param_name);

}  // namespace
}  // namespace ingot::backend
