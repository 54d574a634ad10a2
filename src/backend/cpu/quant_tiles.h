// Tiled integer matmul kernels for quantized weights: one call computes a whole task's block of
// output rows x tokens, so each weight block is unpacked (nibbles, six-bit scales) once for
// several tokens and each activation block is loaded once for several rows. Every output is
// the same sequence of integer and float operations whatever the tile shape; for Q4_K/Q6_K it
// is that of quant's vec_dot (bit-identical), for Q8_0 (activations of act_q8_16.h) that of a
// 1 x 1 tile. Cost per 32 weights per (row, token): one maddubs and one madd, plus the block's
// float scale work.
#pragma once

#include "quant/types.h"

#include <cstddef>
#include <cstdint>

namespace ingot::backend::cpu {

// out[t * out_stride + r] = dot(k, w + r * w_stride, act + t * act_stride) for r < n_rows,
// t < n_tokens; weight and activation strides in bytes (activations in the weight type's
// vec_dot_type, or act_q8_16.h's format for Q8_0), out_stride in floats. Any n_rows, n_tokens.
using QuantTileFn = void (*)(int64_t k, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* act,
                             size_t act_stride, int64_t n_tokens, float* out, size_t out_stride);

// The AVX2 kernels (x86-64 builds only; callers check the CPU first). Exact only where quant
// uses its AVX2 vec_dot, which it does on every CPU with AVX2 + FMA + F16C.
QuantTileFn avx2_quant_tile(quant::Type weight_type);

// x[0..n) -> act_q8_16.h's format, bit-identical to quantize_act_q8_16; nullptr off x86-64
// (callers check the CPU for AVX2 first, as for the tiles).
using ActQuantizeFn = void (*)(const float* x, void* out, int64_t n);
ActQuantizeFn avx2_quantize_act_q8_16();

}  // namespace ingot::backend::cpu
