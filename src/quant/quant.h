// CPU code for every GGUF block format: dequantize, quantize (bit-exact with llama.cpp's
// reference quantizer), and dot products of a weight row with an activation row quantized to
// 8 bits. Hot loops resolve `ops(type)` once and call through its function pointers; each call
// processes whole rows (n a multiple of the block size), so dispatch costs one indirect call
// per row, not per element.
#pragma once

#include "quant/types.h"

#include <cstdint>
#include <string_view>

namespace ingot::quant {

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of n elements: one weight row (of the weight type) with one activation row
// already in `vec_dot_type`.
using VecDotFn = float (*)(int64_t n, const void* weight_row, const void* activation_row);

struct TypeOps {
  Type type;
  DequantizeRowFn dequantize_row = nullptr;  // present for every computable type
  QuantizeRowFn quantize_row = nullptr;      // absent for the IQ types we only read
  Type vec_dot_type = Type::F32;             // the activation format vec_dot expects
  VecDotFn vec_dot = nullptr;                // absent where the CPU matmul dequantizes instead
};

// Ops of a type; throws Error(unsupported) naming the type when we cannot compute with it.
// The function pointers are the fastest this CPU runs (AVX2+FMA where present, chosen once).
const TypeOps& ops(Type type);
bool is_supported(Type type) noexcept;
// The portable scalar ops of a type (the reference the SIMD paths are tested against).
const TypeOps& reference_ops(Type type);
// Which SIMD path `ops` uses: "avx2" or "scalar".
std::string_view simd_path() noexcept;

// Convenience wrappers for tests and tools (they look up ops each call).
void dequantize_row(Type type, const void* src, float* dst, int64_t n);
void quantize_row(Type type, const float* src, void* dst, int64_t n);

}  // namespace ingot::quant
