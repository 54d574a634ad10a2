// AVX-512 (F, BW, VL) kernels (x86-64 only), compiled with per-function target attributes so the
// rest of the build stays baseline x86-64; selected at runtime by kernels_for(Isa::avx512).
#include "backend/cpu/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/half.h"

// GCC 12's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_* idiom
// (GCC bug 105593); the warning is about the header, not this code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define INGOT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace ingot::backend::cpu {
namespace {

struct LoadF32 {
  using W = float;
  INGOT_AVX512 static inline __m512 load(const float* p) { return _mm512_loadu_ps(p); }
  static inline float scalar(const float* p) { return *p; }
};
struct LoadF16 {
  using W = uint16_t;
  INGOT_AVX512 static inline __m512 load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static inline float scalar(const uint16_t* p) { return f16_to_f32(*p); }
};
struct LoadBF16 {
  using W = uint16_t;
  INGOT_AVX512 static inline __m512 load(const uint16_t* p) {
    const __m512i wide =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
  static inline float scalar(const uint16_t* p) { return bf16_to_f32(*p); }
};

INGOT_AVX512 inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

template <typename L>
INGOT_AVX512 float dot(int64_t n, const typename L::W* a, const float* b) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(L::load(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(L::load(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(L::load(a + i), _mm512_loadu_ps(b + i), acc0);
  float sum = hsum(_mm512_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += L::scalar(a + i) * b[i];
  return sum;
}

template <typename L, int R, int T>
INGOT_AVX512 void tile_fixed(int64_t k, const typename L::W* w, size_t w_stride, const float* x,
                             size_t x_stride, float* out, size_t out_stride) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x + t * x_stride + i);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = L::load(w + r * w_stride + i);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
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
INGOT_AVX512 void tile_rows(int64_t k, const typename L::W* w, size_t ws, const float* x, size_t xs,
                            int n_x, float* out, size_t os) {
  switch (n_x) {
    case 1: tile_fixed<L, R, 1>(k, w, ws, x, xs, out, os); break;
    case 2: tile_fixed<L, R, 2>(k, w, ws, x, xs, out, os); break;
    default: tile_fixed<L, R, 3>(k, w, ws, x, xs, out, os); break;
  }
}

template <typename L>
INGOT_AVX512 void tile(int64_t k, const typename L::W* w, size_t ws, int n_w, const float* x,
                       size_t xs, int n_x, float* out, size_t os) {
  static_assert(kTileRows == 4 && kTileTokens == 3);
  switch (n_w) {
    case 1: tile_rows<L, 1>(k, w, ws, x, xs, n_x, out, os); break;
    case 2: tile_rows<L, 2>(k, w, ws, x, xs, n_x, out, os); break;
    case 3: tile_rows<L, 3>(k, w, ws, x, xs, n_x, out, os); break;
    default: tile_rows<L, 4>(k, w, ws, x, xs, n_x, out, os); break;
  }
}

INGOT_AVX512 void axpy_f32(int64_t n, float a, const float* v, float* y) {
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(v + i), _mm512_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * v[i];
}

INGOT_AVX512 void axpy_f16(int64_t n, float a, const uint16_t* v, float* y) {
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, LoadF16::load(v + i), _mm512_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * f16_to_f32(v[i]);
}

INGOT_AVX512 void to_f16(int64_t n, const float* in, uint16_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), h);
  }
  for (; i < n; ++i) out[i] = f32_to_f16(in[i]);
}

INGOT_AVX512 void from_f16(int64_t n, const uint16_t* in, float* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, LoadF16::load(in + i));
  for (; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

using VF = __m512;
constexpr int64_t kLanes = 16;
INGOT_AVX512 inline VF vzero() { return _mm512_setzero_ps(); }
INGOT_AVX512 inline VF vload(const float* p) { return _mm512_loadu_ps(p); }
INGOT_AVX512 inline void vstore(float* p, VF v) { _mm512_storeu_ps(p, v); }
INGOT_AVX512 inline VF vset1(float x) { return _mm512_set1_ps(x); }
INGOT_AVX512 inline VF vfma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
INGOT_AVX512 inline VF vmul(VF a, VF b) { return _mm512_mul_ps(a, b); }
INGOT_AVX512 inline VF vadd(VF a, VF b) { return _mm512_add_ps(a, b); }
INGOT_AVX512 inline VF vsub(VF a, VF b) { return _mm512_sub_ps(a, b); }
INGOT_AVX512 inline VF vmin(VF a, VF b) { return _mm512_min_ps(a, b); }
INGOT_AVX512 inline VF vmax(VF a, VF b) { return _mm512_max_ps(a, b); }
INGOT_AVX512 inline VF vround(VF a) {
  return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
INGOT_AVX512 inline VF vpow2(VF n) {  // 2^n for integral n in [-126, 127]
  const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
  return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}

// --- attention inner loops (the same text in the AVX2 and AVX-512 files; helpers differ) ---

template <typename L, int G>
INGOT_AVX512 void qk_group(int64_t d, const typename L::W* k, size_t k_stride, int64_t n_keys,
                           const float* q, float scale, float* scores, size_t score_stride) {
  for (int64_t j = 0; j < n_keys; ++j) {
    const typename L::W* kj = k + j * k_stride;
    VF acc[G];
    for (int g = 0; g < G; ++g) acc[g] = vzero();
    int64_t i = 0;
    for (; i + kLanes <= d; i += kLanes) {
      const VF kv = L::load(kj + i);
      for (int g = 0; g < G; ++g) acc[g] = vfma(kv, vload(q + g * d + i), acc[g]);
    }
    for (int g = 0; g < G; ++g) {
      float sum = hsum(acc[g]);
      for (int64_t t = i; t < d; ++t) sum += L::scalar(kj + t) * q[g * d + t];
      scores[g * score_stride + j] = sum * scale;
    }
  }
}

template <typename L>
INGOT_AVX512 void qk(int64_t d, const typename L::W* k, size_t k_stride, int64_t n_keys,
                     const float* q, int64_t n_g, float scale, float* scores, size_t score_stride) {
  for (int64_t g = 0; g < n_g; g += 4) {
    const float* qg = q + g * d;
    float* sg = scores + g * score_stride;
    switch (std::min<int64_t>(4, n_g - g)) {
      case 1: qk_group<L, 1>(d, k, k_stride, n_keys, qg, scale, sg, score_stride); break;
      case 2: qk_group<L, 2>(d, k, k_stride, n_keys, qg, scale, sg, score_stride); break;
      case 3: qk_group<L, 3>(d, k, k_stride, n_keys, qg, scale, sg, score_stride); break;
      default: qk_group<L, 4>(d, k, k_stride, n_keys, qg, scale, sg, score_stride); break;
    }
  }
}

template <typename L, int G>
INGOT_AVX512 void pv_group(int64_t d, const typename L::W* v, size_t v_stride, int64_t n_keys,
                           const float* p, size_t p_stride, float* acc) {
  int64_t i = 0;
  for (; i + kLanes <= d; i += kLanes) {
    VF a[G];
    for (int g = 0; g < G; ++g) a[g] = vload(acc + g * d + i);
    for (int64_t j = 0; j < n_keys; ++j) {
      const VF vv = L::load(v + j * v_stride + i);
      for (int g = 0; g < G; ++g) a[g] = vfma(vset1(p[g * p_stride + j]), vv, a[g]);
    }
    for (int g = 0; g < G; ++g) vstore(acc + g * d + i, a[g]);
  }
  for (; i < d; ++i) {
    for (int64_t j = 0; j < n_keys; ++j) {
      for (int g = 0; g < G; ++g)
        acc[g * d + i] += p[g * p_stride + j] * L::scalar(v + j * v_stride + i);
    }
  }
}

template <typename L>
INGOT_AVX512 void pv(int64_t d, const typename L::W* v, size_t v_stride, int64_t n_keys,
                     const float* p, int64_t n_g, size_t p_stride, float* acc) {
  for (int64_t g = 0; g < n_g; g += 4) {
    const float* pg = p + g * p_stride;
    float* ag = acc + g * d;
    switch (std::min<int64_t>(4, n_g - g)) {
      case 1: pv_group<L, 1>(d, v, v_stride, n_keys, pg, p_stride, ag); break;
      case 2: pv_group<L, 2>(d, v, v_stride, n_keys, pg, p_stride, ag); break;
      case 3: pv_group<L, 3>(d, v, v_stride, n_keys, pg, p_stride, ag); break;
      default: pv_group<L, 4>(d, v, v_stride, n_keys, pg, p_stride, ag); break;
    }
  }
}

// exp by range reduction: x = n ln2 + r, |r| <= ln2/2; e^r by its degree-6 Taylor polynomial
// (relative error < 2e-7); 2^n built in the exponent bits. Inputs are clamped to [-87, 88].
INGOT_AVX512 inline VF vexp(VF x) {
  x = vmin(vmax(x, vset1(-87.0f)), vset1(88.0f));
  const VF n = vround(vmul(x, vset1(1.44269504088896341f)));
  VF r = vfma(n, vset1(-0.693359375f), x);
  r = vfma(n, vset1(2.12194440e-4f), r);
  VF poly = vset1(1.0f / 720.0f);
  poly = vfma(poly, r, vset1(1.0f / 120.0f));
  poly = vfma(poly, r, vset1(1.0f / 24.0f));
  poly = vfma(poly, r, vset1(1.0f / 6.0f));
  poly = vfma(poly, r, vset1(0.5f));
  poly = vfma(poly, r, vset1(1.0f));
  poly = vfma(poly, r, vset1(1.0f));
  return vmul(poly, vpow2(n));
}

INGOT_AVX512 float exp_sum(int64_t n, float* x, float shift) {
  VF sum = vzero();
  const VF s = vset1(shift);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const VF e = vexp(vsub(vload(x + i), s));
    vstore(x + i, e);
    sum = vadd(sum, e);
  }
  float total = hsum(sum);
  for (; i < n; ++i) total += (x[i] = std::exp(x[i] - shift));
  return total;
}

}  // namespace

Kernels make_avx512_kernels() {
  return Kernels{
      .isa = Isa::avx512,
      .dot_f32 = dot<LoadF32>,
      .dot_f16 = dot<LoadF16>,
      .tile_f32 = tile<LoadF32>,
      .tile_f16 = tile<LoadF16>,
      .tile_bf16 = tile<LoadBF16>,
      .axpy_f32 = axpy_f32,
      .axpy_f16 = axpy_f16,
      .f32_to_f16 = to_f16,
      .f16_to_f32 = from_f16,
      .qk_f16 = qk<LoadF16>,
      .qk_f32 = qk<LoadF32>,
      .pv_f16 = pv<LoadF16>,
      .pv_f32 = pv<LoadF32>,
      .exp_sum = exp_sum,
      .quant_tile = avx2_quant_tile,
  };
}

}  // namespace ingot::backend::cpu
#endif  // __x86_64__
