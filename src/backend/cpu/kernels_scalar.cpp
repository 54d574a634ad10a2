// Portable scalar kernels: the reference for the SIMD tables and the fallback on any CPU.
#include "backend/cpu/kernels.h"
#include "core/half.h"

namespace ingot::backend::cpu {
namespace {

inline float load(const float* p, int64_t i) { return p[i]; }
inline float load_f16(const uint16_t* p, int64_t i) { return f16_to_f32(p[i]); }
inline float load_bf16(const uint16_t* p, int64_t i) { return bf16_to_f32(p[i]); }

float dot_f32(int64_t n, const float* a, const float* b) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float dot_f16(int64_t n, const uint16_t* a, const float* b) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += f16_to_f32(a[i]) * b[i];
  return sum;
}

template <typename W, float (*Load)(const W*, int64_t)>
void tile(int64_t k, const W* w, size_t w_stride, int n_w, const float* x, size_t x_stride, int n_x,
          float* out, size_t out_stride) {
  for (int t = 0; t < n_x; ++t) {
    for (int r = 0; r < n_w; ++r) {
      const W* wr = w + r * w_stride;
      const float* xt = x + t * x_stride;
      float sum = 0.0f;
      for (int64_t i = 0; i < k; ++i) sum += Load(wr, i) * xt[i];
      out[t * out_stride + r] = sum;
    }
  }
}

void axpy_f32(int64_t n, float a, const float* v, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * v[i];
}
void axpy_f16(int64_t n, float a, const uint16_t* v, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * f16_to_f32(v[i]);
}
void to_f16(int64_t n, const float* in, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_f16(in[i]);
}
void from_f16(int64_t n, const uint16_t* in, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

}  // namespace

const Kernels& scalar_kernels() {
  static const Kernels k{
      .isa = Isa::scalar,
      .dot_f32 = dot_f32,
      .dot_f16 = dot_f16,
      .tile_f32 = tile<float, load>,
      .tile_f16 = tile<uint16_t, load_f16>,
      .tile_bf16 = tile<uint16_t, load_bf16>,
      .axpy_f32 = axpy_f32,
      .axpy_f16 = axpy_f16,
      .f32_to_f16 = to_f16,
      .f16_to_f32 = from_f16,
  };
  return k;
}

}  // namespace ingot::backend::cpu
