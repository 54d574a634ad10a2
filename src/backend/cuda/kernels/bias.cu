// bias: out[r, t] += bias[r] after a cuBLAS matmul (the matvec kernel adds its bias itself).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/elementwise.cuh"

namespace ingot::cuda {
namespace {

__global__ void add_bias_kernel(const float* bias, RowView out, int64_t d, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * d;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / d, c = i % d;
    out.at(r, c) += bias[c];
  }
}

}  // namespace

void launch_add_bias(const float* bias, const Tensor& out, cudaStream_t stream) {
  backend::expect_type(out, Type::F32, "matmul", "out");
  const int64_t n = out.n_rows(), d = out.ne0();
  if (n * d == 0 || bias == nullptr) return;
  add_bias_kernel<<<grid_for(n * d, 256), 256, 0, stream>>>(bias, view_of(out), d, n);
  check_last_launch("add_bias_kernel");
}

}  // namespace ingot::cuda
