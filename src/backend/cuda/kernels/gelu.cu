// gelu, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), with tanhf.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/elementwise.cuh"

namespace ingot::cuda {
namespace {

__global__ void gelu_kernel(RowView x, RowView out, int64_t d, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * d;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / d, c = i % d;
    const float v = x.at(r, c);
    out.at(r, c) = 0.5f * v * (1.0f + tanhf(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

}  // namespace

void launch_gelu(const Tensor& x, const Tensor& out, cudaStream_t stream) {
  backend::expect_type(x, Type::F32, "gelu", "x");
  check_like(out, x, "gelu", "out");
  const int64_t n = x.n_rows(), d = x.ne0();
  if (n * d == 0) return;
  gelu_kernel<<<grid_for(n * d, 256), 256, 0, stream>>>(view_of(x), view_of(out), d, n);
  check_last_launch("gelu_kernel");
}

}  // namespace ingot::cuda
