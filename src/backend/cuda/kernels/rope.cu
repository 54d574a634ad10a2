// rope: blocks over (token, 128 (head, pair)s), one rotation per thread, so one decode token's
// 2-4k double-precision sincos spread over many SMs. The frequency table travels by value in
// the launch arguments (n_rot/2 <= 256 floats), so nothing is uploaded or allocated per call.
// Angles, cos and sin are computed in double as on the CPU, and the rotation uses unfused
// multiplies, so results match the CPU to the last bit in nearly every element.
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

constexpr int kMaxPairs = 256;
constexpr int kThreads = 128;

struct RopeArgs {
  float inv_freq[kMaxPairs];
  float magnitude;
  int n_pairs;
  int head_dim;
  int n_heads;
  bool neox;
};

__global__ void rope_kernel(float* x, size_t x_stride, const int32_t* positions,
                            const RopeArgs args) {
  const int64_t token = blockIdx.x;
  float* row = x + token * x_stride;
  const double pos = static_cast<double>(positions[token]);
  const int n = args.n_heads * args.n_pairs;
  for (int idx = blockIdx.y * blockDim.x + threadIdx.x; idx < n; idx += gridDim.y * blockDim.x) {
    const int head = idx / args.n_pairs, i = idx % args.n_pairs;
    const double theta = pos * static_cast<double>(args.inv_freq[i]);
    double s, c;
    sincos(theta, &s, &c);
    const float cs = static_cast<float>(c * static_cast<double>(args.magnitude));
    const float sn = static_cast<float>(s * static_cast<double>(args.magnitude));
    float* v = row + head * args.head_dim;
    float* a = args.neox ? v + i : v + 2 * i;
    float* b = args.neox ? v + i + args.n_pairs : v + 2 * i + 1;
    const float x0 = *a, x1 = *b;
    *a = __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn));
    *b = __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs));
  }
}

}  // namespace

void launch_rope(const Tensor& x, const Tensor& positions, const RopeTable& table,
                 cudaStream_t stream) {
  backend::expect_type(x, Type::F32, "rope", "x");
  backend::expect_type(positions, Type::I32, "rope", "positions");
  const int64_t n_tokens = x.n_rows();
  backend::expect_rows(positions, n_tokens, 1, "rope", "positions");
  const int64_t n_pairs = static_cast<int64_t>(table.inv_freq.size());
  if (table.head_dim <= 0 || x.ne0() % table.head_dim != 0 || n_pairs * 2 != table.n_rot ||
      table.n_rot > table.head_dim) {
    fail_argument("rope", "row of " + std::to_string(x.ne0()) + " is not whole heads of " +
                              std::to_string(table.head_dim) + " with " +
                              std::to_string(table.n_rot) + " rotated dims");
  }
  if (n_pairs > kMaxPairs) {
    fail_unsupported("rope", std::to_string(table.n_rot) + " rotated dims (at most " +
                                 std::to_string(2 * kMaxPairs) + ")");
  }
  if (n_tokens == 0 || n_pairs == 0) return;
  RopeArgs args{};
  for (int64_t i = 0; i < n_pairs; ++i) args.inv_freq[i] = table.inv_freq[static_cast<size_t>(i)];
  args.magnitude = table.magnitude;
  args.n_pairs = static_cast<int>(n_pairs);
  args.head_dim = static_cast<int>(table.head_dim);
  args.n_heads = static_cast<int>(x.ne0() / table.head_dim);
  args.neox = table.layout == backend::RopeLayout::neox;
  const dim3 grid(static_cast<unsigned>(n_tokens),
                  static_cast<unsigned>((args.n_heads * args.n_pairs + kThreads - 1) / kThreads));
  rope_kernel<<<grid, kThreads, 0, stream>>>(
      static_cast<float*>(x.data), x.row_stride / 4, static_cast<const int32_t*>(positions.data),
      args);
  check_last_launch("rope_kernel");
}

}  // namespace ingot::cuda
