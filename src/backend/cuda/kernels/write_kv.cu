// write_kv: one block per new token, threads over its n_kv_heads * head_dim values, stored at
// the token's slot of `layer` in the K and V pools (f32 copied, or rounded to f16 with
// round-to-nearest-even like the CPU's F16C path). A negative slot skips the token; a slot past
// the pool is reported through the device error word and skipped.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/kv_store.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

template <typename T>
__global__ void write_kv_kernel(const float* k, size_t k_stride, const float* v, size_t v_stride,
                                const int32_t* slots, int64_t n_slots, int64_t layer_row0,
                                int n_kv_heads, int head_dim, T* k_pool, T* v_pool,
                                size_t pool_stride, DeviceErrorWord* error) {
  const int64_t token = blockIdx.x;
  const int32_t slot = slots[token];
  if (slot < 0) return;
  if (slot >= n_slots) {
    if (threadIdx.x == 0) report_error(error, kDeviceErrorKvSlot, slot, static_cast<int32_t>(n_slots));
    return;
  }
  const int64_t row0 = kv::slot_row0(layer_row0, slot, n_kv_heads);
  const int width = n_kv_heads * head_dim;
  for (int i = threadIdx.x; i < width; i += blockDim.x) {
    const size_t dst = static_cast<size_t>(row0 + i / head_dim) * pool_stride + i % head_dim;
    k_pool[dst] = kv::from_float<T>(k[token * k_stride + i]);
    v_pool[dst] = kv::from_float<T>(v[token * v_stride + i]);
  }
}

}  // namespace

void launch_write_kv(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                     const Tensor& slot_mapping, DeviceErrorWord* error, cudaStream_t stream) {
  const kv::Target t = kv::check_write(pool, layer, k, v, slot_mapping, "write_kv");
  if (t.n_tokens == 0) return;
  const auto* slots = static_cast<const int32_t*>(slot_mapping.data);
  const auto* kp = static_cast<const float*>(k.data);
  const auto* vp = static_cast<const float*>(v.data);
  const unsigned grid = static_cast<unsigned>(t.n_tokens);
  if (pool.shape.type == Type::F16) {
    write_kv_kernel<__half><<<grid, 256, 0, stream>>>(
        kp, k.row_stride / 4, vp, v.row_stride / 4, slots, t.n_slots, t.layer_row0, t.n_kv_heads,
        t.head_dim, static_cast<__half*>(pool.k.data), static_cast<__half*>(pool.v.data),
        t.pool_stride, error);
  } else {
    write_kv_kernel<float><<<grid, 256, 0, stream>>>(
        kp, k.row_stride / 4, vp, v.row_stride / 4, slots, t.n_slots, t.layer_row0, t.n_kv_heads,
        t.head_dim, static_cast<float*>(pool.k.data), static_cast<float*>(pool.v.data),
        t.pool_stride, error);
  }
  check_last_launch("write_kv_kernel");
}

}  // namespace ingot::cuda
