// Writing the one-token activation in the 8-bit layout of matvec.cuh (matvec_xq8_bytes): the
// shared step of launch_quantize_x_q8 (matvec_xq8.cu) and of the norms that quantize their
// output on the way out (rms_norm.cu). Eight consecutive lanes hold one 32-element unit, four
// elements each; max|x| and the two 16-element sums by shuffles. The values equal
// matvec_units.cuh quantize_q8's bit for bit.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace ingot::cuda::xq8 {

// Lane group of 8 (lanes 8g .. 8g+7 of a warp, whole groups active or not) quantizes unit
// i / 8 from v = elements 4i .. 4i+3 of the row; every lane of the warp must call it.
__device__ inline void store_unit(float4 v, bool active, int64_t i, int64_t n_units, uint8_t* xq) {
  if (!active) v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  const int64_t unit = i / 8;
  const int j = static_cast<int>(i % 8);  // the unit's word j: elements 4j .. 4j + 3
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

}  // namespace ingot::cuda::xq8
