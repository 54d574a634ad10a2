// matmul for every weight type: float weights against a double reference, quantized weights
// against the double matmul of the dequantized weight (tolerance from activation
// quantization), and every SIMD table against the scalar one.
#include "backend_test_util.h"
#include "core/error.h"
#include "core/half.h"
#include "quant/quant.h"

namespace ingot::backend {
namespace {

using quant::Type;
using test::available_isas;

struct Weight {
  std::vector<uint8_t> bytes;
  std::vector<float> dequantized;  // what the weight means, row-major [n_out][k]
};

Weight make_weight(Type type, int64_t k, int64_t n_out, uint32_t seed) {
  const auto values = test::random_floats(static_cast<size_t>(k * n_out), seed);
  const size_t row = quant::row_bytes(type, static_cast<uint64_t>(k));
  Weight w{std::vector<uint8_t>(row * n_out), std::vector<float>(values.size())};
  for (int64_t r = 0; r < n_out; ++r) {
    quant::quantize_row(type, &values[r * k], &w.bytes[r * row], k);
    quant::dequantize_row(type, &w.bytes[r * row], &w.dequantized[r * k], k);
  }
  return w;
}

// Largest error 8-bit activation blocks of `block` values can cause in dot(w, x): step
// amax/127 (error <= half a step, plus the relative rounding `scale_rounding` of the step).
double block_quantization_bound(const float* w, const float* x, int64_t k, int64_t block, double scale_rounding) {
  double bound = 0;
  for (int64_t b = 0; b < k; b += block) {
    double amax = 0, wsum = 0;
    for (int64_t i = b; i < b + block; ++i) {
      amax = std::max(amax, static_cast<double>(std::abs(x[i])));
      wsum += std::abs(w[i]);
    }
    bound += amax / 127.0 * (0.5 + 127.0 * scale_rounding) * wsum;
  }
  return bound;
}

// Largest error activation quantization to `act` can cause in dot(w, x): per block of the
// activation format, x is stored with step amax/127 (error <= half a step, plus the f16
// rounding of the step itself), times the weights of that block.
double quantization_bound(Type act, const float* w, const float* x, int64_t k) {
  if (act == Type::F32) return 0.0;
  if (act == Type::F16) {
    double s = 0;
    for (int64_t i = 0; i < k; ++i) s += std::abs(w[i] * x[i]) * 0x1p-11;
    return s;
  }
  return block_quantization_bound(w, x, k, quant::traits(act).block_elements, 0x1p-11);
}

void check_matmul(cpu::CpuBackend& backend, Type type, int64_t k, int64_t n_out, int64_t n_tokens,
                  bool with_bias) {
  SCOPED_TRACE(std::string(quant::name(type)) + " k=" + std::to_string(k));
  const Weight weight = make_weight(type, k, n_out, 21);
  const auto x = test::random_floats(static_cast<size_t>(k * n_tokens), 22);
  const auto bias = test::random_floats(static_cast<size_t>(n_out), 23);
  auto xt = test::f32_tensor(backend, x, k);
  auto bt = test::f32_tensor(backend, bias, n_out);
  const Tensor w = backend.upload_weight(weight.bytes.data(), type, Shape::of(k, n_out), nullptr);
  auto out = test::make_owned(backend, Type::F32, Shape::of(n_out, n_tokens));
  backend.matmul(xt.t, w, with_bias ? &bt.t : nullptr, out.t);
  const auto got = test::read_f32(out.t);
  const Type act = quant::ops(type).vec_dot != nullptr && type != Type::F32 && type != Type::F16 &&
                           type != Type::BF16
                       ? quant::ops(type).vec_dot_type
                       : Type::F32;
  double worst = 0;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < n_out; ++r) {
      const float* wr = &weight.dequantized[r * k];
      const float* xt_row = &x[t * k];
      double ref = with_bias ? bias[r] : 0.0, mag = 0;
      for (int64_t i = 0; i < k; ++i) {
        ref += static_cast<double>(wr[i]) * xt_row[i];
        mag += std::abs(static_cast<double>(wr[i]) * xt_row[i]);
      }
      // Q8_0 weights: the CPU's activations have an f32 scale per 16 values (act_q8_16.h).
      const double q = type == Type::Q8_0 ? block_quantization_bound(wr, xt_row, k, 16, 0.0)
                                          : quantization_bound(act, wr, xt_row, k);
      const double tol = 1.5 * q + 1e-5 * mag + 1e-6;
      const double err = std::abs(got[t * n_out + r] - ref);
      worst = std::max(worst, err / tol);
      ASSERT_LE(err, tol) << "token " << t << " row " << r << " got " << got[t * n_out + r]
                          << " expected " << ref;
    }
  }
  ::testing::Test::RecordProperty(std::string(quant::name(type)) + "_worst_error_over_bound",
                                  std::to_string(worst));
}

class Matmul : public ::testing::TestWithParam<cpu::Isa> {
 protected:
  cpu::CpuBackend backend{cpu::CpuOptions{.n_threads = 2, .isa = GetParam()}};
};

TEST_P(Matmul, FloatWeightsMatchDoubleReferenceOnOddShapes) {
  for (Type type : {Type::F32, Type::F16, Type::BF16}) {
    check_matmul(backend, type, 67, 37, 17, false);  // k not a multiple of 8 or 16
    check_matmul(backend, type, 256, 9, 1, true);    // decode, with bias
    check_matmul(backend, type, 130, 5, 50, true);   // more tokens than one task
  }
}

