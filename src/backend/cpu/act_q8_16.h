// The activation format of the CPU matmul for Q8_0 weights: 8-bit integers in blocks of 32
// (one per Q8_0 weight block) with one f32 scale per 16 values, d = amax16 / 127, rounded half
// away from zero. Halving the block cuts the activation rounding error against ggml's Q8_0
// activations (one f16 scale per 32) by 12-13% rms on Gaussian rows and ~20% on SwiGLU products
// at no extra integer work: an AVX2 madd already sums each 16 values into their own 4 lanes
// (docs/MODELS.md "Q8_0: where the error comes from"). 40 bytes per 32 values (34 for Q8_0).
// These are the portable references; the AVX2 ones are in quant_tiles_avx2.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ingot::backend::cpu {

struct ActQ8_16 {
  float d[2];  // scales of qs[0..15] and qs[16..31]
  int8_t qs[32];
};
static_assert(sizeof(ActQ8_16) == 40);

constexpr int64_t kActQ8Block = 32;

// Bytes of one activation row of n values (n a multiple of 32).
constexpr size_t act_q8_16_row_bytes(int64_t n) { return static_cast<size_t>(n / kActQ8Block) * sizeof(ActQ8_16); }

// x[0..n) -> n / 32 blocks at out (n a multiple of 32).
void quantize_act_q8_16(const float* x, void* out, int64_t n);

// Dot product of one Q8_0 weight row with one ActQ8_16 row of n values: per block
// dw * (d[0] * isum(0..15) + d[1] * isum(16..31)), summed in f32.
float dot_q8_0_act_q8_16(int64_t n, const void* weight_row, const void* activation_row);

}  // namespace ingot::backend::cpu
