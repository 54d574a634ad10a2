// The decode matmul (matvec, <= 8 tokens) at the shapes of real models, for every weight type:
// the staged kernels (16-byte loads, kernels/matvec_staged.cuh) on full and partial tiles, the
// byte-granular fallback on rows that are not a multiple of 16 bytes, and Llama-3.1-8B's
// projection shapes (k 4096 and 14336, n_out up to 14336) for its hot types. With f32
// activations the GPU dequantizes exactly as the CPU does, so each output must be within
// 1e-5 * sum|w x| + 1e-6 of the double-precision product. One token on Q4_K, Q5_K, Q6_K and Q8_0
// weights quantizes the activations to 8 bits per 32 elements (matvec_units.cuh dot_q8), the
// rounding the CPU's own vec_dot makes (in blocks of 32, not the CPU's 256 for k-quants, so
// never a larger error): those outputs are held to the CPU's tolerance (cpu_tolerance, as the
// matmul tests do). Outputs start poisoned with NaN.
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/matvec.cuh"
#include "gpu_test_util.h"

namespace ingot::gpu_test {
namespace {

void check_matvec(Type type, int64_t k, int64_t n_out, int64_t n_tokens, bool with_bias) {
  SCOPED_TRACE(std::string(quant::name(type)) + " k=" + std::to_string(k) +
               " n_out=" + std::to_string(n_out) + " tokens=" + std::to_string(n_tokens));
  const Weight w = make_weight(type, k, n_out, 71);
  const auto x = random_floats(static_cast<size_t>(k * n_tokens), 72);
  const auto bias = random_floats(static_cast<size_t>(n_out), 73);
  Pair xt = make_f32(x, k), bt = make_f32(bias, n_out);
  const Tensor wg = gpu().upload_weight(w.bytes.data(), type, Shape::of(k, n_out), nullptr);
  Pair out = make_poisoned(Type::F32, Shape::of(n_out, n_tokens));
  gpu().matmul(xt.gpu, wg, with_bias ? &bt.gpu : nullptr, out.gpu);
  const std::vector<float> got = read_gpu(out.gpu);
  // The one-token 8-bit-activation path (launch_staged in matvec_staged.cuh).
  const bool q8 = n_tokens == 1 && (type == Type::Q4_K || type == Type::Q5_K ||
                                   type == Type::Q6_K || type == Type::Q8_0);
  double worst = 0;
  int64_t n_bad = 0;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < n_out; ++r) {
      const float* wr = &w.dequantized[static_cast<size_t>(r * k)];
      const float* xr = &x[static_cast<size_t>(t * k)];
      double ref = with_bias ? bias[static_cast<size_t>(r)] : 0.0, mag = 0;
      for (int64_t i = 0; i < k; ++i) {
        ref += static_cast<double>(wr[i]) * xr[i];
        mag += std::abs(static_cast<double>(wr[i]) * xr[i]);
      }
      const double tol = q8 ? cpu_tolerance(type, wr, xr, k) : 1e-5 * mag + 1e-6;
      const double g = got[static_cast<size_t>(t * n_out + r)];
      const double err =
          std::isnan(g) ? std::numeric_limits<double>::infinity() : std::abs(g - ref);
      worst = std::max(worst, err / tol);
      if (!(err <= tol)) ++n_bad;
    }
  }
  const std::string shape = std::string("k") + std::to_string(k) + " n" + std::to_string(n_out) +
                            " t" + std::to_string(n_tokens);
  record(ResultRow{std::string("matvec") + (q8 ? "-q8" : "") + (with_bias ? "+b" : ""),
                   std::string(quant::name(type)), shape, worst, 1.0, n_bad == 0});
  EXPECT_EQ(n_bad, 0) << "worst error / tolerance = " << worst;
}

// k with rows a multiple of 16 bytes and a partial last tile (staged), per type.
int64_t staged_k(Type type) { return type == Type::Q6_K ? 6144 : 2304; }

TEST(GpuMatvec, StagedEveryTypeFullAndPartialTiles) {
  for (Type type : cuda_weight_types()) {
    check_matvec(type, staged_k(type), 37, 1, false);  // 2 rows per block, odd row count
    check_matvec(type, staged_k(type), 4099, 1, true); // 4 rows per block, last block partial
    check_matvec(type, staged_k(type), 37, 3, true);   // several tokens
    check_matvec(type, 4096, 19, 8, false);            // the most tokens, whole tiles
  }
}

TEST(GpuMatvec, FallbackOnRowsNotMultipleOf16Bytes) {
  // Q8_0 k=32 * 3: 102-byte rows; Q6_K k=256: 210-byte rows; F16 k=68: 136-byte rows.
  check_matvec(Type::Q8_0, 96, 33, 1, true);
  check_matvec(Type::Q6_K, 256, 33, 2, false);
  check_matvec(Type::F16, 68, 33, 1, false);
}

TEST(GpuMatvec, Llama8BShapesHotTypes) {
  for (Type type : {Type::Q4_K, Type::Q6_K, Type::Q8_0, Type::F16}) {
    check_matvec(type, 4096, 14336, 1, false);  // ffn gate / up
    check_matvec(type, 14336, 4096, 1, false);  // ffn down
    check_matvec(type, 4096, 1024, 1, false);   // k / v
    check_matvec(type, 4096, 4096, 8, true);    // q / o, 8 tokens
  }
}

// The one-token activation quantized once per call into scratch (launch_quantize_x_q8, what
// CudaBackend::matmul does) gives bit for bit the outputs of each block quantizing its own units
// in registers (no scratch): the two quantizations are equal.
TEST(GpuMatvec, ActivationQuantizedOnceEqualsPerBlock) {
  Buffer scratch = gpu().alloc(cuda::matvec_xq8_bytes(14336));
  for (Type type : {Type::Q4_K, Type::Q5_K, Type::Q6_K, Type::Q8_0}) {
    for (const auto& [k, n_out] : {std::pair<int64_t, int64_t>{2304, 4099}, {14336, 37},
                                   {2304, 1024}}) {
      SCOPED_TRACE(std::string(quant::name(type)) + " k=" + std::to_string(k));
      const Weight w = make_weight(type, k, n_out, 81);
      // Activations with a wide range per unit and some all-zero units (scale 0).
      auto x = random_floats(static_cast<size_t>(k), 82, -3.0f, 3.0f);
      for (size_t i = 64; i < 96; ++i) x[i] = 0.0f;
      Pair xt = make_f32(x, k);
      const Tensor wg = gpu().upload_weight(w.bytes.data(), type, Shape::of(k, n_out), nullptr);
      Pair once = make_poisoned(Type::F32, Shape::of(n_out, 1));
      Pair per_block = make_poisoned(Type::F32, Shape::of(n_out, 1));
      cuda::launch_matvec(xt.gpu, wg, nullptr, once.gpu, gpu().stream(),
                          static_cast<uint8_t*>(scratch.data()), scratch.size());
      cuda::launch_matvec(xt.gpu, wg, nullptr, per_block.gpu, gpu().stream());
      const std::vector<float> a = read_gpu(once.gpu), b = read_gpu(per_block.gpu);
      ASSERT_EQ(a.size(), b.size());
      int64_t n_diff = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) ++n_diff;
      }
      EXPECT_EQ(n_diff, 0) << "of " << a.size();
    }
  }
}

}  // namespace
}  // namespace ingot::gpu_test
