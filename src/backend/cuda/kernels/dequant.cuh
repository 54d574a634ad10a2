// Device dequantization of every weight type the CUDA backend computes with, one struct per
// type: load8(row, i0, out) writes the 8 floats of elements [i0, i0 + 8) of a row (i0 a multiple
// of 8), load1(row, i) one element (plain float types only, for rows not a multiple of 8). The
// arithmetic and its rounding order are those of src/quant/dequantize*.cpp (explicit _rn
// intrinsics stop nvcc from contracting into FMAs), so values equal the CPU's bit for bit.
// dispatch_weight_type maps a runtime type to the template once per launch and throws for the
// rest.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "backend/cuda/launch_check.h"
#include "quant/types.h"

namespace ingot::cuda {

using quant::Type;

__device__ __forceinline__ float f16_bits(uint16_t b) { return __half2float(__ushort_as_half(b)); }
__device__ __forceinline__ float bf16_bits(uint16_t b) {
  return __uint_as_float(static_cast<uint32_t>(b) << 16);
}
__device__ __forceinline__ uint16_t load_u16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
__device__ __forceinline__ uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

template <Type T>
struct Dequant;

template <>
struct Dequant<Type::F32> {
  static constexpr int kBlockElements = 1;
  __device__ static float load1(const uint8_t* row, int64_t i) {
    return reinterpret_cast<const float*>(row)[i];
  }
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
#pragma unroll
    for (int e = 0; e < 8; ++e) out[e] = load1(row, i0 + e);
  }
};

template <>
struct Dequant<Type::F16> {
  static constexpr int kBlockElements = 1;
  __device__ static float load1(const uint8_t* row, int64_t i) {
    return f16_bits(reinterpret_cast<const uint16_t*>(row)[i]);
  }
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
#pragma unroll
    for (int e = 0; e < 8; ++e) out[e] = load1(row, i0 + e);
  }
};

template <>
struct Dequant<Type::BF16> {
  static constexpr int kBlockElements = 1;
  __device__ static float load1(const uint8_t* row, int64_t i) {
    return bf16_bits(reinterpret_cast<const uint16_t*>(row)[i]);
  }
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
#pragma unroll
    for (int e = 0; e < 8; ++e) out[e] = load1(row, i0 + e);
  }
};

// x = d * (q - 8); element j < 16 in the low nibble of qs[j], j >= 16 in the high nibble.
template <>
struct Dequant<Type::Q4_0> {
  static constexpr int kBlockElements = 32;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 32) * 18;
    const int j0 = static_cast<int>(i0 % 32);
    const float d = f16_bits(load_u16(block));
    const uint8_t* qs = block + 2 + (j0 % 16);
    const int shift = j0 < 16 ? 0 : 4;
#pragma unroll
    for (int e = 0; e < 8; ++e) out[e] = __fmul_rn(static_cast<float>(((qs[e] >> shift) & 0xf) - 8), d);
  }
};

// x = d * q + m.
template <>
struct Dequant<Type::Q4_1> {
  static constexpr int kBlockElements = 32;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 32) * 20;
    const int j0 = static_cast<int>(i0 % 32);
    const float d = f16_bits(load_u16(block));
    const float m = f16_bits(load_u16(block + 2));
    const uint8_t* qs = block + 4 + (j0 % 16);
    const int shift = j0 < 16 ? 0 : 4;
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      out[e] = __fadd_rn(__fmul_rn(static_cast<float>((qs[e] >> shift) & 0xf), d), m);
    }
  }
};

// x = d * (q - 16); bit 4 of element j is bit j of qh.
template <>
struct Dequant<Type::Q5_0> {
  static constexpr int kBlockElements = 32;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 32) * 22;
    const int j0 = static_cast<int>(i0 % 32);
    const float d = f16_bits(load_u16(block));
    const uint32_t qh = load_u32(block + 2);
    const uint8_t* qs = block + 6 + (j0 % 16);
    const int shift = j0 < 16 ? 0 : 4;
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const int q = ((qs[e] >> shift) & 0xf) | static_cast<int>(((qh >> (j0 + e)) & 1u) << 4);
      out[e] = __fmul_rn(static_cast<float>(q - 16), d);
    }
  }
};

// x = d * q + m, q 5 bits.
template <>
struct Dequant<Type::Q5_1> {
  static constexpr int kBlockElements = 32;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 32) * 24;
    const int j0 = static_cast<int>(i0 % 32);
    const float d = f16_bits(load_u16(block));
    const float m = f16_bits(load_u16(block + 2));
    const uint32_t qh = load_u32(block + 4);
    const uint8_t* qs = block + 8 + (j0 % 16);
    const int shift = j0 < 16 ? 0 : 4;
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const int q = ((qs[e] >> shift) & 0xf) | static_cast<int>(((qh >> (j0 + e)) & 1u) << 4);
      out[e] = __fadd_rn(__fmul_rn(static_cast<float>(q), d), m);
    }
  }
};

// x = d * q.
template <>
struct Dequant<Type::Q8_0> {
  static constexpr int kBlockElements = 32;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 32) * 34;
    const float d = f16_bits(load_u16(block));
    const auto* qs = reinterpret_cast<const int8_t*>(block + 2 + i0 % 32);
#pragma unroll
    for (int e = 0; e < 8; ++e) out[e] = __fmul_rn(static_cast<float>(qs[e]), d);
  }
};

