// embed, rms_norm, add_rms_norm, swiglu, gelu, add, scale, logits against double references.
#include "backend_test_util.h"
#include "core/error.h"
#include "core/half.h"
#include "quant/quant.h"

namespace ingot::backend {
namespace {

using quant::Type;
using test::available_isas;

class RowOps : public ::testing::TestWithParam<cpu::Isa> {
 protected:
  cpu::CpuBackend backend{cpu::CpuOptions{.n_threads = 2, .isa = GetParam()}};
};

double rms_inv(const float* x, int64_t d, double eps) {
  double ss = 0;
  for (int64_t i = 0; i < d; ++i) ss += static_cast<double>(x[i]) * x[i];
  return 1.0 / std::sqrt(ss / d + eps);
}

TEST_P(RowOps, RmsNormMatchesReference) {
  const int64_t d = 129, n = 17;
  const auto x = test::random_floats(d * n, 1);
  const auto w = test::random_floats(d, 2, 0.5f, 1.5f);
  auto xt = test::f32_tensor(backend, x, d);
  auto wt = test::f32_tensor(backend, w, d);
  auto out = test::make_owned(backend, Type::F32, Shape::of(d, n));
  backend.rms_norm(xt.t, wt.t, 1e-5f, out.t);
  const auto got = test::read_f32(out.t);
  for (int64_t r = 0; r < n; ++r) {
    const double inv = rms_inv(&x[r * d], d, 1e-5);
    for (int64_t i = 0; i < d; ++i) ASSERT_NEAR(got[r * d + i], x[r * d + i] * inv * w[i], 1e-5);
  }
  backend.rms_norm(xt.t, wt.t, 1e-5f, xt.t);  // in place gives the same
  EXPECT_EQ(test::read_f32(xt.t), got);
}

TEST_P(RowOps, AddRmsNormUpdatesResidualAndNormalises) {
  const int64_t d = 96, n = 17;
  const auto res = test::random_floats(d * n, 3);
  const auto x = test::random_floats(d * n, 4);
  const auto w = test::random_floats(d, 5, 0.5f, 1.5f);
  auto rt = test::f32_tensor(backend, res, d);
  auto xt = test::f32_tensor(backend, x, d);
  auto wt = test::f32_tensor(backend, w, d);
  backend.add_rms_norm(rt.t, xt.t, wt.t, 1e-6f, xt.t);  // out aliases x
  const auto new_res = test::read_f32(rt.t);
  const auto got = test::read_f32(xt.t);
  for (int64_t r = 0; r < n; ++r) {
    std::vector<float> sum(d);
    for (int64_t i = 0; i < d; ++i) {
      sum[i] = res[r * d + i] + x[r * d + i];
      ASSERT_EQ(new_res[r * d + i], sum[i]);
    }
    const double inv = rms_inv(sum.data(), d, 1e-6);
    for (int64_t i = 0; i < d; ++i) ASSERT_NEAR(got[r * d + i], sum[i] * inv * w[i], 1e-5);
  }
}

TEST_P(RowOps, ActivationsMatchReference) {
  const int64_t d = 77, n = 5;
  const auto a = test::random_floats(d * n, 6, -6.0f, 6.0f);
  const auto b = test::random_floats(d * n, 7, -2.0f, 2.0f);
  auto at = test::f32_tensor(backend, a, d);
  auto bt = test::f32_tensor(backend, b, d);
  auto out = test::make_owned(backend, Type::F32, Shape::of(d, n));
  backend.swiglu(at.t, bt.t, out.t);
  auto got = test::read_f32(out.t);
  for (size_t i = 0; i < a.size(); ++i) {
    const double g = a[i];
    ASSERT_NEAR(got[i], g / (1 + std::exp(-g)) * b[i], 1e-5 * (1 + std::abs(g * b[i])));
  }
  backend.gelu(at.t, out.t);
  got = test::read_f32(out.t);
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i];
    const double expect =
        0.5 * x * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
    ASSERT_NEAR(got[i], expect, 1e-5 * (1 + std::abs(x)));
  }
  backend.add(at.t, bt.t, out.t);
  got = test::read_f32(out.t);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(got[i], a[i] + b[i]);
  backend.scale(at.t, 0.37f, out.t);
  got = test::read_f32(out.t);
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(got[i], a[i] * 0.37f);
}

