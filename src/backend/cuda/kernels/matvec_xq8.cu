// The one-token decode activation quantized once per matmul (layout: matvec.cuh, XQ8 scheme:
// int8 per element, one f32 scale and two 16-element integer sums per 32-element unit), read by
// every block of the staged q8 matvec instead of each block re-quantizing its units. Eight
// threads per unit, four elements each (coalesced float4 loads, one int store), max|x| and the
// sums by shuffles: the values equal matvec_units.cuh quantize_q8's bit for bit. Cost: one
// launch, k * 4 bytes read, k * 1.25 bytes written.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/matvec.cuh"
#include "backend/cuda/kernels/matvec_units.cuh"

namespace ingot::cuda {
namespace {

constexpr int kQuantizeThreads = 256;

__global__ void __launch_bounds__(kQuantizeThreads)
    quantize_x_q8_kernel(const float* __restrict__ x, int64_t n_units, uint8_t* __restrict__ xq) {
  const int64_t i = int64_t{blockIdx.x} * kQuantizeThreads + threadIdx.x;
  const int64_t unit = i / 8;
  const int j = static_cast<int>(i % 8);  // the unit's word j: elements 4j .. 4j + 3
  const bool active = unit < n_units;     // whole groups of 8 lanes are active or not
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (active) v = reinterpret_cast<const float4*>(x)[i];
  float amax = fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
#pragma unroll
  for (int offset = 4; offset > 0; offset >>= 1) {
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, offset));
  }
  const float d = amax / 127.0f;
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23, as quantize_q8
  const int b0 = __float_as_int(fmaf(v.x, inv, kMagic));
  const int b1 = __float_as_int(fmaf(v.y, inv, kMagic));
  const int b2 = __float_as_int(fmaf(v.z, inv, kMagic));
  const int b3 = __float_as_int(fmaf(v.w, inv, kMagic));
  const int q = static_cast<int>(
      __byte_perm(__byte_perm(b0, b1, 0x0040), __byte_perm(b2, b3, 0x0040), 0x5410));
  int sum = __dp4a(q, 0x01010101, 0);
  sum += __shfl_xor_sync(0xffffffffu, sum, 2);  // lanes 0..3 of the group: bytes 0..15,
  sum += __shfl_xor_sync(0xffffffffu, sum, 1);  // lanes 4..7: bytes 16..31
  const int sum_hi = __shfl_xor_sync(0xffffffffu, sum, 4);
  if (!active) return;
  reinterpret_cast<int*>(xq)[i] = q;
  if (j == 0) {
    const int packed = (sum & 0xffff) | (sum_hi << 16);
    reinterpret_cast<int2*>(xq + n_units * 32)[unit] = make_int2(__float_as_int(d), packed);
  }
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
