#include "backend/rope.h"

#include <numbers>

#include "backend_test_util.h"
#include "core/error.h"

namespace ingot::backend {
namespace {

using test::available_isas;

// The YaRN / Llama-3 / linear formulas written out directly in double, per (pos, pair).
struct Angle {
  double theta;
  double magnitude;
};

Angle reference_angle(const RopeParams& p, int64_t pos, int64_t i) {
  const int64_t n_rot = p.n_rot == 0 ? p.head_dim : p.n_rot;
  double freq = std::pow(static_cast<double>(p.freq_base), -2.0 * i / n_rot);
  if (!p.freq_factors.empty()) freq /= p.freq_factors[i];
  const double extrap = pos * freq;
  switch (p.scaling) {
    case RopeScaling::none: return {extrap, 1.0};
    case RopeScaling::linear: return {extrap / p.factor, 1.0};
    case RopeScaling::yarn: {
      auto corr = [&](double beta) {
        return n_rot * std::log(p.original_context / (beta * 2 * std::numbers::pi)) /
               (2 * std::log(static_cast<double>(p.freq_base)));
      };
      const double low = std::max(0.0, std::floor(corr(p.beta_fast)));
      const double high = std::min<double>(n_rot - 1, std::ceil(corr(p.beta_slow)));
      const double ramp = 1.0 - std::clamp((i - low) / std::max(0.001, high - low), 0.0, 1.0);
      const double mix = ramp * p.ext_factor;
      const double interp = extrap / p.factor;
      const double mag = p.attn_factor * (p.ext_factor != 0 ? 1.0 + 0.1 * std::log(p.factor) : 1.0);
      return {interp * (1 - mix) + extrap * mix, mag};
    }
    case RopeScaling::llama3: {
      const double wavelen = 2 * std::numbers::pi / freq;
      const double low_wavelen = p.original_context / p.low_freq_factor;
      const double high_wavelen = p.original_context / p.high_freq_factor;
      double f = freq;
      if (wavelen > low_wavelen) {
        f = freq / p.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (p.original_context / wavelen - p.low_freq_factor) /
                              (p.high_freq_factor - p.low_freq_factor);
        f = (1 - smooth) * freq / p.factor + smooth * freq;
      }
      return {pos * f, 1.0};
    }
  }
  return {0, 0};
}

// Applies rope with the backend and checks each element against the rotation in double.
void check_rope(const RopeParams& p, cpu::Isa isa, int64_t n_heads, int64_t n_tokens) {
  cpu::CpuBackend backend(cpu::CpuOptions{.n_threads = 2, .isa = isa});
  const RopeTable table = make_rope_table(p);
  const int64_t n_rot = table.n_rot;
  const auto input = test::random_floats(static_cast<size_t>(n_heads * p.head_dim * n_tokens), 7);
  test::Owned x = test::f32_tensor(backend, input, n_heads * p.head_dim);
  std::vector<int32_t> positions(static_cast<size_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t) positions[t] = static_cast<int32_t>(t * 997 % 40000);
  test::Owned pos = test::i32_tensor(backend, positions);
  backend.rope(x.t, pos.t, table);
  const auto got = test::read_f32(x.t);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t h = 0; h < n_heads; ++h) {
      const size_t base = static_cast<size_t>((t * n_heads + h) * p.head_dim);
      std::vector<double> expect(input.begin() + base, input.begin() + base + p.head_dim);
      for (int64_t i = 0; i < n_rot / 2; ++i) {
        const Angle a = reference_angle(p, positions[t], i);
        const int64_t i0 = p.layout == RopeLayout::normal ? 2 * i : i;
        const int64_t i1 = p.layout == RopeLayout::normal ? 2 * i + 1 : i + n_rot / 2;
        const double x0 = input[base + i0], x1 = input[base + i1];
        expect[i0] = a.magnitude * (x0 * std::cos(a.theta) - x1 * std::sin(a.theta));
        expect[i1] = a.magnitude * (x0 * std::sin(a.theta) + x1 * std::cos(a.theta));
      }
      for (int64_t d = 0; d < p.head_dim; ++d) {
        // float inv_freq has relative error 2^-24: the angle at position 40000 moves ~2.4e-3.
        ASSERT_NEAR(got[base + d], expect[d], 5e-3 * std::max(1.0, std::abs(expect[d])))
            << "token " << t << " head " << h << " dim " << d;
      }
    }
  }
}

class Rope : public ::testing::TestWithParam<cpu::Isa> {};

