// AVX2 helpers shared by the quant layer's vec_dot kernels (quant/vec_dot_avx2.cpp) and the CPU
// backend's tiled matmul (backend/cpu/quant_tiles_avx2.cpp): horizontal reductions, |x|, and
// round-half-away-from-zero. Include only from x86-64 translation units; each function is
// compiled for AVX2 + FMA + F16C through INGOT_AVX2 (callers check the CPU at run time).
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#ifndef INGOT_AVX2
#define INGOT_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace ingot::quant::avx2 {

INGOT_AVX2 inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

INGOT_AVX2 inline float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

INGOT_AVX2 inline int horizontal_sum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

INGOT_AVX2 inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// std::round (half away from zero), exactly: truncate, then step away from zero when the
// dropped fraction is at least one half (adding 0.5 first would round 0.49999997 up).
INGOT_AVX2 inline __m256 round_half_away(__m256 v) {
  const __m256 truncated = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 fraction = abs_ps(_mm256_sub_ps(v, truncated));
  const __m256 step = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
  const __m256 need = _mm256_cmp_ps(fraction, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_add_ps(truncated, _mm256_and_ps(need, step));
}

}  // namespace ingot::quant::avx2

#endif  // __x86_64__
