// CudaBackend::matmul: out[n_out, n_tokens] = x[k, n_tokens] * w[k, n_out]^T (+ bias), and the
// fused matmul_many (Q/K/V: one activation quantization, one launch per weight type) and
// matmul_swiglu (gate and up rows read by the same block, silu(g)*u written) for decode steps.
//  - n_tokens <= kMatvecMaxTokens (decode), any weight type: kernels/matvec.cu, weights
//    dequantized in registers, f32 accumulation; one token on Q4_K/Q5_K/Q6_K/Q8_0 quantizes the
//    activation to 8 bits once (into the 16-bit workspace), else f32 activations.
//  - more tokens, F32 weights: cublasGemmEx in plain f32 (CUBLAS_COMPUTE_32F_PEDANTIC: no TF32).
//  - more tokens, F16/BF16 weights: x rounded to the weight's type into the workspace, then
//    cublasGemmEx with f32 accumulation (error ~2^-9 relative for bf16 activations).
//  - more tokens, quantized weights: weight rows dequantized to f16 into the workspace
//    (kernels/dequantize_f16.cu, 16-byte stores) in chunks of a multiple of 128 rows (the whole
//    weight when the 64 MB workspace holds it), x rounded to f16 once, cublasGemmEx per chunk
//    with f32 accumulation on the tensor cores. Measured on an H100 for 512 tokens of an 8B
//    Q4_K model: 8 ms of dequantization (~2.2 TB/s) + 14 ms of GEMMs (docs/PERFORMANCE.md).
// cuBLAS sees the row-major views as column-major: W is [k x n_out] with lda = row stride, so
// C[n_out x n_tokens] = W^T X with ldc = out's row stride.
#include <algorithm>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/launchers.h"
#include "core/error.h"

namespace ingot::cuda {
namespace {

using quant::Type;

size_t elements_stride(const Tensor& t, size_t element_bytes, const char* what) {
  if (t.row_stride % element_bytes != 0) {
    fail(ErrorCode::invalid_argument, "matmul: {} row stride {} is not a multiple of {}", what,
         t.row_stride, element_bytes);
  }
  return t.row_stride / element_bytes;
}

}  // namespace

namespace {

void check_matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) {
  backend::expect_type(x, Type::F32, "matmul", "x");
  const int64_t k = x.ne0();
  const int64_t n_tokens = x.n_rows();
  if (w.ne0() != k) {
    fail(ErrorCode::invalid_argument, "matmul: x rows have {} elements, weight rows {}", k,
         w.ne0());
  }
  const int64_t n_out = w.n_rows();
  backend::expect_type(out, Type::F32, "matmul", "out");
  backend::expect_rows(out, n_out, n_tokens, "matmul", "out");
  if (bias != nullptr) {
    backend::expect_type(*bias, Type::F32, "matmul", "bias");
    backend::expect_rows(*bias, n_out, 1, "matmul", "bias");
  }
  if (!is_weight_type_supported(w.type)) {
    fail(ErrorCode::unsupported, "matmul: the CUDA backend cannot compute with {} weights",
         quant::name(w.type));
  }
}

const float* bias_data(const Tensor* bias) {
  return bias != nullptr ? static_cast<const float*>(bias->data) : nullptr;
}

}  // namespace

void CudaBackend::matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) {
  activate();
  check_matmul(x, w, bias, out);
  const int64_t n_tokens = x.n_rows(), n_out = w.n_rows();
  if (n_tokens == 0 || n_out == 0) return;
  if (n_tokens <= kMatvecMaxTokens) {
    // The prefill operands' workspace is free during a decode matmul: it holds the activation
    // quantized to 8 bits once per call (stream-ordered, like the prefill's uses).
    launch_matvec(x, w, bias_data(bias), out, stream_.get(),
                  static_cast<uint8_t*>(activations_16_.data()), activations_16_.size(),
                  x_in_scratch(x));
    return;
  }
  if (w.type == Type::F32 || w.type == Type::F16 || w.type == Type::BF16) {
    matmul_cublas_float(x, w, out);
  } else {
    matmul_cublas_dequantized(x, w, out);
  }
  if (bias != nullptr) launch_add_bias(bias_data(bias), out, stream_.get());
}

void CudaBackend::matmul_many(const Tensor& x, std::span<const MatmulTarget> targets) {
  constexpr size_t kMaxTargets = 8;
  if (x.n_rows() > kMatvecMaxTokens || targets.size() > kMaxTargets) {
    Backend::matmul_many(x, targets);
    return;
  }
  activate();
  const bool quantized = x_in_scratch(x);
  MatvecTarget matvec[kMaxTargets];
  for (size_t i = 0; i < targets.size(); ++i) {
    check_matmul(x, *targets[i].w, targets[i].bias, *targets[i].out);
    matvec[i] = {targets[i].w, bias_data(targets[i].bias), targets[i].out};
  }
  launch_matvec_many(x, std::span(matvec, targets.size()), stream_.get(),
                     static_cast<uint8_t*>(activations_16_.data()), activations_16_.size(), quantized);
}

