// scale: out = x * factor, element-wise (factor passed by value in the launch).
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/elementwise.cuh"

namespace ingot::cuda {
namespace {

__global__ void scale_kernel(RowView x, float factor, RowView out, int64_t d, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * d;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / d, c = i % d;
    out.at(r, c) = x.at(r, c) * factor;
  }
}

}  // namespace

void launch_scale(const Tensor& x, float factor, const Tensor& out, cudaStream_t stream) {
  backend::expect_type(x, Type::F32, "scale", "x");
  check_like(out, x, "scale", "out");
  const int64_t n = x.n_rows(), d = x.ne0();
  if (n * d == 0) return;
  scale_kernel<<<grid_for(n * d, 256), 256, 0, stream>>>(view_of(x), factor, view_of(out), d, n);
  check_last_launch("scale_kernel");
}

}  // namespace ingot::cuda
