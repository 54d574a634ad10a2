// The one-token decode activation quantized once per matmul (layout: matvec.cuh, XQ8 scheme:
// int8 per element, one f32 scale and two 16-element integer sums per 32-element unit), read by
// every block of the staged q8 matvec instead of each block re-quantizing its units. Eight
// threads per unit, four elements each (coalesced float4 loads, one int store; xq8.cuh): the
// values equal matvec_units.cuh quantize_q8's bit for bit. Cost: one
// launch, k * 4 bytes read, k * 1.25 bytes written.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/matvec.cuh"
#include "backend/cuda/kernels/matvec_units.cuh"
#include "backend/cuda/kernels/xq8.cuh"

namespace ingot::cuda {
namespace {

constexpr int kQuantizeThreads = 256;

__global__ void __launch_bounds__(kQuantizeThreads)
    quantize_x_q8_kernel(const float* __restrict__ x, int64_t n_units, uint8_t* __restrict__ xq) {
  const int64_t i = int64_t{blockIdx.x} * kQuantizeThreads + threadIdx.x;
  const bool active = i / 8 < n_units;  // whole groups of 8 lanes are active or not
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (active) v = reinterpret_cast<const float4*>(x)[i];
  xq8::store_unit(v, active, i, n_units, xq);
}

}  // namespace

void launch_quantize_x_q8(const float* x, int64_t k, uint8_t* xq, cudaStream_t stream) {
  const int64_t n_units = k / 32;
  const int64_t n_threads = n_units * 8;
  const auto blocks = static_cast<unsigned>((n_threads + kQuantizeThreads - 1) / kQuantizeThreads);
  quantize_x_q8_kernel<<<blocks, kQuantizeThreads, 0, stream>>>(x, n_units, xq);
  check_last_launch("quantize_x_q8_kernel");
}

}  // namespace ingot::cuda
