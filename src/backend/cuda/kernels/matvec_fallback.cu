// The decode matmul for shapes the staged kernels cannot take (matvec.cuh): one warp per weight
// row, each lane dequantizes groups of 8 elements with byte loads (dequant.cuh) and multiplies
// them with every token's f32 activations, then a warp sum. Slow (latency-bound on byte loads)
// but valid for any row stride, any k and any alignment; real model shapes never land here.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/matvec.cuh"

namespace ingot::cuda {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kMaxTokens = static_cast<int>(kMatvecMaxTokens);

template <Type T>
__global__ void matvec_fallback_kernel(const MatvecArgs a) {
  const int64_t row = int64_t{blockIdx.x} * kWarpsPerBlock + threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  if (row >= a.n_out) return;
  const uint8_t* wr = a.w + static_cast<size_t>(row) * a.w_stride;
  float acc[kMaxTokens];
#pragma unroll
  for (int t = 0; t < kMaxTokens; ++t) acc[t] = 0.0f;
  const int64_t n_groups = a.k / 8;
  for (int64_t g = lane; g < n_groups; g += 32) {
    float wv[8];
    Dequant<T>::load8(wr, g * 8, wv);
#pragma unroll
    for (int t = 0; t < kMaxTokens; ++t) {
      if (t < a.n_tokens) {
        const float* xt = a.x + t * a.x_stride + g * 8;
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[t] = fmaf(wv[e], xt[e], acc[t]);
      }
    }
  }
  if constexpr (Dequant<T>::kBlockElements == 1) {
    for (int64_t i = n_groups * 8 + lane; i < a.k; i += 32) {
      const float wv = Dequant<T>::load1(wr, i);
#pragma unroll
      for (int t = 0; t < kMaxTokens; ++t) {
        if (t < a.n_tokens) acc[t] = fmaf(wv, a.x[t * a.x_stride + i], acc[t]);
      }
    }
  }
#pragma unroll
  for (int t = 0; t < kMaxTokens; ++t) {
    if (t < a.n_tokens) {
      const float sum = warp_sum(acc[t]);
      if (lane == 0) a.out[t * a.out_stride + row] = a.bias != nullptr ? sum + a.bias[row] : sum;
    }
  }
}

}  // namespace

void launch_matvec_fallback(Type type, const MatvecArgs& args, cudaStream_t stream) {
  const auto blocks = static_cast<unsigned>((args.n_out + kWarpsPerBlock - 1) / kWarpsPerBlock);
  dispatch_weight_type(type, "matmul", [&](auto t) {
    constexpr Type T = decltype(t)::value;
    matvec_fallback_kernel<T><<<blocks, 32 * kWarpsPerBlock, 0, stream>>>(args);
  });
  check_last_launch("matvec_fallback_kernel");
}

}  // namespace ingot::cuda
