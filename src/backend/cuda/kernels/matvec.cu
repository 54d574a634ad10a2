// matvec: the decode matmul (n_tokens <= kMatvecMaxTokens). One warp per weight row: each lane
// takes groups of 8 elements, dequantizes them in registers once (dequant.cuh) and multiplies
// them with every token's f32 activations (no activation rounding), f32 FMA accumulation, then a
// warp sum. Each weight byte is read once per call. Loads are byte-granular for now: the
// 16-byte vector loads the issue asks for are the next step (docs/CUDA.md).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kMaxTokens = static_cast<int>(kMatvecMaxTokens);

template <Type T>
__global__ void matvec_kernel(const uint8_t* w, size_t w_stride, int64_t n_out, int64_t k,
                              const float* x, size_t x_stride, int n_tokens, const float* bias,
                              float* out, size_t out_stride) {
  const int64_t row = int64_t{blockIdx.x} * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= n_out) return;
  const uint8_t* wr = w + static_cast<size_t>(row) * w_stride;
  float acc[kMaxTokens];
#pragma unroll
  for (int t = 0; t < kMaxTokens; ++t) acc[t] = 0.0f;
  const int64_t n_groups = k / 8;
  for (int64_t g = lane; g < n_groups; g += 32) {
    float wv[8];
    Dequant<T>::load8(wr, g * 8, wv);
#pragma unroll
    for (int t = 0; t < kMaxTokens; ++t) {
      if (t < n_tokens) {
        const float* xt = x + t * x_stride + g * 8;
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[t] = fmaf(wv[e], xt[e], acc[t]);
      }
    }
  }
  if constexpr (Dequant<T>::kBlockElements == 1) {
    for (int64_t i = n_groups * 8 + lane; i < k; i += 32) {
      const float wv = Dequant<T>::load1(wr, i);
#pragma unroll
      for (int t = 0; t < kMaxTokens; ++t) {
        if (t < n_tokens) acc[t] = fmaf(wv, x[t * x_stride + i], acc[t]);
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kMaxTokens; ++t) {
    if (t < n_tokens) {
      const float sum = warp_sum(acc[t]);
      if (lane == 0) out[t * out_stride + row] = bias != nullptr ? sum + bias[row] : sum;
    }
  }
}

}  // namespace

void launch_matvec(const Tensor& x, const Tensor& w, const float* bias, const Tensor& out,
                   cudaStream_t stream) {
  const int64_t n_tokens = x.n_rows(), n_out = w.n_rows(), k = x.ne0();
  if (n_tokens > kMatvecMaxTokens) fail_argument("matmul", "matvec takes at most 8 tokens");
  if (n_tokens == 0 || n_out == 0) return;
  const auto blocks = static_cast<unsigned>((n_out + kWarpsPerBlock - 1) / kWarpsPerBlock);
  dispatch_weight_type(w.type, "matmul", [&](auto type) {
    constexpr Type T = decltype(type)::value;
    matvec_kernel<T><<<blocks, 32 * kWarpsPerBlock, 0, stream>>>(
        static_cast<const uint8_t*>(w.data), w.row_stride, n_out, k,
        static_cast<const float*>(x.data), x.row_stride / 4, static_cast<int>(n_tokens), bias,
        static_cast<float*>(out.data), out.row_stride / 4);
  });
  check_last_launch("matvec_kernel");
}

}  // namespace ingot::cuda
