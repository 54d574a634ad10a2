// matmul and logits on the GPU for every supported weight type, on both paths (matvec for
// <= 8 tokens, cuBLAS above), odd shapes, with and without bias. F32 weights: relative error vs
// the CPU < 1e-5; F16/BF16 < 1e-2; quantized weights: every element within the CPU matmul's own
// tolerance of the double-precision product with the dequantized weight (the CPU quantizes the
// activations to Q8; the GPU does not), and the relative error vs the CPU is recorded.
#include "gpu_test_util.h"

namespace ingot::gpu_test {
namespace {

bool is_float(Type t) { return t == Type::F32 || t == Type::F16 || t == Type::BF16; }

double float_threshold(Type t) { return t == Type::F32 ? 1e-5 : 1e-2; }

// Checks a GPU result of a product with `w` against the double reference from the dequantized
// weight and `x` rows, with the CPU's tolerance; records (max error / tolerance).
void expect_within_cpu_tolerance(const std::string& op, Type type, const std::string& shape,
                                 const std::vector<float>& got, const Weight& w,
                                 const std::vector<float>& x, const std::vector<float>* bias,
                                 int64_t k, int64_t n_out, int64_t n_tokens,
                                 const std::vector<float>& cpu_got) {
  double worst = 0;
  int64_t n_bad = 0;
  for (int64_t t = 0; t < n_tokens; ++t) {
    for (int64_t r = 0; r < n_out; ++r) {
      const float* wr = &w.dequantized[r * k];
      const float* xr = &x[t * k];
      double ref = bias != nullptr ? (*bias)[r] : 0.0;
      for (int64_t i = 0; i < k; ++i) ref += static_cast<double>(wr[i]) * xr[i];
      const double tol = cpu_tolerance(type, wr, xr, k);
      const double g = got[t * n_out + r];
      const double err = std::isnan(g) ? std::numeric_limits<double>::infinity() : std::abs(g - ref);
      worst = std::max(worst, err / tol);
      if (!(err <= tol)) ++n_bad;
    }
  }
  const double rel = relative_error(got, cpu_got);
  record(ResultRow{op, std::string(quant::name(type)), shape, rel, 0.0, n_bad == 0});
  EXPECT_EQ(n_bad, 0) << op << " " << quant::name(type) << " " << shape
                      << ": worst error / CPU tolerance = " << worst;
}

void check_matmul(Type type, int64_t k, int64_t n_out, int64_t n_tokens, bool with_bias) {
  SCOPED_TRACE(std::string(quant::name(type)) + " k=" + std::to_string(k) +
               " n_out=" + std::to_string(n_out) + " tokens=" + std::to_string(n_tokens));
  const Weight w = make_weight(type, k, n_out, 31);
  const auto x = random_floats(static_cast<size_t>(k * n_tokens), 32);
  const auto bias = random_floats(static_cast<size_t>(n_out), 33);
  Pair xt = make_f32(x, k), bt = make_f32(bias, n_out);
  const Tensor wc = cpu().upload_weight(w.bytes.data(), type, Shape::of(k, n_out), nullptr);
  const Tensor wg = gpu().upload_weight(w.bytes.data(), type, Shape::of(k, n_out), nullptr);
  Pair out = make_poisoned(Type::F32, Shape::of(n_out, n_tokens));
  cpu().matmul(xt.cpu, wc, with_bias ? &bt.cpu : nullptr, out.cpu);
  gpu().matmul(xt.gpu, wg, with_bias ? &bt.gpu : nullptr, out.gpu);
  const std::string op = std::string(n_tokens <= 8 ? "matmul/vec" : "matmul/blas") +
                         (with_bias ? "+b" : "");
  const std::string shape = std::string("k") + std::to_string(k) + " n" + std::to_string(n_out) + " t" +
                            std::to_string(n_tokens);
  if (is_float(type)) {
    expect_close(op, std::string(quant::name(type)), shape, out, float_threshold(type));
  } else {
    expect_within_cpu_tolerance(op, type, shape, read_gpu(out.gpu), w, x,
                                with_bias ? &bias : nullptr, k, n_out, n_tokens,
                                read_cpu(out.cpu));
  }
}

TEST(GpuMatmul, FloatWeightsOnOddShapes) {
  for (Type type : {Type::F32, Type::F16, Type::BF16}) {
    check_matmul(type, 67, 37, 1, false);   // k not a multiple of 8, decode
    check_matmul(type, 256, 9, 5, true);    // a few tokens, bias
    check_matmul(type, 67, 37, 17, false);  // batch 17: cuBLAS, odd leading dimensions
    check_matmul(type, 1024, 300, 97, true);
  }
}

TEST(GpuMatmul, QuantizedWeightsEveryType) {
  for (Type type : cuda_weight_types()) {
    if (is_float(type)) continue;
    check_matmul(type, 512, 37, 1, false);
    check_matmul(type, 768, 41, 8, true);
    check_matmul(type, 512, 37, 17, true);
    check_matmul(type, 2048, 129, 97, false);
  }
}

TEST(GpuMatmul, QuantizedWeightLargerThanOneDequantizedChunk) {
  // 8200 x 4096 f16 rows are 67 MB: two chunks of the 64 MB dequantization workspace.
  check_matmul(Type::Q4_K, 4096, 8200, 17, true);
}

TEST(GpuMatmul, LogitsGatherNormAndHead) {
  const int64_t d = 512, n_hidden = 40, vocab = 301;
  const auto hidden = random_floats(static_cast<size_t>(d * n_hidden), 41, -2.0f, 2.0f);
  const auto norm = random_floats(static_cast<size_t>(d), 42, 0.5f, 1.5f);
  Pair ht = make_f32(hidden, d), nt = make_f32(norm, d);
  for (Type type : {Type::F32, Type::F16, Type::Q8_0, Type::Q4_K, Type::Q6_K}) {
    for (const std::vector<int32_t>& rows :
         {std::vector<int32_t>{3, 39, 0, 7}, std::vector<int32_t>{1,  2,  3,  5,  8,  13, 21,
                                                                  34, 0,  4,  6,  9,  10, 11}}) {
      const int64_t n = static_cast<int64_t>(rows.size());
      const Weight w = make_weight(type, d, vocab, 43);
      const Tensor wc = cpu().upload_weight(w.bytes.data(), type, Shape::of(d, vocab), nullptr);
      const Tensor wg = gpu().upload_weight(w.bytes.data(), type, Shape::of(d, vocab), nullptr);
      Pair rt = make_i32(rows);
      Pair out = make_poisoned(Type::F32, Shape::of(vocab, n));
      cpu().logits(ht.cpu, rt.cpu, nt.cpu, 1e-5f, wc, out.cpu);
      gpu().logits(ht.gpu, rt.gpu, nt.gpu, 1e-5f, wg, out.gpu);
      const std::string shape = std::string("d") + std::to_string(d) + " v" + std::to_string(vocab) + " rows" +
                                std::to_string(n);
      if (is_float(type)) {
        expect_close("logits", std::string(quant::name(type)), shape, out, float_threshold(type));
        continue;
      }
      // The normalised rows (f32, as both backends compute them) for the reference product.
      std::vector<float> normed(static_cast<size_t>(d * n));
      for (int64_t i = 0; i < n; ++i) {
        const float* h = &hidden[static_cast<size_t>(rows[i] * d)];
        double ss = 0;
        for (int64_t j = 0; j < d; ++j) ss += static_cast<double>(h[j]) * h[j];
        const double inv = 1.0 / std::sqrt(ss / static_cast<double>(d) + 1e-5);
        for (int64_t j = 0; j < d; ++j) normed[i * d + j] = static_cast<float>(h[j] * inv * norm[j]);
      }
      expect_within_cpu_tolerance("logits", type, shape, read_gpu(out.gpu), w, normed, nullptr,
                                  d, vocab, n, read_cpu(out.cpu));
    }
  }
}

}  // namespace
}  // namespace ingot::gpu_test