// The six-bit scale and min of sub-block j of a Q4_K/Q5_K block (blocks.h scale_min_k4).
__device__ __forceinline__ void scale_min_k4(int j, const uint8_t* q, int& scale, int& min) {
  if (j < 4) {
    scale = q[j] & 63;
    min = q[j + 4] & 63;
  } else {
    scale = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
    min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// 8 sub-blocks of 32: x = (d * scale) * q - dmin * min.
template <>
struct Dequant<Type::Q4_K> {
  static constexpr int kBlockElements = 256;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 256) * 144;
    const int j = static_cast<int>(i0 % 256), sub = j / 32, l0 = j % 32;
    const float d = f16_bits(load_u16(block));
    const float dmin = f16_bits(load_u16(block + 2));
    int sc, m;
    scale_min_k4(sub, block + 4, sc, m);
    const float dl = __fmul_rn(d, static_cast<float>(sc));
    const float ml = __fmul_rn(dmin, static_cast<float>(m));
    const uint8_t* q = block + 16 + 32 * (sub / 2) + l0;
    const int shift = 4 * (sub % 2);
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      out[e] = __fsub_rn(__fmul_rn(dl, static_cast<float>((q[e] >> shift) & 0xf)), ml);
    }
  }
};

// As Q4_K with a fifth bit per element (bit `sub` of qh[l]).
template <>
struct Dequant<Type::Q5_K> {
  static constexpr int kBlockElements = 256;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 256) * 176;
    const int j = static_cast<int>(i0 % 256), sub = j / 32, l0 = j % 32;
    const float d = f16_bits(load_u16(block));
    const float dmin = f16_bits(load_u16(block + 2));
    int sc, m;
    scale_min_k4(sub, block + 4, sc, m);
    const float dl = __fmul_rn(d, static_cast<float>(sc));
    const float ml = __fmul_rn(dmin, static_cast<float>(m));
    const uint8_t* qh = block + 16 + l0;
    const uint8_t* q = block + 48 + 32 * (sub / 2) + l0;
    const int shift = 4 * (sub % 2);
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const int value = ((q[e] >> shift) & 0xf) + (((qh[e] >> sub) & 1) ? 16 : 0);
      out[e] = __fsub_rn(__fmul_rn(dl, static_cast<float>(value)), ml);
    }
  }
};

// 16 sub-blocks of 16: x = (d * scale) * (q - 32), q = 4 bits of ql | 2 bits of qh.
template <>
struct Dequant<Type::Q6_K> {
  static constexpr int kBlockElements = 256;
  __device__ static void load8(const uint8_t* row, int64_t i0, float* out) {
    const uint8_t* block = row + (i0 / 256) * 210;
    const int j = static_cast<int>(i0 % 256);
    const int half = j / 128, k = (j % 128) / 32, l0 = j % 32;
    const float d = f16_bits(load_u16(block + 208));
    const float dl = __fmul_rn(d, static_cast<float>(reinterpret_cast<const int8_t*>(block + 192)[j / 16]));
    const uint8_t* ql = block + 64 * half + 32 * (k % 2) + l0;
    const uint8_t* qh = block + 128 + 32 * half + l0;
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      const int low = k < 2 ? ql[e] & 0xf : ql[e] >> 4;
      const int high = (qh[e] >> (2 * k)) & 3;
      out[e] = __fmul_rn(dl, static_cast<float>((low | (high << 4)) - 32));
    }
  }
};

// Every weight type the CUDA backend computes with, in id order.
inline constexpr Type kCudaWeightTypes[] = {Type::F32,  Type::F16,  Type::Q4_0, Type::Q4_1,
                                            Type::Q5_0, Type::Q5_1, Type::Q8_0, Type::Q4_K,
                                            Type::Q5_K, Type::Q6_K, Type::BF16};

// Calls f(std::integral_constant<Type, T>{}) for the runtime type t; throws Error(unsupported)
// naming `op` for a type with no device dequantizer.
template <typename F>
void dispatch_weight_type(Type t, const char* op, F&& f) {
  switch (t) {
    case Type::F32: f(std::integral_constant<Type, Type::F32>{}); return;
    case Type::F16: f(std::integral_constant<Type, Type::F16>{}); return;
    case Type::BF16: f(std::integral_constant<Type, Type::BF16>{}); return;
    case Type::Q4_0: f(std::integral_constant<Type, Type::Q4_0>{}); return;
    case Type::Q4_1: f(std::integral_constant<Type, Type::Q4_1>{}); return;
    case Type::Q5_0: f(std::integral_constant<Type, Type::Q5_0>{}); return;
    case Type::Q5_1: f(std::integral_constant<Type, Type::Q5_1>{}); return;
    case Type::Q8_0: f(std::integral_constant<Type, Type::Q8_0>{}); return;
    case Type::Q4_K: f(std::integral_constant<Type, Type::Q4_K>{}); return;
    case Type::Q5_K: f(std::integral_constant<Type, Type::Q5_K>{}); return;
    case Type::Q6_K: f(std::integral_constant<Type, Type::Q6_K>{}); return;
    default:
      fail_unsupported(op, "the CUDA backend cannot compute with " + std::string(quant::name(t)) +
                               " weights");
  }
}

}  // namespace ingot::cuda
