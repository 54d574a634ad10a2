// The prefill matmul's weight operand: rows of a quantized weight dequantized to dense f16
// [n_rows][k] in the workspace, for cuBLAS's tensor cores. One thread per group of 8 elements
// (dequant.cuh, the CPU's own formulas, then round-to-nearest-even) and one 16-byte store per
// thread, so a warp writes 512 contiguous bytes; blocks cover one row each in grid.y (batches of
// 65535 rows). Cost: one read of the weight and one write of 2 bytes per element, ~5 ms for the
// 7 G elements of an 8B model's layers at ~3.5 TB/s.
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxRowsPerLaunch = 65535;  // grid.y

template <Type T>
__global__ void __launch_bounds__(kThreads)
    dequantize_f16_kernel(const uint8_t* w, size_t w_stride, int64_t groups_per_row, uint4* out) {
  const int64_t g = int64_t{blockIdx.x} * kThreads + threadIdx.x;
  if (g >= groups_per_row) return;
  const int64_t row = blockIdx.y;
  float v[8];
  Dequant<T>::load8(w + static_cast<size_t>(row) * w_stride, g * 8, v);
  uint4 packed;
  __half2* h = reinterpret_cast<__half2*>(&packed);
#pragma unroll
  for (int e = 0; e < 4; ++e) h[e] = __floats2half2_rn(v[2 * e], v[2 * e + 1]);
  out[row * groups_per_row + g] = packed;
}

}  // namespace

void launch_dequantize_rows_f16(const Tensor& w, int64_t row0, int64_t n_rows, void* dst,
                                cudaStream_t stream) {
  const int64_t k = w.ne0();
  if (k % 8 != 0) fail_argument("matmul", "dequantized rows must be a multiple of 8 elements");
  if (row0 < 0 || n_rows < 0 || row0 + n_rows > w.n_rows()) fail_argument("matmul", "row range");
  if (reinterpret_cast<uintptr_t>(dst) % 16 != 0) fail_argument("matmul", "unaligned f16 workspace");
  if (n_rows == 0 || k == 0) return;
  const int64_t groups_per_row = k / 8;
  const auto* base = static_cast<const uint8_t*>(w.data);
  dispatch_weight_type(w.type, "matmul", [&](auto type) {
    constexpr Type T = decltype(type)::value;
    for (int64_t r = 0; r < n_rows; r += kMaxRowsPerLaunch) {
      const int64_t rows = std::min(kMaxRowsPerLaunch, n_rows - r);
      const dim3 grid(static_cast<unsigned>((groups_per_row + kThreads - 1) / kThreads),
                      static_cast<unsigned>(rows));
      dequantize_f16_kernel<T><<<grid, kThreads, 0, stream>>>(
          base + static_cast<size_t>(row0 + r) * w.row_stride, w.row_stride, groups_per_row,
          static_cast<uint4*>(dst) + r * groups_per_row);
    }
  });
  check_last_launch("dequantize_f16_kernel");
}

}  // namespace ingot::cuda
