// copy_blocks: one block per (layer, K or V); it walks the (src, dst) pairs in order with a
// barrier between pairs, so a chain of pairs behaves as the CPU's sequential memmoves. Block ids
// outside the pool are reported through the device error word and skipped.
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

__global__ void copy_blocks_kernel(uint8_t* k_pool, uint8_t* v_pool, const int32_t* pairs,
                                   size_t pair_stride, int64_t n_pairs, int64_t n_blocks,
                                   size_t block_bytes, size_t layer_bytes,
                                   DeviceErrorWord* error) {
  const int64_t layer = blockIdx.x;
  uint8_t* base = (blockIdx.y == 0 ? k_pool : v_pool) + layer * layer_bytes;
  for (int64_t p = 0; p < n_pairs; ++p) {
    const int32_t src = pairs[p * pair_stride], dst = pairs[p * pair_stride + 1];
    if (src < 0 || src >= n_blocks || dst < 0 || dst >= n_blocks) {
      if (threadIdx.x == 0) {
        report_error(error, kDeviceErrorCopyBlock, (src < 0 || src >= n_blocks) ? src : dst,
                     static_cast<int32_t>(n_blocks));
      }
      continue;
    }
    const uint8_t* from = base + static_cast<size_t>(src) * block_bytes;
    uint8_t* to = base + static_cast<size_t>(dst) * block_bytes;
    if (block_bytes % 16 == 0) {
      for (size_t i = threadIdx.x; i < block_bytes / 16; i += blockDim.x) {
        reinterpret_cast<uint4*>(to)[i] = reinterpret_cast<const uint4*>(from)[i];
      }
    } else {
      for (size_t i = threadIdx.x; i < block_bytes; i += blockDim.x) to[i] = from[i];
    }
    __syncthreads();
  }
}

}  // namespace

void launch_copy_blocks(const KvPool& pool, const Tensor& pairs, DeviceErrorWord* error,
                        cudaStream_t stream) {
  backend::expect_type(pairs, Type::I32, "copy_blocks", "pairs");
  if (pairs.ne0() != 2) fail_argument("copy_blocks", "pairs rows must be (src, dst)");
  const backend::KvPoolShape& s = pool.shape;
  if (pool.k.row_stride != pool.v.row_stride) fail_argument("copy_blocks", "K and V layouts differ");
  if (pairs.n_rows() == 0 || s.n_layers == 0) return;
  const size_t block_bytes = static_cast<size_t>(s.block_size * s.n_kv_heads) * pool.k.row_stride;
  const size_t layer_bytes = block_bytes * static_cast<size_t>(s.n_blocks);
  const dim3 grid(static_cast<unsigned>(s.n_layers), 2);
  copy_blocks_kernel<<<grid, 256, 0, stream>>>(
      static_cast<uint8_t*>(pool.k.data), static_cast<uint8_t*>(pool.v.data),
      static_cast<const int32_t*>(pairs.data), pairs.row_stride / 4, pairs.n_rows(), s.n_blocks,
      block_bytes, layer_bytes, error);
  check_last_launch("copy_blocks_kernel");
}

}  // namespace ingot::cuda
