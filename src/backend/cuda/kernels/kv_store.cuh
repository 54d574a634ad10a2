// Storing into the paged K/V pool (write_kv.cu, rope_write_kv.cu): f32 copied, or rounded to
// f16 with round-to-nearest-even like the CPU's F16C path, at pool row slot_row0 + head; reading a
// value back (attention_reference.cu); and the host-side checks both store launchers share.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <string>

#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda::kv {

template <typename T>
__device__ inline T from_float(float v);
template <>
__device__ inline float from_float<float>(float v) { return v; }
template <>
__device__ inline __half from_float<__half>(float v) { return __float2half_rn(v); }

// A pool value back to f32 (exact for both pool types).
template <typename T>
__device__ inline float to_float(T v);
template <>
__device__ inline float to_float<float>(float v) { return v; }
template <>
__device__ inline float to_float<__half>(__half v) { return __half2float(v); }

// First pool row of `slot` in the layer starting at pool row `layer_row0`.
__device__ inline int64_t slot_row0(int64_t layer_row0, int32_t slot, int n_kv_heads) {
  return layer_row0 + static_cast<int64_t>(slot) * n_kv_heads;
}

// Checks write_kv's arguments (`op` names the caller in errors); the pool's geometry for the
// kernels.
struct Target {
  int64_t n_tokens;
  int64_t n_slots;
  int64_t layer_row0;
  int n_kv_heads;
  int head_dim;
  size_t pool_stride;  // elements between pool rows
};

inline Target check_write(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                          const Tensor& slot_mapping, const char* op) {
  const backend::KvPoolShape& s = pool.shape;
  if (layer < 0 || layer >= s.n_layers) {
    fail_argument(op, "layer " + std::to_string(layer) + " of " + std::to_string(s.n_layers));
  }
  const int64_t width = s.n_kv_heads * s.head_dim;
  const int64_t n_tokens = k.n_rows();
  backend::expect_type(k, quant::Type::F32, op, "k");
  backend::expect_type(v, quant::Type::F32, op, "v");
  backend::expect_rows(k, width, n_tokens, op, "k");
  backend::expect_rows(v, width, n_tokens, op, "v");
  backend::expect_type(slot_mapping, quant::Type::I32, op, "slot_mapping");
  backend::expect_rows(slot_mapping, n_tokens, 1, op, "slot_mapping");
  if (pool.k.type != s.type || pool.v.type != s.type || pool.k.row_stride != pool.v.row_stride) {
    fail_argument(op, "pool tensors do not match the pool shape");
  }
  if (s.type != quant::Type::F16 && s.type != quant::Type::F32) {
    fail_unsupported(op, "KV pool type " + std::string(quant::name(s.type)));
  }
  return {n_tokens,
          s.n_slots(),
          layer * s.n_slots() * s.n_kv_heads,
          static_cast<int>(s.n_kv_heads),
          static_cast<int>(s.head_dim),
          pool.k.row_stride / (s.type == quant::Type::F16 ? 2 : 4)};
}

}  // namespace ingot::cuda::kv
