// The prefill matmul's 16-bit operands: weight rows dequantized to dense f16 (one thread per
// group of 8 elements, dequant.cuh then round-to-nearest-even), and activation rows rounded to
// dense f16 or bf16. Grid-stride loops; the destination is workspace planned by reserve().
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

template <Type T>
__global__ void dequantize_rows_kernel(const uint8_t* w, size_t w_stride, int64_t k,
                                       int64_t n_rows, __half* out) {
  const int64_t groups_per_row = k / 8;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n_rows * groups_per_row;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / groups_per_row, g = i % groups_per_row;
    float v[8];
    Dequant<T>::load8(w + static_cast<size_t>(r) * w_stride, g * 8, v);
    __half* o = out + r * k + g * 8;
#pragma unroll
    for (int e = 0; e < 8; ++e) o[e] = __float2half_rn(v[e]);
  }
}

template <typename H>
__device__ inline H round_to(float v);
template <>
__device__ inline __half round_to<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ inline __nv_bfloat16 round_to<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

template <typename H>
__global__ void convert_rows_kernel(const float* x, size_t x_stride, int64_t k, int64_t n_rows,
                                    H* out) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n_rows * k;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / k, c = i % k;
    out[i] = round_to<H>(x[r * x_stride + c]);
  }
}

}  // namespace

void launch_dequantize_rows_f16(const Tensor& w, int64_t row0, int64_t n_rows, void* dst,
                                cudaStream_t stream) {
  const int64_t k = w.ne0();
  if (k % 8 != 0) fail_argument("matmul", "dequantized rows must be a multiple of 8 elements");
  if (row0 < 0 || n_rows < 0 || row0 + n_rows > w.n_rows()) fail_argument("matmul", "row range");
  if (n_rows == 0 || k == 0) return;
  const auto* rows = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(row0) * w.row_stride;
  dispatch_weight_type(w.type, "matmul", [&](auto type) {
    constexpr Type T = decltype(type)::value;
    dequantize_rows_kernel<T><<<grid_for(n_rows * k / 8, 256), 256, 0, stream>>>(
        rows, w.row_stride, k, n_rows, static_cast<__half*>(dst));
  });
  check_last_launch("dequantize_rows_kernel");
}

void launch_convert_rows(const Tensor& x, quant::Type to, void* dst, cudaStream_t stream) {
  backend::expect_type(x, Type::F32, "matmul", "x");
  const int64_t n = x.n_rows(), k = x.ne0();
  if (n * k == 0) return;
  const unsigned grid = grid_for(n * k, 256);
  if (to == Type::F16) {
    convert_rows_kernel<__half><<<grid, 256, 0, stream>>>(
        static_cast<const float*>(x.data), x.row_stride / 4, k, n, static_cast<__half*>(dst));
  } else if (to == Type::BF16) {
    convert_rows_kernel<__nv_bfloat16><<<grid, 256, 0, stream>>>(
        static_cast<const float*>(x.data), x.row_stride / 4, k, n,
        static_cast<__nv_bfloat16*>(dst));
  } else {
    fail_unsupported("matmul", "activations can be converted to F16 or BF16 only");
  }
  check_last_launch("convert_rows_kernel");
}

}  // namespace ingot::cuda
