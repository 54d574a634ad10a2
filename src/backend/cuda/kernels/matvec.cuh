// Internal interface of the decode matmul (matvec*.cu): the launch arguments every variant
// takes, the staged kernels' instantiations per weight-type family, and the byte-granular
// fallback for shapes the staged kernels cannot take (rows not a multiple of 16 bytes, k not a
// multiple of 8 for plain types, unaligned pointers). Launch shapes depend on tensor shapes only.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace ingot::cuda {

// out[t * out_stride + r] = sum_i w[r, i] * x[t * x_stride + i] (+ bias[r]),
// for r < n_out, t < n_tokens.
struct MatvecArgs {
  const uint8_t* w;
  size_t w_stride;   // bytes between weight rows
  int64_t row_bytes; // bytes of one weight row's k elements
  int64_t n_out, k;
  const float* x;
  size_t x_stride;   // floats between activation rows
  int n_tokens;
  const float* bias; // n_out floats or null
  float* out;
  size_t out_stride; // floats between output rows
  bool q8_activations; // one token: 8-bit activations + integer dots where the type has them
  // One token, 8-bit activations quantized once for the whole call by launch_quantize_x_q8
  // (layout below), or null: then each block quantizes its threads' units in registers.
  const uint8_t* xq;
  // More weights of the same type and k read by the same launch (Q/K/V): the blocks of w come
  // first, then those of more[0], more[1]; each has its own rows, bias and output.
  struct Segment {
    const uint8_t* w;
    size_t w_stride;
    int64_t n_out;
    const float* bias;
    float* out;
    size_t out_stride;
  };
  Segment more[2];
  int n_more;
  // Gated (SwiGLU): w holds the gate rows, w_up the up rows (same stride), and
  // out = silu(x w^T) * (x w_up^T); no bias, no segments.
  const uint8_t* w_up;
  // One token: 4 rows per block from this many output rows on (else 2), so that every SM of a
  // large GPU still gets several blocks (matvec.cu four_rows_min_out: 4096 for float weights,
  // 8192 for quantized ones).
  int64_t four_rows_min_out;
};
inline constexpr int kMatvecMaxSegments = 3;

// The one-token activation quantized to 8 bits per 32-element unit (XQ8 of matvec_units.cuh),
// k a multiple of 32, at a 16-aligned `xq`: k int8 values, then per unit an int2 {f32 bits of
// the scale d, sum of bytes 0..15 | sum of bytes 16..31 << 16 (int16 each)}.
inline size_t matvec_xq8_bytes(int64_t k) {
  return static_cast<size_t>(k) + static_cast<size_t>(k) / 32 * 8;
}
// Eight threads per unit (matvec_xq8.cu); values equal quantize_q8's in registers bit for bit.
void launch_quantize_x_q8(const float* x, int64_t k, uint8_t* xq, cudaStream_t stream);

// Staged kernels (matvec_staged.cuh) per family; each throws for a type outside its family.
// Segments and the gated form need the staged kernels.
void launch_matvec_float(quant::Type type, const MatvecArgs& args, cudaStream_t stream);
void launch_matvec_quant(quant::Type type, const MatvecArgs& args, cudaStream_t stream);
void launch_matvec_kquant(quant::Type type, const MatvecArgs& args, cudaStream_t stream);
// Elements of one thread's unit of work in the staged kernels (k must be a multiple).
int matvec_unit_elements(quant::Type type);

// One warp per row, byte loads: any shape (matvec_fallback.cu).
void launch_matvec_fallback(quant::Type type, const MatvecArgs& args, cudaStream_t stream);

}  // namespace ingot::cuda
