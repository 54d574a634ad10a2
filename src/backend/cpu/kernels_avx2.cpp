// AVX2 + FMA + F16C kernels (x86-64 only), compiled with per-function target attributes so the
// rest of the build stays baseline x86-64; selected at runtime by kernels_for(Isa::avx2).
#include "backend/cpu/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "core/half.h"

#define INGOT_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace ingot::backend::cpu {
namespace {

struct LoadF32 {
  using W = float;
  INGOT_AVX2 static inline __m256 load(const float* p) { return _mm256_loadu_ps(p); }
  static inline float scalar(const float* p) { return *p; }
};
struct LoadF16 {
  using W = uint16_t;
  INGOT_AVX2 static inline __m256 load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static inline float scalar(const uint16_t* p) { return f16_to_f32(*p); }
};
struct LoadBF16 {
  using W = uint16_t;
  INGOT_AVX2 static inline __m256 load(const uint16_t* p) {
    const __m256i wide =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static inline float scalar(const uint16_t* p) { return bf16_to_f32(*p); }
};

INGOT_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <typename L>
INGOT_AVX2 float dot(int64_t n, const typename L::W* a, const float* b) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(L::load(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(L::load(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(L::load(a + i), _mm256_loadu_ps(b + i), acc0);
  float sum = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += L::scalar(a + i) * b[i];
  return sum;
}

template <typename L, int R, int T>
INGOT_AVX2 void tile_fixed(int64_t k, const typename L::W* w, size_t w_stride, const float* x,
                           size_t x_stride, float* out, size_t out_stride) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x + t * x_stride + i);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = L::load(w + r * w_stride + i);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      float sum = hsum(acc[r][t]);
      for (int64_t j = i; j < k; ++j) sum += L::scalar(w + r * w_stride + j) * x[t * x_stride + j];
      out[t * out_stride + r] = sum;
    }
  }
}

template <typename L, int R>
INGOT_AVX2 void tile_rows(int64_t k, const typename L::W* w, size_t ws, const float* x, size_t xs,
                          int n_x, float* out, size_t os) {
  switch (n_x) {
    case 1: tile_fixed<L, R, 1>(k, w, ws, x, xs, out, os); break;
    case 2: tile_fixed<L, R, 2>(k, w, ws, x, xs, out, os); break;
    default: tile_fixed<L, R, 3>(k, w, ws, x, xs, out, os); break;
  }
}

template <typename L>
INGOT_AVX2 void tile(int64_t k, const typename L::W* w, size_t ws, int n_w, const float* x,
                     size_t xs, int n_x, float* out, size_t os) {
  static_assert(kTileRows == 4 && kTileTokens == 3);
  switch (n_w) {
    case 1: tile_rows<L, 1>(k, w, ws, x, xs, n_x, out, os); break;
    case 2: tile_rows<L, 2>(k, w, ws, x, xs, n_x, out, os); break;
    case 3: tile_rows<L, 3>(k, w, ws, x, xs, n_x, out, os); break;
    default: tile_rows<L, 4>(k, w, ws, x, xs, n_x, out, os); break;
  }
}

INGOT_AVX2 void axpy_f32(int64_t n, float a, const float* v, float* y) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(v + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * v[i];
}

INGOT_AVX2 void axpy_f16(int64_t n, float a, const uint16_t* v, float* y) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, LoadF16::load(v + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * f16_to_f32(v[i]);
}

INGOT_AVX2 void to_f16(int64_t n, const float* in, uint16_t* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = f32_to_f16(in[i]);
}

INGOT_AVX2 void from_f16(int64_t n, const uint16_t* in, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, LoadF16::load(in + i));
  for (; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

}  // namespace

Kernels make_avx2_kernels() {
  return Kernels{
      .isa = Isa::avx2,
      .dot_f32 = dot<LoadF32>,
      .dot_f16 = dot<LoadF16>,
      .tile_f32 = tile<LoadF32>,
      .tile_f16 = tile<LoadF16>,
      .tile_bf16 = tile<LoadBF16>,
      .axpy_f32 = axpy_f32,
      .axpy_f16 = axpy_f16,
      .f32_to_f16 = to_f16,
      .f16_to_f32 = from_f16,
  };
}

}  // namespace ingot::backend::cpu
#endif  // __x86_64__
