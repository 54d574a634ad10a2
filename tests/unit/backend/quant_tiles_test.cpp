// The tiled integer kernels (backend/cpu/quant_tiles.h): every output of a Q4_K/Q6_K tile equals
// quant's vec_dot of its (row, token) bit for bit, and every output of a Q8_0 tile (activations of
// act_q8_16.h) equals the 1 x 1 tile's and the portable dot's up to float summation order, for
// tiles of every edge shape (row and token counts that are not multiples of the tile), strided
// rows and a strided output.
#include "backend/cpu/act_q8_16.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/quant_tiles.h"
#include "backend_test_util.h"
#include "quant/quant.h"

namespace ingot::backend {
namespace {

using quant::Type;

TEST(QuantTiles, BitIdenticalToVecDot) {
  if (quant::simd_path() != "avx2") GTEST_SKIP() << "the tiles mirror quant's AVX2 vec_dot; this CPU has none";
  for (Type type : {Type::Q4_K, Type::Q6_K}) {
    SCOPED_TRACE(std::string(quant::name(type)));
    const cpu::QuantTileFn tile = cpu::avx2_quant_tile(type);
    ASSERT_NE(tile, nullptr);
    const quant::TypeOps& ops = quant::ops(type);
    const int64_t k = 768, n_rows = 11, n_tokens = 7;
    const size_t w_row = quant::row_bytes(type, k) + 48;  // strided rows
    const size_t a_row = quant::row_bytes(ops.vec_dot_type, k) + 16;
    const auto wf = test::random_floats(static_cast<size_t>(k * n_rows), 5);
    const auto af = test::random_floats(static_cast<size_t>(k * n_tokens), 6);
    std::vector<uint8_t> w(w_row * n_rows), a(a_row * n_tokens);
    for (int64_t r = 0; r < n_rows; ++r) quant::quantize_row(type, &wf[r * k], &w[r * w_row], k);
    for (int64_t t = 0; t < n_tokens; ++t) quant::quantize_row(ops.vec_dot_type, &af[t * k], &a[t * a_row], k);
    for (int64_t rows = 1; rows <= n_rows; rows += 3) {
      for (int64_t tokens = 1; tokens <= n_tokens; tokens += 2) {
        const size_t out_stride = static_cast<size_t>(rows) + 3;
        std::vector<float> out(out_stride * static_cast<size_t>(tokens), -1.0f);
        tile(k, w.data(), w_row, rows, a.data(), a_row, tokens, out.data(), out_stride);
        for (int64_t t = 0; t < tokens; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            const float want = ops.vec_dot(k, &w[r * w_row], &a[t * a_row]);
            ASSERT_EQ(out[t * out_stride + r], want) << "rows " << rows << " tokens " << tokens << " at " << r << "," << t;
          }
          EXPECT_EQ(out[t * out_stride + rows], -1.0f) << "wrote past the tile";
        }
      }
    }
  }
  EXPECT_EQ(cpu::avx2_quant_tile(Type::Q5_0), nullptr);
}

TEST(QuantTiles, Q8_0TilesAreShapeInvariantAndMatchThePortableDot) {
  if (quant::simd_path() != "avx2") GTEST_SKIP() << "the tiles need AVX2; this CPU has none";
  const cpu::QuantTileFn tile = cpu::avx2_quant_tile(Type::Q8_0);
  ASSERT_NE(tile, nullptr);
  const int64_t k = 768, n_rows = 11, n_tokens = 7;
  const size_t w_row = quant::row_bytes(Type::Q8_0, k) + 48;  // strided rows
  const size_t a_row = cpu::act_q8_16_row_bytes(k) + 16;
  const auto wf = test::random_floats(static_cast<size_t>(k * n_rows), 5);
  const auto af = test::random_floats(static_cast<size_t>(k * n_tokens), 6);
  std::vector<uint8_t> w(w_row * n_rows), a(a_row * n_tokens);
  for (int64_t r = 0; r < n_rows; ++r) quant::quantize_row(Type::Q8_0, &wf[r * k], &w[r * w_row], k);
  for (int64_t t = 0; t < n_tokens; ++t) cpu::quantize_act_q8_16(&af[t * k], &a[t * a_row], k);
  for (int64_t rows = 1; rows <= n_rows; rows += 3) {
    for (int64_t tokens = 1; tokens <= n_tokens; tokens += 2) {
      const size_t out_stride = static_cast<size_t>(rows) + 3;
      std::vector<float> out(out_stride * static_cast<size_t>(tokens), -1.0f);
      tile(k, w.data(), w_row, rows, a.data(), a_row, tokens, out.data(), out_stride);
      for (int64_t t = 0; t < tokens; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          float one = 0;
          tile(k, &w[r * w_row], w_row, 1, &a[t * a_row], a_row, 1, &one, 1);
          ASSERT_EQ(out[t * out_stride + r], one) << "rows " << rows << " tokens " << tokens << " at " << r << "," << t;
          const float portable = cpu::dot_q8_0_act_q8_16(k, &w[r * w_row], &a[t * a_row]);
          ASSERT_NEAR(one, portable, 1e-5f * (1.0f + std::abs(portable)));
        }
        EXPECT_EQ(out[t * out_stride + rows], -1.0f) << "wrote past the tile";
      }
    }
  }
}

}  // namespace
}  // namespace ingot::backend
