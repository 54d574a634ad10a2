// NEON kernels (AArch64, where NEON and f16 conversion instructions are baseline). Same shapes
// as the x86 tables; selected by kernels_for(Isa::neon).
#include "backend/cpu/kernels.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

#include "core/half.h"

namespace ingot::backend::cpu {
namespace {

struct LoadF32 {
  using W = float;
  static inline float32x4_t load(const float* p) { return vld1q_f32(p); }
  static inline float scalar(const float* p) { return *p; }
};
struct LoadF16 {
  using W = uint16_t;
  static inline float32x4_t load(const uint16_t* p) {
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
  }
  static inline float scalar(const uint16_t* p) { return f16_to_f32(*p); }
};
struct LoadBF16 {
  using W = uint16_t;
  static inline float32x4_t load(const uint16_t* p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
  }
  static inline float scalar(const uint16_t* p) { return bf16_to_f32(*p); }
};

template <typename L>
float dot(int64_t n, const typename L::W* a, const float* b) {
  float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = vfmaq_f32(acc0, L::load(a + i), vld1q_f32(b + i));
    acc1 = vfmaq_f32(acc1, L::load(a + i + 4), vld1q_f32(b + i + 4));
  }
  for (; i + 4 <= n; i += 4) acc0 = vfmaq_f32(acc0, L::load(a + i), vld1q_f32(b + i));
  float sum = vaddvq_f32(vaddq_f32(acc0, acc1));
  for (; i < n; ++i) sum += L::scalar(a + i) * b[i];
  return sum;
}

template <typename L, int R, int T>
void tile_fixed(int64_t k, const typename L::W* w, size_t w_stride, const float* x, size_t x_stride,
                float* out, size_t out_stride) {
  float32x4_t acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = vdupq_n_f32(0.0f);
  }
  int64_t i = 0;
  for (; i + 4 <= k; i += 4) {
    float32x4_t xv[T];
    for (int t = 0; t < T; ++t) xv[t] = vld1q_f32(x + t * x_stride + i);
    for (int r = 0; r < R; ++r) {
      const float32x4_t wv = L::load(w + r * w_stride + i);
      for (int t = 0; t < T; ++t) acc[r][t] = vfmaq_f32(acc[r][t], wv, xv[t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      float sum = vaddvq_f32(acc[r][t]);
      for (int64_t j = i; j < k; ++j) sum += L::scalar(w + r * w_stride + j) * x[t * x_stride + j];
      out[t * out_stride + r] = sum;
    }
  }
}

template <typename L, int R>
void tile_rows(int64_t k, const typename L::W* w, size_t ws, const float* x, size_t xs, int n_x,
               float* out, size_t os) {
  switch (n_x) {
    case 1: tile_fixed<L, R, 1>(k, w, ws, x, xs, out, os); break;
    case 2: tile_fixed<L, R, 2>(k, w, ws, x, xs, out, os); break;
    default: tile_fixed<L, R, 3>(k, w, ws, x, xs, out, os); break;
  }
}

template <typename L>
void tile(int64_t k, const typename L::W* w, size_t ws, int n_w, const float* x, size_t xs, int n_x,
          float* out, size_t os) {
  switch (n_w) {
    case 1: tile_rows<L, 1>(k, w, ws, x, xs, n_x, out, os); break;
    case 2: tile_rows<L, 2>(k, w, ws, x, xs, n_x, out, os); break;
    case 3: tile_rows<L, 3>(k, w, ws, x, xs, n_x, out, os); break;
    default: tile_rows<L, 4>(k, w, ws, x, xs, n_x, out, os); break;
  }
}

void axpy_f32(int64_t n, float a, const float* v, float* y) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(v + i), a));
  for (; i < n; ++i) y[i] += a * v[i];
}

void axpy_f16(int64_t n, float a, const uint16_t* v, float* y) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), LoadF16::load(v + i), a));
  for (; i < n; ++i) y[i] += a * f16_to_f32(v[i]);
}

void to_f16(int64_t n, const float* in, uint16_t* out) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    vst1_u16(out + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(in + i))));
  for (; i < n; ++i) out[i] = f32_to_f16(in[i]);
}

void from_f16(int64_t n, const uint16_t* in, float* out) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, LoadF16::load(in + i));
  for (; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

}  // namespace

Kernels make_neon_kernels() {
  return Kernels{
      .isa = Isa::neon,
      .dot_f32 = dot<LoadF32>,
      .dot_f16 = dot<LoadF16>,
      .tile_f32 = tile<LoadF32>,
      .tile_f16 = tile<LoadF16>,
      .tile_bf16 = tile<LoadBF16>,
      .axpy_f32 = axpy_f32,
      .axpy_f16 = axpy_f16,
      .f32_to_f16 = to_f16,
      .f16_to_f32 = from_f16,
      // Attention inner loops: the scalar ones (NEON versions not written yet).
      .qk_f16 = scalar_kernels().qk_f16,
      .qk_f32 = scalar_kernels().qk_f32,
      .pv_f16 = scalar_kernels().pv_f16,
      .pv_f32 = scalar_kernels().pv_f32,
      .exp_sum = scalar_kernels().exp_sum,
  };
}

}  // namespace ingot::backend::cpu
#endif  // __aarch64__ && __ARM_NEON
