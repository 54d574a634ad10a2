// Dot products: vec_dot of a quantized weight row with an activation row in `vec_dot_type`
// must equal the float dot product of the two dequantized rows (up to float summation order),
// for every type; and the SIMD kernels `ops` dispatches to must agree with the scalar ones.
#include "quant/quant.h"
#include "quant/test_data.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace ingot::quant {
namespace {

constexpr const char* kDotTypes[] = {"F32",  "F16",  "BF16", "Q4_0", "Q4_1", "Q5_0",   "Q5_1",   "Q8_0",
                                     "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "MXFP4"};

std::vector<uint8_t> quantized(const TypeOps& o, Type type, const std::vector<float>& x) {
  const TypeTraits& t = traits(type);
  std::vector<uint8_t> q(x.size() / t.block_elements * t.block_bytes);
  o.quantize_row(x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> dequantized(Type type, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  reference_ops(type).dequantize_row(q.data(), y.data(), static_cast<int64_t>(n));
  return y;
}

struct Case {
  std::vector<uint8_t> weight, activation;
  double expected = 0, magnitude = 0;  // float dot of the dequantized rows, and sum |w a|
};

Case make_case(Type type, size_t n, uint64_t seed) {
  const TypeOps& o = reference_ops(type);
  Case c;
  const std::vector<float> w = testing::make_test_data(n, seed);
  const std::vector<float> a = testing::make_test_data(n, seed + 1);
  c.weight = quantized(o, type, w);
  c.activation = quantized(reference_ops(o.vec_dot_type), o.vec_dot_type, a);
  const std::vector<float> wd = dequantized(type, c.weight, n);
  const std::vector<float> ad = dequantized(o.vec_dot_type, c.activation, n);
  for (size_t i = 0; i < n; ++i) {
    c.expected += static_cast<double>(wd[i]) * ad[i];
    c.magnitude += std::fabs(static_cast<double>(wd[i]) * ad[i]);
  }
  return c;
}

TEST(QuantVecDot, MatchesFloatDotOfDequantizedRows) {
  for (const char* name : kDotTypes) {
    const Type type = *type_from_name(name);
    const TypeOps& o = reference_ops(type);
    ASSERT_NE(o.vec_dot, nullptr) << name;
    for (size_t n : {256u, 4096u}) {
      const Case c = make_case(type, n, 11 + n);
      const double got = o.vec_dot(static_cast<int64_t>(n), c.weight.data(), c.activation.data());
      // Q4_1/Q5_1 fold the activation's sum in through an f16 (the Q8_1 `s`), which costs up to
      // 2^-11 of each block's sum.
      const double tolerance = (type == Type::Q4_1 || type == Type::Q5_1) ? 2e-3 : 2e-5;
      EXPECT_NEAR(got, c.expected, tolerance * c.magnitude) << name << " n=" << n;
    }
  }
}

TEST(QuantVecDot, DispatchedKernelsAgreeWithScalar) {
  std::printf("  SIMD path: %s\n", std::string(simd_path()).c_str());
  for (const char* name : kDotTypes) {
    const Type type = *type_from_name(name);
    for (size_t n : {256u, 1024u, 4352u}) {
      const Case c = make_case(type, n, 99 + n);
      const double scalar = reference_ops(type).vec_dot(static_cast<int64_t>(n), c.weight.data(), c.activation.data());
      const double fast = ops(type).vec_dot(static_cast<int64_t>(n), c.weight.data(), c.activation.data());
      EXPECT_NEAR(fast, scalar, 1e-5 * c.magnitude + 1e-30) << name << " n=" << n;
    }
  }
}

TEST(QuantVecDot, FloatKernelsHandleTails) {
  for (const char* name : {"F32", "F16", "BF16"}) {
    const Type type = *type_from_name(name);
    for (size_t n : {1u, 7u, 17u, 33u}) {
      // A row of exactly n elements, so a kernel that reads past its tail trips ASan.
      const Case c = make_case(type, n, n);
      const double scalar = reference_ops(type).vec_dot(static_cast<int64_t>(n), c.weight.data(), c.activation.data());
      const double fast = ops(type).vec_dot(static_cast<int64_t>(n), c.weight.data(), c.activation.data());
      EXPECT_NEAR(fast, scalar, 1e-5 * c.magnitude) << name << " n=" << n;
    }
  }
}

TEST(QuantVecDot, ActivationQuantizersAreBitIdenticalToScalar) {
  for (Type type : {Type::Q8_0, Type::Q8_K, Type::Q8_1}) {
    for (uint64_t seed = 1; seed < 40; ++seed) {
      std::vector<float> x = testing::make_test_data(1024, seed);
      uint64_t state = seed;
      for (float& v : x) v *= std::ldexp(1.0f, static_cast<int>(testing::splitmix64(state) % 24) - 12);
      EXPECT_EQ(quantized(ops(type), type, x), quantized(reference_ops(type), type, x)) << name(type);
    }
    // Exact halves are where round-half-away and round-half-even differ.
    std::vector<float> halves(256);
    for (size_t i = 0; i < halves.size(); ++i) halves[i] = (static_cast<float>(i % 64) - 31.5f);
    EXPECT_EQ(quantized(ops(type), type, halves), quantized(reference_ops(type), type, halves)) << name(type);
  }
}

}  // namespace
}  // namespace ingot::quant
