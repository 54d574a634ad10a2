// Portable scalar kernels: the reference for the SIMD tables and the fallback on any CPU.
#include <cmath>

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

template <typename K, float (*Load)(const K*, int64_t)>
void qk(int64_t head_dim, const K* k, size_t k_stride, int64_t n_keys, const float* q, int64_t n_g,
        float scale, float* scores, size_t score_stride) {
  for (int64_t j = 0; j < n_keys; ++j) {
    for (int64_t g = 0; g < n_g; ++g) {
      float sum = 0.0f;
      for (int64_t i = 0; i < head_dim; ++i) sum += Load(k + j * k_stride, i) * q[g * head_dim + i];
      scores[g * score_stride + j] = sum * scale;
    }
  }
}

template <typename V, float (*Load)(const V*, int64_t)>
void pv(int64_t head_dim, const V* v, size_t v_stride, int64_t n_keys, const float* p, int64_t n_g,
        size_t p_stride, float* acc) {
  for (int64_t j = 0; j < n_keys; ++j) {
    for (int64_t g = 0; g < n_g; ++g) {
      for (int64_t i = 0; i < head_dim; ++i) {
        acc[g * head_dim + i] += p[g * p_stride + j] * Load(v + j * v_stride, i);
      }
    }
  }
}

float exp_sum(int64_t n, float* x, float shift) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - shift));
  return sum;
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
      .qk_f16 = qk<uint16_t, load_f16>,
      .qk_f32 = qk<float, load>,
      .pv_f16 = pv<uint16_t, load_f16>,
      .pv_f32 = pv<float, load>,
      .exp_sum = exp_sum,
  };
  return k;
}

}  // namespace ingot::backend::cpu
