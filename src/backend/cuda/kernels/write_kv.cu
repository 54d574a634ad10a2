// write_kv: one block per new token, threads over its n_kv_heads * head_dim values, stored at
// the token's slot of `layer` in the K and V pools (f32 copied, or rounded to f16 with
// round-to-nearest-even like the CPU's F16C path). A negative slot skips the token; a slot past
// the pool is reported through the device error word and skipped.
#include <cuda_fp16.h>

#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

template <typename T>
__device__ inline T from_float(float v);
template <>
__device__ inline float from_float<float>(float v) { return v; }
template <>
__device__ inline __half from_float<__half>(float v) { return __float2half_rn(v); }

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
  const int64_t row0 = layer_row0 + static_cast<int64_t>(slot) * n_kv_heads;
  const int width = n_kv_heads * head_dim;
  for (int i = threadIdx.x; i < width; i += blockDim.x) {
    const size_t dst = static_cast<size_t>(row0 + i / head_dim) * pool_stride + i % head_dim;
    k_pool[dst] = from_float<T>(k[token * k_stride + i]);
    v_pool[dst] = from_float<T>(v[token * v_stride + i]);
  }
}

}  // namespace

void launch_write_kv(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                     const Tensor& slot_mapping, DeviceErrorWord* error, cudaStream_t stream) {
  const backend::KvPoolShape& s = pool.shape;
  if (layer < 0 || layer >= s.n_layers) {
    fail_argument("write_kv", "layer " + std::to_string(layer) + " of " + std::to_string(s.n_layers));
  }
  const int64_t width = s.n_kv_heads * s.head_dim;
  const int64_t n_tokens = k.n_rows();
  backend::expect_type(k, Type::F32, "write_kv", "k");
  backend::expect_type(v, Type::F32, "write_kv", "v");
  backend::expect_rows(k, width, n_tokens, "write_kv", "k");
  backend::expect_rows(v, width, n_tokens, "write_kv", "v");
  backend::expect_type(slot_mapping, Type::I32, "write_kv", "slot_mapping");
  backend::expect_rows(slot_mapping, n_tokens, 1, "write_kv", "slot_mapping");
  if (pool.k.type != s.type || pool.v.type != s.type || pool.k.row_stride != pool.v.row_stride) {
    fail_argument("write_kv", "pool tensors do not match the pool shape");
  }
  if (n_tokens == 0) return;
  const int64_t layer_row0 = layer * s.n_slots() * s.n_kv_heads;
  const auto* slots = static_cast<const int32_t*>(slot_mapping.data);
  const auto* kp = static_cast<const float*>(k.data);
  const auto* vp = static_cast<const float*>(v.data);
  const unsigned grid = static_cast<unsigned>(n_tokens);
  if (s.type == Type::F16) {
    write_kv_kernel<__half><<<grid, 256, 0, stream>>>(
        kp, k.row_stride / 4, vp, v.row_stride / 4, slots, s.n_slots(), layer_row0,
        static_cast<int>(s.n_kv_heads), static_cast<int>(s.head_dim),
        static_cast<__half*>(pool.k.data), static_cast<__half*>(pool.v.data),
        pool.k.row_stride / 2, error);
  } else if (s.type == Type::F32) {
    write_kv_kernel<float><<<grid, 256, 0, stream>>>(
        kp, k.row_stride / 4, vp, v.row_stride / 4, slots, s.n_slots(), layer_row0,
        static_cast<int>(s.n_kv_heads), static_cast<int>(s.head_dim),
        static_cast<float*>(pool.k.data), static_cast<float*>(pool.v.data),
        pool.k.row_stride / 4, error);
  } else {
    fail_unsupported("write_kv", "KV pool type " + std::string(quant::name(s.type)));
  }
  check_last_launch("write_kv_kernel");
}

}  // namespace ingot::cuda
