// The CPU inner loops, one table per instruction set: scalar (every machine, and the reference
// the SIMD tables are tested against), AVX2+FMA+F16C, AVX-512 (F/BW/VL), NEON. The table is
// chosen once at runtime (`best_kernels`) from what the CPU supports; nothing is compiled with
// -march=native. Weight rows are F32, F16 or BF16 (converted exactly to f32 in registers);
// activations and accumulators are f32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "backend/cpu/quant_tiles.h"

namespace ingot::backend::cpu {

enum class Isa { scalar, avx2, avx512, neon };
std::string_view isa_name(Isa isa);

// A matmul tile: out[t * out_stride + r] = dot(w row r, x row t) for r < n_w <= kTileRows and
// t < n_x <= kTileTokens; strides in elements.
inline constexpr int kTileRows = 4;
inline constexpr int kTileTokens = 3;
template <typename W>
using TileFn = void (*)(int64_t k, const W* w, size_t w_stride, int n_w, const float* x,
                        size_t x_stride, int n_x, float* out, size_t out_stride);

template <typename K>
using QkFn = void (*)(int64_t head_dim, const K* k, size_t k_stride, int64_t n_keys, const float* q,
                      int64_t n_g, float scale, float* scores, size_t score_stride);
template <typename V>
using PvFn = void (*)(int64_t head_dim, const V* v, size_t v_stride, int64_t n_keys, const float* p,
                      int64_t n_g, size_t p_stride, float* acc);

struct Kernels {
  Isa isa = Isa::scalar;
  float (*dot_f32)(int64_t n, const float* a, const float* b) = nullptr;
  float (*dot_f16)(int64_t n, const uint16_t* a, const float* b) = nullptr;
  TileFn<float> tile_f32 = nullptr;
  TileFn<uint16_t> tile_f16 = nullptr;   // F16 weights
  TileFn<uint16_t> tile_bf16 = nullptr;  // BF16 weights
  // y[i] += a * v[i]
  void (*axpy_f32)(int64_t n, float a, const float* v, float* y) = nullptr;
  void (*axpy_f16)(int64_t n, float a, const uint16_t* v, float* y) = nullptr;
  void (*f32_to_f16)(int64_t n, const float* in, uint16_t* out) = nullptr;
  void (*f16_to_f32)(int64_t n, const uint16_t* in, float* out) = nullptr;
  // Attention over one block of keys for n_g query heads sharing a kv head (q: n_g rows of
  // head_dim floats, contiguous; K/V rows k_stride elements apart):
  //   qk: scores[g * score_stride + j] = scale * dot(q_g, k_j)
  //   pv: acc[g * head_dim + i] += sum_j p[g * p_stride + j] * v_j[i]
  QkFn<uint16_t> qk_f16 = nullptr;
  QkFn<float> qk_f32 = nullptr;
  PvFn<uint16_t> pv_f16 = nullptr;
  PvFn<float> pv_f32 = nullptr;
  // x[i] = exp(x[i] - shift) for i < n; returns the sum (the softmax numerator and denominator).
  float (*exp_sum)(int64_t n, float* x, float shift) = nullptr;
  // The tiled integer matmul of a quantized weight type (quant_tiles.h), or nullptr for types
  // without one (the matmul then calls quant's vec_dot per row and token).
  QuantTileFn (*quant_tile)(quant::Type weight_type) = nullptr;
};

const Kernels& scalar_kernels();
// The table for `isa`, or nullopt when this CPU (or this build's target) lacks it.
std::optional<Kernels> kernels_for(Isa isa);
// The fastest table this CPU supports (resolved once).
const Kernels& best_kernels();

// Per-ISA tables (defined only where the compiler targets that architecture).
Kernels make_avx2_kernels();
Kernels make_avx512_kernels();
Kernels make_neon_kernels();

}  // namespace ingot::backend::cpu
