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
};

// Staged kernels (matvec_staged.cuh) per family; each throws for a type outside its family.
void launch_matvec_float(quant::Type type, const MatvecArgs& args, cudaStream_t stream);
void launch_matvec_quant(quant::Type type, const MatvecArgs& args, cudaStream_t stream);
void launch_matvec_kquant(quant::Type type, const MatvecArgs& args, cudaStream_t stream);
// Elements of one thread's unit of work in the staged kernels (k must be a multiple).
int matvec_unit_elements(quant::Type type);

// One warp per row, byte loads: any shape (matvec_fallback.cu).
void launch_matvec_fallback(quant::Type type, const MatvecArgs& args, cudaStream_t stream);

}  // namespace ingot::cuda
