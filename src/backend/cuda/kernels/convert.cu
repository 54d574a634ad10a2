// The prefill matmul's 16-bit activations: f32 rows (any row stride) rounded to dense f16 or
// bf16 [n_rows][k] in the workspace planned by reserve(). One block row per activation row
// (grid.y, batches of 65535), 4 elements per thread; no divisions in the index math. The weight
// operand is dequantize_f16.cu.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

template <typename H>
__device__ inline H round_to(float v);
template <>
__device__ inline __half round_to<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ inline __nv_bfloat16 round_to<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

constexpr int kConvertThreads = 256;
constexpr int kConvertPerThread = 4;
constexpr int64_t kConvertMaxRows = 65535;

template <typename H>
__global__ void convert_rows_kernel(const float* x, size_t x_stride, int64_t k, H* out) {
  const int64_t row = blockIdx.y;
  const int64_t c0 = (int64_t{blockIdx.x} * kConvertThreads) * kConvertPerThread + threadIdx.x;
  const float* xr = x + row * x_stride;
  H* o = out + row * k;
#pragma unroll
  for (int e = 0; e < kConvertPerThread; ++e) {
    const int64_t c = c0 + e * kConvertThreads;
    if (c < k) o[c] = round_to<H>(xr[c]);
  }
}

template <typename H>
void launch_convert(const float* x, size_t x_stride, int64_t k, int64_t n, H* out,
                    cudaStream_t stream) {
  constexpr int64_t per_block = int64_t{kConvertThreads} * kConvertPerThread;
  for (int64_t r = 0; r < n; r += kConvertMaxRows) {
    const int64_t rows = std::min(kConvertMaxRows, n - r);
    const dim3 grid(static_cast<unsigned>((k + per_block - 1) / per_block), static_cast<unsigned>(rows));
    convert_rows_kernel<H><<<grid, kConvertThreads, 0, stream>>>(x + r * x_stride, x_stride, k,
                                                                 out + r * k);
  }
}

}  // namespace

void launch_convert_rows(const Tensor& x, quant::Type to, void* dst, cudaStream_t stream) {
  backend::expect_type(x, Type::F32, "matmul", "x");
  const int64_t n = x.n_rows(), k = x.ne0();
  if (n * k == 0) return;
  const auto* xd = static_cast<const float*>(x.data);
  const size_t x_stride = x.row_stride / 4;
  if (to == Type::F16) {
    launch_convert(xd, x_stride, k, n, static_cast<__half*>(dst), stream);
  } else if (to == Type::BF16) {
    launch_convert(xd, x_stride, k, n, static_cast<__nv_bfloat16*>(dst), stream);
  } else {
    fail_unsupported("matmul", "activations can be converted to F16 or BF16 only");
  }
  check_last_launch("convert_rows_kernel");
}

}  // namespace ingot::cuda
