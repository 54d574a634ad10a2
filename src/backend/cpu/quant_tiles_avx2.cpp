// AVX2 tiles for Q8_0 (act_q8_16.h activations), Q4_K and Q6_K (Q8_K activations), and the
// AVX2 quantizer of act_q8_16.h (bit-identical to the portable one). The K-quant tiles mirror
// quant/vec_dot_avx2.cpp's per-(row, token) operation order exactly (same integer lanes, same
// float products, fmadds and horizontal sum); every tile computes each (row, token) with the
// same operations whatever the tile shape. Weight-only work is hoisted out of the token loop:
// Q8_0 tiles 4 rows x 2 tokens (8 accumulators); the K-quants unpack one super-block of one
// row (256 values in 8 registers, scales, mins) and reuse it for 4 tokens.
#include "backend/cpu/quant_tiles.h"

#if defined(__x86_64__)

#include "backend/cpu/act_q8_16.h"
#include "quant/blocks.h"
#include "quant/avx2_helpers.h"

#include <cstring>
#include <immintrin.h>


namespace ingot::backend::cpu {
namespace {

using namespace quant::avx2;

using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_0;
using quant::BlockQ8_K;
using quant::kBlock32;
using quant::kSuperBlock;

template <typename Block>
inline const Block* row_blocks(const uint8_t* base, size_t stride, int64_t i) {
  return reinterpret_cast<const Block*>(base + static_cast<size_t>(i) * stride);
}

// ---- Q8_0 x ActQ8_16: R rows x T tokens ---------------------------------------------------
// maddubs + madd leave the sums of values 0-15 in lanes 0-3 and of 16-31 in lanes 4-7, so the
// two activation scales are applied as one vector [d0 x4, d1 x4] (two broadcast loads and a
// blend per token and block, shared by the tile's rows).

template <int R, int T>
INGOT_AVX2 void q8_0_tile(int64_t n_blocks, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* out,
                          size_t os) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < n_blocks; ++b) {
    __m256i qy[T];
    __m256 dy[T];  // [d0 x4, d1 x4], built once per block and token
    for (int t = 0; t < T; ++t) {
      const ActQ8_16& y = row_blocks<ActQ8_16>(a, as, t)[b];
      qy[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs));
      dy[t] = _mm256_blend_ps(_mm256_broadcast_ss(&y.d[0]), _mm256_broadcast_ss(&y.d[1]), 0xf0);
    }
    for (int r = 0; r < R; ++r) {
      const BlockQ8_0& x = row_blocks<BlockQ8_0>(w, ws, r)[b];
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs));
      const __m256i ax = _mm256_sign_epi8(qx, qx);
      const __m256 dx = _mm256_set1_ps(_cvtsh_ss(x.d));
      for (int t = 0; t < T; ++t) {
        const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(qy[t], qx)), ones);
        acc[r][t] = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy[t]), _mm256_cvtepi32_ps(dot), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) out[static_cast<size_t>(t) * os + static_cast<size_t>(r)] = horizontal_sum(acc[r][t]);
}

INGOT_AVX2 void quantize_act_q8_16_avx2(const float* x, void* out, int64_t n) {
  auto* blocks = static_cast<ActQ8_16*>(out);
  for (int64_t b = 0; b < n / kActQ8Block; ++b, x += kActQ8Block) {
    __m256i q[4];
    for (int half = 0; half < 2; ++half) {
      const __m256 v0 = _mm256_loadu_ps(x + 16 * half), v1 = _mm256_loadu_ps(x + 16 * half + 8);
      const float d = horizontal_max(_mm256_max_ps(abs_ps(v0), abs_ps(v1))) / 127;
      const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
      blocks[b].d[half] = d;
      q[2 * half] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v0, id)));
      q[2 * half + 1] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v1, id)));
    }
    // 4 x 8 int32 (each within int8 range) -> 32 int8 in element order.
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(blocks[b].qs),
                        _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
}

// ---- Q4_K x Q8_K: 1 row x T tokens ---------------------------------------------------------

