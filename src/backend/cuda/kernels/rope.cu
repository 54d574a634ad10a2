// rope: blocks over (token, 128 (head, pair)s), one rotation per thread (rope.cuh), so one
// decode token's 2-4k double-precision sincos spread over many SMs.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/rope.cuh"

namespace ingot::cuda {
namespace {

constexpr int kThreads = 128;

__global__ void rope_kernel(float* x, size_t x_stride, const int32_t* positions, int n_heads,
                            const rope::Args args) {
  const int64_t token = blockIdx.x;
  float* row = x + token * x_stride;
  const double pos = static_cast<double>(positions[token]);
  const int n = n_heads * args.n_pairs;
  for (int idx = blockIdx.y * blockDim.x + threadIdx.x; idx < n; idx += gridDim.y * blockDim.x) {
    const int head = idx / args.n_pairs, i = idx % args.n_pairs;
    rope::rotate(args, row + head * args.head_dim, i, pos);
  }
}

}  // namespace

void launch_rope(const Tensor& x, const Tensor& positions, const RopeTable& table,
                 cudaStream_t stream) {
  backend::expect_type(x, Type::F32, "rope", "x");
  backend::expect_type(positions, Type::I32, "rope", "positions");
  const int64_t n_tokens = x.n_rows();
  backend::expect_rows(positions, n_tokens, 1, "rope", "positions");
  const rope::Args args = rope::make_args(table, x.ne0(), "rope");
  if (n_tokens == 0 || args.n_pairs == 0) return;
  const int n_heads = static_cast<int>(x.ne0() / table.head_dim);
  const dim3 grid(static_cast<unsigned>(n_tokens),
                  static_cast<unsigned>((n_heads * args.n_pairs + kThreads - 1) / kThreads));
  rope_kernel<<<grid, kThreads, 0, stream>>>(static_cast<float*>(x.data), x.row_stride / 4,
                                             static_cast<const int32_t*>(positions.data), n_heads,
                                             args);
  check_last_launch("rope_kernel");
}

}  // namespace ingot::cuda