TEST_P(Rope, NormalLayoutMatchesFormula) {
  RopeParams p{.head_dim = 64, .freq_base = 10000.0f};
  check_rope(p, GetParam(), 3, 17);
}

TEST_P(Rope, NeoxLayoutWithPartialRotaryMatchesFormula) {
  RopeParams p{.head_dim = 128, .n_rot = 64, .layout = RopeLayout::neox, .freq_base = 1e6f};
  check_rope(p, GetParam(), 2, 9);
}

TEST_P(Rope, LinearScalingMatchesFormula) {
  RopeParams p{
      .head_dim = 64, .freq_base = 10000.0f, .scaling = RopeScaling::linear, .factor = 4.0f};
  check_rope(p, GetParam(), 2, 11);
}

TEST_P(Rope, YarnMatchesFormula) {
  RopeParams p{.head_dim = 128,
               .layout = RopeLayout::neox,
               .freq_base = 1e6f,
               .scaling = RopeScaling::yarn,
               .factor = 4.0f,
               .ext_factor = 1.0f,
               .attn_factor = 1.0f,
               .beta_fast = 32.0f,
               .beta_slow = 1.0f,
               .original_context = 32768};
  check_rope(p, GetParam(), 2, 13);
}

TEST_P(Rope, Llama3ScalingAndFreqFactorsMatchFormula) {
  RopeParams p{.head_dim = 64,
               .freq_base = 500000.0f,
               .scaling = RopeScaling::llama3,
               .factor = 32.0f,
               .original_context = 8192,
               .low_freq_factor = 1.0f,
               .high_freq_factor = 4.0f};
  check_rope(p, GetParam(), 4, 7);
  RopeParams q{.head_dim = 64, .freq_base = 500000.0f};
  q.freq_factors = test::random_floats(32, 3, 1.0f, 8.0f);
  check_rope(q, GetParam(), 2, 5);
}

INSTANTIATE_TEST_SUITE_P(Isas, Rope, ::testing::ValuesIn(available_isas()), test::isa_param_name);

TEST(RopeTable, YarnCorrectionDimsAndMagnitudeAreTheKnownValues) {
  // n_rot 128, base 10000, original context 4096: corr dims 20.94 -> 20 and 45.03 -> 46.
  RopeParams p{.head_dim = 128,
               .freq_base = 10000.0f,
               .scaling = RopeScaling::yarn,
               .factor = 8.0f,
               .original_context = 4096};
  const RopeTable t = make_rope_table(p);
  const auto base = [&](int i) { return std::pow(10000.0, -2.0 * i / 128); };
  EXPECT_NEAR(t.inv_freq[20], base(20), 1e-6 * base(20));        // pure extrapolation
  EXPECT_NEAR(t.inv_freq[46], base(46) / 8.0, 1e-6 * base(46));  // pure interpolation
  const double mix = 1.0 - (33.0 - 20.0) / 26.0;                 // between the two
  EXPECT_NEAR(t.inv_freq[33], base(33) * (mix + (1 - mix) / 8.0), 1e-6 * base(33));
  EXPECT_NEAR(t.magnitude, 1.0 + 0.1 * std::log(8.0), 1e-6);
}

TEST(RopeTable, Llama3KeepsHighFrequenciesAndDividesLowOnes) {
  RopeParams p{.head_dim = 64,
               .freq_base = 500000.0f,
               .scaling = RopeScaling::llama3,
               .factor = 32.0f,
               .original_context = 8192};
  const RopeTable t = make_rope_table(p);
  EXPECT_FLOAT_EQ(t.inv_freq[0], 1.0f);
  const double last = std::pow(500000.0, -62.0 / 64);
  EXPECT_NEAR(t.inv_freq[31], last / 32.0, 1e-6 * last);
}

TEST(RopeTable, RejectsImpossibleParameters) {
  EXPECT_THROW(make_rope_table(RopeParams{.head_dim = 63}), Error);
  EXPECT_THROW(make_rope_table(RopeParams{.head_dim = 64, .n_rot = 66}), Error);
  EXPECT_THROW(make_rope_table(RopeParams{.head_dim = 64, .freq_base = -1.0f}), Error);
  EXPECT_THROW(make_rope_table(RopeParams{.head_dim = 64, .scaling = RopeScaling::yarn}), Error);
  RopeParams p{.head_dim = 64};
  p.freq_factors = {1.0f, 2.0f};
  EXPECT_THROW(make_rope_table(p), Error);
}

}  // namespace
}  // namespace ingot::backend
