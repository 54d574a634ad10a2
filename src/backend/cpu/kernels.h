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