template <int T>
INGOT_AVX2 void q4_k_tile(int64_t n_blocks, const uint8_t* w, const uint8_t* a, size_t as, float* out, size_t os) {
  const auto* x = reinterpret_cast<const BlockQ4_K*>(w);
  const __m256i low_mask = _mm256_set1_epi8(0xf);
  __m256 acc[T];
  float sum[T];
  for (int t = 0; t < T; ++t) {
    acc[t] = _mm256_setzero_ps();
    sum[t] = 0;
  }
  for (int64_t b = 0; b < n_blocks; ++b) {
    // The 8 six-bit scales and mins of the 12 packed bytes, four at a time in 32-bit words (the
    // same values as quant::scale_min_k4): sub-blocks 0-3 keep the low 6 bits of bytes 0-3 / 4-7;
    // 4-7 take a nibble of bytes 8-11 and the top 2 bits of bytes 0-3 / 4-7.
    uint32_t packed[3];
    std::memcpy(packed, x[b].scales, sizeof(packed));
    alignas(16) uint32_t unpacked[4] = {
        packed[0] & 0x3f3f3f3fu,                                                    // scales 0-3
        (packed[2] & 0x0f0f0f0fu) | (((packed[0] >> 6) & 0x03030303u) << 4),        // scales 4-7
        packed[1] & 0x3f3f3f3fu,                                                    // mins 0-3
        ((packed[2] >> 4) & 0x0f0f0f0fu) | (((packed[1] >> 6) & 0x03030303u) << 4)  // mins 4-7
    };
    const auto* scale_bytes = reinterpret_cast<const uint8_t*>(unpacked);
    const __m128i mins_v = _mm_cvtepu8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(unpacked + 2)));
    __m256i q[8];
    for (int pair = 0; pair < 4; ++pair) {
      const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * pair));
      q[2 * pair] = _mm256_and_si256(bytes, low_mask);
      q[2 * pair + 1] = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_mask);
    }
    const float dx = _cvtsh_ss(x[b].d);
    const float dminx = _cvtsh_ss(x[b].dmin);
    for (int t = 0; t < T; ++t) {
      const BlockQ8_K& y = row_blocks<BlockQ8_K>(a, as, t)[b];
      // mins: sum_s m_s * (bsums[2s] + bsums[2s+1]), exact in int32.
      const __m128i bs_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums));
      const __m128i bs_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums + 8));
      const __m128i pairs = _mm_hadd_epi16(bs_lo, bs_hi);
      __m128i m4 = _mm_madd_epi16(mins_v, pairs);
      m4 = _mm_add_epi32(m4, _mm_shuffle_epi32(m4, 0x4e));
      m4 = _mm_add_epi32(m4, _mm_shuffle_epi32(m4, 0xb1));
      const int n_mins = _mm_cvtsi128_si32(m4);
      __m256i sumi = _mm256_setzero_si256();
      for (int s = 0; s < 8; ++s) {
        const __m256i act = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * s));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q[s], act), _mm256_set1_epi16(scale_bytes[s])));
      }
      const float d = y.d * dx;
      const float dmin = y.d * dminx;
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc[t]);
      sum[t] -= dmin * static_cast<float>(n_mins);
    }
  }
  for (int t = 0; t < T; ++t) out[static_cast<size_t>(t) * os] = horizontal_sum(acc[t]) + sum[t];
}

// ---- Q6_K x Q8_K: 1 row x T tokens ---------------------------------------------------------

template <int T>
INGOT_AVX2 void q6_k_tile(int64_t n_blocks, const uint8_t* w, const uint8_t* a, size_t as, float* out, size_t os) {
  const auto* x = reinterpret_cast<const BlockQ6_K*>(w);
  const __m256i low_mask = _mm256_set1_epi8(0xf);
  const __m256i two_bits = _mm256_set1_epi8(3);
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    // q (0..63) of the 8 groups of 32 in element order; group g = 4 * half + k.
    __m256i q[8];
    __m256i scale[8];
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
        q[4 * half + k] = _mm256_or_si256(low[k], _mm256_slli_epi16(high, 4));
        const int sub = 8 * half + 2 * k;
        scale[4 * half + k] =
            _mm256_set_m128i(_mm_set1_epi16(x[b].scales[sub + 1]), _mm_set1_epi16(x[b].scales[sub]));
      }
    }
    const __m256i scales16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales)));
    const float dx = _cvtsh_ss(x[b].d);
    for (int t = 0; t < T; ++t) {
      const BlockQ8_K& y = row_blocks<BlockQ8_K>(a, as, t)[b];
      // (q - 32) * a = q * a - 32 * a: the offset sum_s scales[s] * bsums[s], exact in int32.
      const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
      const int offset = horizontal_sum_i32(_mm256_madd_epi16(scales16, bsums));
      __m256i sumi = _mm256_setzero_si256();
      for (int g = 0; g < 8; ++g) {
        const __m256i act = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * g));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(q[g], act), scale[g]));
      }
      const float d = y.d * dx;
      const __m256i offset_v = _mm256_setr_epi32(-32 * offset, 0, 0, 0, 0, 0, 0, 0);
      acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_add_epi32(sumi, offset_v)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[static_cast<size_t>(t) * os] = horizontal_sum(acc[t]);
}