// Embedding rows of every type quant computes equal quant's own dequantization of that row.
TEST_P(RowOps, EmbedDequantizesSelectedRowsOfEveryType) {
  const int64_t d = 512, vocab = 23;
  const auto values = test::random_floats(d * vocab, 8);
  const std::vector<int32_t> ids = {22, 0, 5, 5, 17, 3, 21};
  auto id_t = test::i32_tensor(backend, ids);
  int n_types = 0;
  for (const auto& traits : quant::all_types()) {
    if (!quant::is_supported(traits.type) || quant::ops(traits.type).quantize_row == nullptr)
      continue;
    SCOPED_TRACE(std::string(traits.name));
    const size_t row = quant::row_bytes(traits.type, d);
    std::vector<uint8_t> weight(row * vocab);
    for (int64_t r = 0; r < vocab; ++r)
      quant::quantize_row(traits.type, &values[r * d], &weight[r * row], d);
    const Tensor w =
        backend.upload_weight(weight.data(), traits.type, Shape::of(d, vocab), nullptr);
    auto out = test::make_owned(backend, Type::F32, Shape::of(d, static_cast<int64_t>(ids.size())));
    backend.embed(id_t.t, w, out.t);
    const auto got = test::read_f32(out.t);
    std::vector<float> expect(d);
    for (size_t i = 0; i < ids.size(); ++i) {
      quant::dequantize_row(traits.type, &weight[ids[i] * row], expect.data(), d);
      for (int64_t j = 0; j < d; ++j) ASSERT_EQ(got[i * d + j], expect[j]) << "id " << ids[i];
    }
    ++n_types;
  }
  EXPECT_GE(n_types, 3);  // F32, F16, BF16 at least
}

TEST_P(RowOps, EmbedRejectsIdsOutsideTheVocabulary) {
  const auto values = test::random_floats(8 * 4, 9);
  auto w = test::f32_tensor(backend, values, 8);
  auto ids = test::i32_tensor(backend, {1, 4});
  auto out = test::make_owned(backend, Type::F32, Shape::of(8, 2));
  EXPECT_THROW(backend.embed(ids.t, w.t, out.t), Error);
  auto neg = test::i32_tensor(backend, {-1, 0});
  EXPECT_THROW(backend.embed(neg.t, w.t, out.t), Error);
}

TEST_P(RowOps, LogitsNormaliseAndProjectOnlyTheRequestedRows) {
  const int64_t d = 64, n = 17, vocab = 37;
  const auto hidden = test::random_floats(d * n, 10);
  const auto norm = test::random_floats(d, 11, 0.5f, 1.5f);
  const auto head = test::random_floats(d * vocab, 12);
  auto ht = test::f32_tensor(backend, hidden, d);
  auto nt = test::f32_tensor(backend, norm, d);
  auto wt = test::f32_tensor(backend, head, d);
  const std::vector<int32_t> rows = {16, 3, 9};
  auto rt = test::i32_tensor(backend, rows);
  auto out = test::make_owned(backend, Type::F32, Shape::of(vocab, 3));
  backend.logits(ht.t, rt.t, nt.t, 1e-5f, wt.t, out.t);
  const auto got = test::read_f32(out.t);
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* h = &hidden[rows[i] * d];
    const double inv = rms_inv(h, d, 1e-5);
    for (int64_t v = 0; v < vocab; ++v) {
      double sum = 0;
      for (int64_t j = 0; j < d; ++j) sum += h[j] * inv * norm[j] * head[v * d + j];
      ASSERT_NEAR(got[i * vocab + v], sum, 1e-4);
    }
  }
  auto bad = test::i32_tensor(backend, {17});
  auto out1 = test::make_owned(backend, Type::F32, Shape::of(vocab, 1));
  EXPECT_THROW(backend.logits(ht.t, bad.t, nt.t, 1e-5f, wt.t, out1.t), Error);
}

TEST_P(RowOps, ShapeAndTypeMismatchesAreErrors) {
  auto x = test::f32_tensor(backend, test::random_floats(32, 13), 16);
  auto w = test::f32_tensor(backend, test::random_floats(8, 14), 8);
  auto out = test::make_owned(backend, Type::F32, Shape::of(16, 2));
  EXPECT_THROW(backend.rms_norm(x.t, w.t, 1e-5f, out.t), Error);
  auto ids = test::i32_tensor(backend, {1, 2});
  EXPECT_THROW(backend.add(x.t, ids.t, out.t), Error);
}

INSTANTIATE_TEST_SUITE_P(Isas, RowOps, ::testing::ValuesIn(available_isas()), test::isa_param_name);

TEST(CpuBackend, ForcingAnIsaTheCpuLacksIsAnError) {
  for (cpu::Isa isa : {cpu::Isa::avx2, cpu::Isa::avx512, cpu::Isa::neon}) {
    if (!cpu::kernels_for(isa)) {
      EXPECT_THROW(cpu::CpuBackend(cpu::CpuOptions{.isa = isa}), Error);
    }
  }
}

}  // namespace
}  // namespace ingot::backend
