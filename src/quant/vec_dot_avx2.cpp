// AVX2 + FMA kernels for the formats the CPU matmul spends its time in: the Q8_0 / Q8_K
// activation quantizers (bit-identical to the scalar ones) and the dot products of F32, F16,
// Q4_0, Q8_0, Q4_K, Q5_K, Q6_K. Compiled with a per-function target attribute, so the binary
// still runs on any x86-64; quant.cpp calls them only after checking the CPU. Integer work is
// done with maddubs (u8 x s8 pairs) and madd (s16 pairs); floats are combined once per block.
#if defined(__x86_64__)

#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/avx2_helpers.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>


namespace ingot::quant::kernels {
namespace {

using namespace avx2;

// f16 -> f32 with the F16C instruction (exact, like core/half.h, without its branches).
INGOT_AVX2 inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

// Four vectors of 8 int32 (each within int8 range) -> 32 int8 in element order.
INGOT_AVX2 inline __m256i pack_32_int8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Sum of u8 x s8 products over 32 bytes as 8 int32 (signed weights go through the sign trick).
INGOT_AVX2 inline __m256i dot_s8_s8(__m256i x, __m256i y) {
  const __m256i products = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
  return _mm256_madd_epi16(products, _mm256_set1_epi16(1));
}

INGOT_AVX2 inline __m256i nibbles_32(const uint8_t* qs) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0xf);
  const __m128i lo = _mm_and_si128(bytes, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
  return _mm256_set_m128i(hi, lo);
}

}  // namespace

INGOT_AVX2 void quantize_q8_0_avx2(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(src + 8 * k);
      amax = _mm256_max_ps(amax, abs_ps(v[k]));
    }
    const float d = horizontal_max(amax) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    const __m256 scale = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k) q[k] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v[k], scale)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(blocks[b].qs), pack_32_int8(q[0], q[1], q[2], q[3]));
  }
}

INGOT_AVX2 void quantize_q8_k_avx2(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockQ8_K& block = blocks[b];
    __m256 amax_v = _mm256_setzero_ps();
    for (int j = 0; j < 256; j += 8) amax_v = _mm256_max_ps(amax_v, abs_ps(_mm256_loadu_ps(src + j)));
    const float amax = horizontal_max(amax_v);
    if (amax == 0.0f) {
      std::memset(&block, 0, sizeof block);
      continue;
    }
    float max = 0;  // the first element of largest magnitude, signed, as the scalar path picks
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(src[j]) == amax) {
        max = src[j];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 scale = _mm256_set1_ps(iscale);
    for (int j = 0; j < 256; j += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 scaled = _mm256_mul_ps(_mm256_loadu_ps(src + j + 8 * k), scale);
        q[k] = _mm256_cvtps_epi32(_mm256_round_ps(scaled, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(block.qs + j), pack_32_int8(q[0], q[1], q[2], q[3]));
    }
    for (int g = 0; g < 16; ++g) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block.qs + 16 * g));
      const __m256i wide = _mm256_cvtepi8_epi16(bytes);
      const __m256i pairs = _mm256_madd_epi16(wide, _mm256_set1_epi16(1));
      const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1));
      const __m128i s2 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
      const __m128i s1 = _mm_add_epi32(s2, _mm_shuffle_epi32(s2, 0xb1));
      block.bsums[g] = static_cast<int16_t>(_mm_cvtsi128_si32(s1));
    }
    block.d = 1 / iscale;
  }
}

INGOT_AVX2 float dot_f32_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
  }
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

INGOT_AVX2 float dot_f16_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    acc0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(y + i), acc0);
    acc1 = _mm256_fmadd_ps(x1, _mm256_loadu_ps(y + i + 8), acc1);
  }
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += half_to_float(x[i]) * y[i];
  return sum;
}

INGOT_AVX2 float dot_q8_0_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8_s8(qx, qy)), acc);
  }
  return horizontal_sum(acc);
}

INGOT_AVX2 float dot_q4_0_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  __m256 acc = _mm256_setzero_ps();
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    const __m256i qx = _mm256_sub_epi8(nibbles_32(x[b].qs), eight);
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256 d = _mm256_set1_ps(half_to_float(x[b].d) * half_to_float(y[b].d));
    acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_s8_s8(qx, qy)), acc);
  }
  return horizontal_sum(acc);
}