// ---- drivers: cover any n_rows x n_tokens with full tiles and smaller edge tiles ----------

template <int R, int T>
INGOT_AVX2 void q8_0_rows(int64_t nb, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* a, size_t as,
                          float* out, size_t os) {
  int64_t r = 0;
  for (; r + R <= n_rows; r += R) q8_0_tile<R, T>(nb, w + static_cast<size_t>(r) * ws, ws, a, as, out + r, os);
  switch (n_rows - r) {
    case 3: q8_0_tile<3, T>(nb, w + static_cast<size_t>(r) * ws, ws, a, as, out + r, os); break;
    case 2: q8_0_tile<2, T>(nb, w + static_cast<size_t>(r) * ws, ws, a, as, out + r, os); break;
    case 1: q8_0_tile<1, T>(nb, w + static_cast<size_t>(r) * ws, ws, a, as, out + r, os); break;
    default: break;
  }
}

INGOT_AVX2 void tile_q8_0(int64_t k, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* a, size_t as,
                          int64_t n_tokens, float* out, size_t os) {
  const int64_t nb = k / kBlock32;
  int64_t t = 0;
  for (; t + 2 <= n_tokens; t += 2)
    q8_0_rows<4, 2>(nb, w, ws, n_rows, a + static_cast<size_t>(t) * as, as, out + static_cast<size_t>(t) * os, os);
  if (t < n_tokens)
    q8_0_rows<4, 1>(nb, w, ws, n_rows, a + static_cast<size_t>(t) * as, as, out + static_cast<size_t>(t) * os, os);
}

template <void (*Tile4)(int64_t, const uint8_t*, const uint8_t*, size_t, float*, size_t),
          void (*Tile1)(int64_t, const uint8_t*, const uint8_t*, size_t, float*, size_t)>
INGOT_AVX2 void k_quant_tile(int64_t k, const uint8_t* w, size_t ws, int64_t n_rows, const uint8_t* a, size_t as,
                             int64_t n_tokens, float* out, size_t os) {
  const int64_t nb = k / kSuperBlock;
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * ws;
    int64_t t = 0;
    for (; t + 4 <= n_tokens; t += 4)
      Tile4(nb, row, a + static_cast<size_t>(t) * as, as, out + static_cast<size_t>(t) * os + r, os);
    for (; t < n_tokens; ++t)
      Tile1(nb, row, a + static_cast<size_t>(t) * as, as, out + static_cast<size_t>(t) * os + r, os);
  }
}

}  // namespace

ActQuantizeFn avx2_quantize_act_q8_16() { return quantize_act_q8_16_avx2; }

QuantTileFn avx2_quant_tile(quant::Type weight_type) {
  switch (weight_type) {
    case quant::Type::Q8_0: return tile_q8_0;
    case quant::Type::Q4_K: return k_quant_tile<q4_k_tile<4>, q4_k_tile<1>>;
    case quant::Type::Q6_K: return k_quant_tile<q6_k_tile<4>, q6_k_tile<1>>;
    default: return nullptr;
  }
}

}  // namespace ingot::backend::cpu

#else  // not x86-64

namespace ingot::backend::cpu {
QuantTileFn avx2_quant_tile(quant::Type) { return nullptr; }
ActQuantizeFn avx2_quantize_act_q8_16() { return nullptr; }
}  // namespace ingot::backend::cpu

#endif