TEST_P(Matmul, EveryQuantizedTypeMatchesItsDequantizedWeight) {
  int n_types = 0;
  for (const auto& traits : quant::all_types()) {
    if (traits.block_elements == 1 || !quant::is_supported(traits.type) ||
        quant::ops(traits.type).quantize_row == nullptr) {
      continue;
    }
    check_matmul(backend, traits.type, 512, 37, 17, true);
    check_matmul(backend, traits.type, 256, 5, 1, false);
    ++n_types;
  }
  if (n_types == 0) GTEST_SKIP() << "quant supports no block types yet";
}

// Each SIMD table gives the scalar table's answer up to float summation order.
TEST_P(Matmul, SimdAgreesWithScalar) {
  if (GetParam() == cpu::Isa::scalar) GTEST_SKIP() << "scalar is the reference";
  cpu::CpuBackend scalar(cpu::CpuOptions{.n_threads = 2, .isa = cpu::Isa::scalar});
  const int64_t k = 203, n_out = 41, n_tokens = 17;
  const auto x = test::random_floats(static_cast<size_t>(k * n_tokens), 31);
  for (Type type : {Type::F32, Type::F16, Type::BF16}) {
    const Weight weight = make_weight(type, k, n_out, 32);
    auto xa = test::f32_tensor(backend, x, k);
    const Tensor w = backend.upload_weight(weight.bytes.data(), type, Shape::of(k, n_out), nullptr);
    auto a = test::make_owned(backend, Type::F32, Shape::of(n_out, n_tokens));
    auto b = test::make_owned(scalar, Type::F32, Shape::of(n_out, n_tokens));
    backend.matmul(xa.t, w, nullptr, a.t);
    scalar.matmul(xa.t, w, nullptr, b.t);
    const auto ga = test::read_f32(a.t), gb = test::read_f32(b.t);
    for (size_t i = 0; i < ga.size(); ++i) ASSERT_NEAR(ga[i], gb[i], 1e-5 * std::sqrt(k)) << i;
  }
}

TEST_P(Matmul, WritesIntoAStridedOutputView) {
  // out is a column slice of a wider buffer (as a fused QKV output would be read).
  const int64_t k = 64, n_out = 12, n_tokens = 5, width = 20;
  const Weight weight = make_weight(Type::F32, k, n_out, 41);
  const auto x = test::random_floats(static_cast<size_t>(k * n_tokens), 42);
  auto xt = test::f32_tensor(backend, x, k);
  std::vector<float> wide(static_cast<size_t>(width * n_tokens), 7.0f);
  Tensor out{wide.data() + 3, Type::F32, Shape::of(n_out, n_tokens), width * sizeof(float)};
  const Tensor w =
      backend.upload_weight(weight.bytes.data(), Type::F32, Shape::of(k, n_out), nullptr);
  backend.matmul(xt.t, w, nullptr, out);
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t c = 0; c < width; ++c) {
      if (c < 3 || c >= 3 + n_out) {
        ASSERT_EQ(wide[t * width + c], 7.0f);
        continue;
      }
      double ref = 0;
      for (int64_t i = 0; i < k; ++i) ref += weight.dequantized[(c - 3) * k + i] * x[t * k + i];
      ASSERT_NEAR(wide[t * width + c], ref, 1e-4);
    }
  }
}

TEST_P(Matmul, MismatchedShapesAreErrors) {
  auto x = test::f32_tensor(backend, test::random_floats(64, 51), 32);
  auto w = test::f32_tensor(backend, test::random_floats(48, 52), 16);
  auto out = test::make_owned(backend, Type::F32, Shape::of(3, 2));
  EXPECT_THROW(backend.matmul(x.t, w.t, nullptr, out.t), Error);
  auto w2 = test::f32_tensor(backend, test::random_floats(96, 53), 32);
  auto bad_out = test::make_owned(backend, Type::F32, Shape::of(4, 2));
  EXPECT_THROW(backend.matmul(x.t, w2.t, nullptr, bad_out.t), Error);
}

// A token's output does not depend on the batch around it or the thread count: each output is
// one fixed sequence of operations (the property that makes batched serving reproducible).
TEST_P(Matmul, ResultsAreBatchAndThreadInvariant) {
  const int64_t k = 512, n_out = 45, n_tokens = 17;
  const auto x = test::random_floats(static_cast<size_t>(k * n_tokens), 61);
  cpu::CpuBackend other(cpu::CpuOptions{.n_threads = 3, .isa = GetParam()});
  for (Type type : {Type::F32, Type::F16, Type::BF16, Type::Q8_0, Type::Q4_K}) {
    SCOPED_TRACE(std::string(quant::name(type)));
    const Weight weight = make_weight(type, k, n_out, 62);
    const Tensor w = backend.upload_weight(weight.bytes.data(), type, Shape::of(k, n_out), nullptr);
    auto xt = test::f32_tensor(backend, x, k);
    auto all = test::make_owned(backend, Type::F32, Shape::of(n_out, n_tokens));
    backend.matmul(xt.t, w, nullptr, all.t);
    const auto batched = test::read_f32(all.t);
    auto all3 = test::make_owned(other, Type::F32, Shape::of(n_out, n_tokens));
    other.matmul(xt.t, w, nullptr, all3.t);
    EXPECT_EQ(test::read_f32(all3.t), batched);
    for (int64_t t : {0, 5, 16}) {
      auto one = test::make_owned(backend, Type::F32, Shape::of(n_out, 1));
      backend.matmul(xt.t.rows(t, 1), w, nullptr, one.t);
      const auto single = test::read_f32(one.t);
      for (int64_t r = 0; r < n_out; ++r)
        ASSERT_EQ(single[r], batched[t * n_out + r]) << t << " " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, Matmul, ::testing::ValuesIn(available_isas()), test::isa_param_name);

}  // namespace
}  // namespace ingot::backend