namespace {

// Q4_K / Q5_K: sum over the 8 sub-blocks of scale * sum(q * a), as 8 int32 lanes.
template <bool kFifthBit, typename Block>
INGOT_AVX2 inline float dot_k4_avx2(int64_t n, const Block* x, const BlockQ8_K* y) {
  const __m256i low_mask = _mm256_set1_epi8(0xf);
  const __m256i one = _mm256_set1_epi8(1);
  float sum = 0;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    int mins = 0;
    int16_t scales[8];
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      scale_min_k4(s, x[b].scales, sc, m);
      scales[s] = sc;
      mins += m * (y[b].bsums[2 * s] + y[b].bsums[2 * s + 1]);
    }
    [[maybe_unused]] __m256i high_bits{};
    if constexpr (kFifthBit) high_bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh));
    __m256i sumi = _mm256_setzero_si256();
    for (int pair = 0; pair < 4; ++pair) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * pair));
      __m256i q_lo = _mm256_and_si256(bytes, low_mask);
      __m256i q_hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_mask);
      if constexpr (kFifthBit) {
        const __m256i h_lo = _mm256_and_si256(_mm256_srli_epi16(high_bits, 2 * pair), one);
        const __m256i h_hi = _mm256_and_si256(_mm256_srli_epi16(high_bits, 2 * pair + 1), one);
        q_lo = _mm256_or_si256(q_lo, _mm256_slli_epi16(h_lo, 4));
        q_hi = _mm256_or_si256(q_hi, _mm256_slli_epi16(h_hi, 4));
      }
      const __m256i a_lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * pair));
      const __m256i a_hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 64 * pair + 32));
      const __m256i p_lo = _mm256_madd_epi16(_mm256_maddubs_epi16(q_lo, a_lo), _mm256_set1_epi16(scales[2 * pair]));
      const __m256i p_hi =
          _mm256_madd_epi16(_mm256_maddubs_epi16(q_hi, a_hi), _mm256_set1_epi16(scales[2 * pair + 1]));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p_lo, p_hi));
    }
    const float d = y[b].d * half_to_float(x[b].d);
    const float dmin = y[b].d * half_to_float(x[b].dmin);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    sum -= dmin * static_cast<float>(mins);
  }
  return horizontal_sum(acc) + sum;
}

}  // namespace

INGOT_AVX2 float dot_q4_k_avx2(int64_t n, const void* w, const void* a) {
  return dot_k4_avx2<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

INGOT_AVX2 float dot_q5_k_avx2(int64_t n, const void* w, const void* a) {
  return dot_k4_avx2<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

INGOT_AVX2 float dot_q6_k_avx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i low_mask = _mm256_set1_epi8(0xf);
  const __m256i two_bits = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    // (q - 32) * a = q * a - 32 * a: the offset term comes from the activation's bsums.
    int offset = 0;
    for (int s = 0; s < 16; ++s) offset += x[b].scales[s] * y[b].bsums[s];
    __m256i sumi = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * half));
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i low[4] = {_mm256_and_si256(ql0, low_mask), _mm256_and_si256(ql1, low_mask),
                              _mm256_and_si256(_mm256_srli_epi16(ql0, 4), low_mask),
                              _mm256_and_si256(_mm256_srli_epi16(ql1, 4), low_mask)};
      for (int k = 0; k < 4; ++k) {
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), two_bits);
        const __m256i q = _mm256_or_si256(low[k], _mm256_slli_epi16(high, 4));
        const __m256i act = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs + 128 * half + 32 * k));
        const int sub = 8 * half + 2 * k;
        const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(x[b].scales[sub + 1]), _mm_set1_epi16(x[b].scales[sub]));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q, act), scale));
      }
    }
    const float d = y[b].d * half_to_float(x[b].d);
    const __m256i offset_v = _mm256_setr_epi32(-32 * offset, 0, 0, 0, 0, 0, 0, 0);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(sumi, offset_v)), acc);
  }
  return horizontal_sum(acc);
}

}  // namespace ingot::quant::kernels

#endif  // __x86_64__