void CudaBackend::matmul_swiglu(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                                const Tensor& gate, const Tensor& up) {
  activate();
  if (x.n_rows() <= kMatvecMaxTokens) {
    check_matmul(x, w_gate, nullptr, gate);
    check_matmul(x, w_up, nullptr, up);
    if (launch_matvec_gated(x, w_gate, w_up, gate, stream_.get(),
                            static_cast<uint8_t*>(activations_16_.data()), activations_16_.size(),
                            x_in_scratch(x))) {
      return;
    }
  }
  Backend::matmul_swiglu(x, w_gate, w_up, gate, up);
}

void CudaBackend::gemm(const void* w, size_t lda, const void* x, size_t ldb, cudaDataType type,
                       cublasComputeType_t compute, int64_t m, int64_t n, int64_t k, float* out,
                       size_t ldc) {
  const float alpha = 1.0f, beta = 0.0f;  // read by cuBLAS before the call returns (host mode)
  check_cublas(cublasGemmEx(cublas_.get(), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m),
                            static_cast<int>(n), static_cast<int>(k), &alpha, w, type,
                            static_cast<int>(lda), x, type, static_cast<int>(ldb), &beta, out,
                            CUDA_R_32F, static_cast<int>(ldc), compute, CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

void CudaBackend::matmul_cublas_float(const Tensor& x, const Tensor& w, const Tensor& out) {
  const int64_t k = x.ne0(), n_tokens = x.n_rows(), n_out = w.n_rows();
  const size_t ldc = elements_stride(out, 4, "out");
  if (w.type == Type::F32) {
    gemm(w.data, elements_stride(w, 4, "weight"), x.data, elements_stride(x, 4, "x"), CUDA_R_32F,
         CUBLAS_COMPUTE_32F_PEDANTIC, n_out, n_tokens, k, static_cast<float*>(out.data), ldc);
    return;
  }
  const size_t need = static_cast<size_t>(n_tokens * k) * 2;
  if (need > activations_16_.size()) {
    fail(ErrorCode::out_of_range,
         "matmul: {} tokens of {} exceed the workspace planned by reserve() ({} of {})", n_tokens,
         k, plan_.max_tokens, plan_.max_row_elements);
  }
  launch_convert_rows(x, w.type, activations_16_.data(), stream_.get());
  gemm(w.data, elements_stride(w, 2, "weight"), activations_16_.data(), static_cast<size_t>(k),
       w.type == Type::F16 ? CUDA_R_16F : CUDA_R_16BF, CUBLAS_COMPUTE_32F, n_out, n_tokens, k,
       static_cast<float*>(out.data), ldc);
}

void CudaBackend::matmul_cublas_dequantized(const Tensor& x, const Tensor& w, const Tensor& out) {
  const int64_t k = x.ne0(), n_tokens = x.n_rows(), n_out = w.n_rows();
  const size_t need = static_cast<size_t>(n_tokens * k) * 2;
  if (need > activations_16_.size()) {
    fail(ErrorCode::out_of_range,
         "matmul: {} tokens of {} exceed the workspace planned by reserve() ({} of {})", n_tokens,
         k, plan_.max_tokens, plan_.max_row_elements);
  }
  int64_t rows_per_chunk = static_cast<int64_t>(weights_16_.size() / (static_cast<size_t>(k) * 2));
  if (rows_per_chunk == 0) {
    fail(ErrorCode::out_of_range, "matmul: rows of {} exceed the workspace planned by reserve()", k);
  }
  // Whole 128-row tiles per chunk keep cuBLAS's tiles full (except the weight's own last rows).
  if (rows_per_chunk >= 128 && rows_per_chunk < n_out) rows_per_chunk = rows_per_chunk / 128 * 128;
  const size_t ldc = elements_stride(out, 4, "out");
  launch_convert_rows(x, Type::F16, activations_16_.data(), stream_.get());
  // Chunks reuse one workspace region; the stream orders each dequantize after the previous gemm.
  for (int64_t row0 = 0; row0 < n_out; row0 += rows_per_chunk) {
    const int64_t n_rows = std::min(rows_per_chunk, n_out - row0);
    launch_dequantize_rows_f16(w, row0, n_rows, weights_16_.data(), stream_.get());
    gemm(weights_16_.data(), static_cast<size_t>(k), activations_16_.data(),
         static_cast<size_t>(k), CUDA_R_16F, CUBLAS_COMPUTE_32F, n_rows, n_tokens, k,
         static_cast<float*>(out.data) + row0, ldc);
  }
}

}  // namespace ingot::cuda
