// add: out = a + b, element-wise.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/elementwise.cuh"

namespace ingot::cuda {
namespace {

__global__ void add_kernel(RowView a, RowView b, RowView out, int64_t d, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * d;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / d, c = i % d;
    out.at(r, c) = a.at(r, c) + b.at(r, c);
  }
}

}  // namespace

void launch_add(const Tensor& a, const Tensor& b, const Tensor& out, cudaStream_t stream) {
  backend::expect_type(a, Type::F32, "add", "a");
  check_like(b, a, "add", "b");
  check_like(out, a, "add", "out");
  const int64_t n = a.n_rows(), d = a.ne0();
  if (n * d == 0) return;
  add_kernel<<<grid_for(n * d, 256), 256, 0, stream>>>(view_of(a), view_of(b), view_of(out), d, n);
  check_last_launch("add_kernel");
}

}  // namespace ingot::cuda
