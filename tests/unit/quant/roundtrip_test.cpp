// Quantize -> dequantize error on Gaussian data, per type, against bounds a little above what
// each format achieves (the measured table is in docs/QUANT.md), plus odd inputs (all zeros, one
// huge value, the float extremes, subnormals) that must not crash.
#include "quant/quant.h"
#include "quant/test_data.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <vector>

namespace ingot::quant {
namespace {

struct Bound {
  const char* type;
  double max_relative_rmse;  // RMSE of the round trip divided by the RMS of the input
};

// Upper bounds, about 1.2x the measured values printed by the test.
constexpr Bound kBounds[] = {
    {"F32", 0.0},       {"F16", 0.00025},   {"BF16", 0.002},   {"Q4_0", 0.098},  {"Q4_1", 0.091},
    {"Q5_0", 0.049},    {"Q5_1", 0.044},    {"Q8_0", 0.0062},  {"Q8_1", 0.0062}, {"Q2_K", 0.345},
    {"Q3_K", 0.175},    {"Q4_K", 0.083},    {"Q5_K", 0.042},   {"Q6_K", 0.0204}, {"Q8_K", 0.0075},
    {"IQ4_NL", 0.089},  {"IQ4_XS", 0.090},  {"MXFP4", 0.138},
};

std::vector<float> gaussian_rows(size_t n, uint64_t seed) {
  std::vector<float> x(n);
  uint64_t state = seed;
  for (float& v : x) v = testing::gaussian(state);
  return x;
}

std::vector<float> round_trip(Type type, const std::vector<float>& x) {
  const TypeTraits& t = traits(type);
  std::vector<uint8_t> q(x.size() / t.block_elements * t.block_bytes);
  std::vector<float> y(x.size());
  quantize_row(type, x.data(), q.data(), static_cast<int64_t>(x.size()));
  dequantize_row(type, q.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

TEST(QuantRoundTrip, RelativeRmseWithinBound) {
  const std::vector<float> x = gaussian_rows(64 * 1024, 7);
  double sum_x2 = 0;
  for (float v : x) sum_x2 += static_cast<double>(v) * v;
  for (const Bound& b : kBounds) {
    const std::vector<float> y = round_trip(*type_from_name(b.type), x);
    double sum_e2 = 0;
    for (size_t i = 0; i < x.size(); ++i) sum_e2 += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
    const double relative = std::sqrt(sum_e2 / sum_x2);
    std::printf("  %-7s relative RMSE %.6f (bound %.4f)\n", b.type, relative, b.max_relative_rmse);
    EXPECT_LE(relative, b.max_relative_rmse) << b.type;
  }
}

TEST(QuantRoundTrip, OddInputsDoNotCrash) {
  const size_t n = 512;
  std::vector<std::vector<float>> inputs;
  inputs.emplace_back(n, 0.0f);
  inputs.emplace_back(n, 0.0f);
  inputs.back()[37] = 1e30f;
  inputs.emplace_back(n, 0.0f);
  inputs.back()[0] = FLT_MAX;
  inputs.back()[300] = -FLT_MAX;
  inputs.emplace_back(n, 1e-40f);  // subnormal
  inputs.emplace_back(n, -3.0f);   // constant
  for (const Bound& b : kBounds) {
    const Type type = *type_from_name(b.type);
    for (size_t k = 0; k < inputs.size(); ++k) {
      const std::vector<float> y = round_trip(type, inputs[k]);
      if (k == 0) {
        for (float v : y) ASSERT_EQ(v, 0.0f) << b.type << ": all-zero input must stay zero";
      }
    }
  }
}

TEST(QuantRoundTrip, ConstantRowsAreCloseForEveryType) {
  const std::vector<float> x(256, -3.0f);
  for (const Bound& b : kBounds) {
    const std::vector<float> y = round_trip(*type_from_name(b.type), x);
    for (float v : y) ASSERT_NEAR(v, -3.0f, 0.2f) << b.type;
  }
}

}  // namespace
}  // namespace ingot::quant
