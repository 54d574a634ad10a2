// swiglu: out = silu(gate) * up, silu(g) = g / (1 + exp(-g)) with the accurate expf.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/elementwise.cuh"

namespace ingot::cuda {
namespace {

__global__ void swiglu_kernel(RowView gate, RowView up, RowView out, int64_t d, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n * d;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t r = i / d, c = i % d;
    const float g = gate.at(r, c);
    out.at(r, c) = __fmul_rn(g / (1.0f + expf(-g)), up.at(r, c));
  }
}

}  // namespace

void launch_swiglu(const Tensor& gate, const Tensor& up, const Tensor& out, cudaStream_t stream) {
  backend::expect_type(gate, Type::F32, "swiglu", "gate");
  check_like(up, gate, "swiglu", "up");
  check_like(out, gate, "swiglu", "out");
  const int64_t n = gate.n_rows(), d = gate.ne0();
  if (n * d == 0) return;
  swiglu_kernel<<<grid_for(n * d, 256), 256, 0, stream>>>(view_of(gate), view_of(up), view_of(out), d, n);
  check_last_launch("swiglu_kernel");
}

}  // namespace ingot::cuda
