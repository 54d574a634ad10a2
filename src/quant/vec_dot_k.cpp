// Scalar reference dot products of the 256-element formats (Q2_K .. Q6_K, IQ4_XS) against Q8_K
// activations. Each super-block is unpacked to signed levels and per-sub-block scales, summed in
// integers, and scaled once; the mins of Q2_K/Q4_K/Q5_K use the activation's bsums.
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

namespace ingot::quant::kernels {
namespace {

// sum over sub-blocks of size `sub` of scale[s] * sum(level * activation).
int scaled_sum(const int8_t* levels, const int8_t* activations, const int* scales, int sub) {
  int total = 0;
  for (int s = 0; s < kSuperBlock / sub; ++s) {
    int partial = 0;
    for (int j = 0; j < sub; ++j) partial += levels[s * sub + j] * activations[s * sub + j];
    total += scales[s] * partial;
  }
  return total;
}

}  // namespace

float dot_q2_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    int8_t levels[256];
    int scales[16];
    int mins = 0;
    for (int e = 0; e < 256; ++e) {
      levels[e] = static_cast<int8_t>((x[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
    }
    for (int s = 0; s < 16; ++s) {
      scales[s] = x[b].scales[s] & 0xf;
      mins += y[b].bsums[s] * (x[b].scales[s] >> 4);
    }
    const float d = y[b].d * f16_to_f32(x[b].d);
    const float dmin = y[b].d * f16_to_f32(x[b].dmin);
    sum += d * static_cast<float>(scaled_sum(levels, y[b].qs, scales, 16)) - dmin * static_cast<float>(mins);
  }
  return sum;
}

float dot_q3_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    int8_t levels[256];
    int8_t packed_scales[16];
    int scales[16];
    unpack_q3_k_scales(x[b].scales, packed_scales);
    for (int s = 0; s < 16; ++s) scales[s] = packed_scales[s];
    for (int e = 0; e < 256; ++e) {
      const int half = e / 128, shift = (e % 128) / 32, l = e % 32;
      const int low = (x[b].qs[32 * half + l] >> (2 * shift)) & 3;
      const int high = (x[b].hmask[l] >> (4 * half + shift)) & 1;
      levels[e] = static_cast<int8_t>(low - (high ? 0 : 4));
    }
    sum += y[b].d * f16_to_f32(x[b].d) * static_cast<float>(scaled_sum(levels, y[b].qs, scales, 16));
  }
  return sum;
}

namespace {

// Q4_K and Q5_K: d * sum(scale * q * a) - dmin * sum(min * bsum pair).
template <bool kFifthBit, typename Block>
float dot_k4(int64_t n, const Block* x, const BlockQ8_K* y) {
  float sum = 0;
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    int8_t levels[256];
    int scales[8];
    int mins = 0;
    for (int s = 0; s < 8; ++s) {
      uint8_t sc, m;
      scale_min_k4(s, x[b].scales, sc, m);
      scales[s] = sc;
      mins += m * (y[b].bsums[2 * s] + y[b].bsums[2 * s + 1]);
      for (int l = 0; l < 32; ++l) {
        int q = (x[b].qs[32 * (s / 2) + l] >> (4 * (s % 2))) & 0xf;
        if constexpr (kFifthBit) q |= ((x[b].qh[l] >> s) & 1) << 4;
        levels[32 * s + l] = static_cast<int8_t>(q);
      }
    }
    const float d = y[b].d * f16_to_f32(x[b].d);
    const float dmin = y[b].d * f16_to_f32(x[b].dmin);
    sum += d * static_cast<float>(scaled_sum(levels, y[b].qs, scales, 32)) - dmin * static_cast<float>(mins);
  }
  return sum;
}

}  // namespace

float dot_q4_k(int64_t n, const void* w, const void* a) {
  return dot_k4<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float dot_q5_k(int64_t n, const void* w, const void* a) {
  return dot_k4<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float dot_q6_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    int8_t levels[256];
    int scales[16];
    for (int s = 0; s < 16; ++s) scales[s] = x[b].scales[s];
    for (int e = 0; e < 256; ++e) {
      const int half = e / 128, k = (e % 128) / 32, l = e % 32;
      const uint8_t low_byte = x[b].ql[64 * half + 32 * (k % 2) + l];
      const int low = k < 2 ? low_byte & 0xf : low_byte >> 4;
      const int high = (x[b].qh[32 * half + l] >> (2 * k)) & 3;
      levels[e] = static_cast<int8_t>((low | (high << 4)) - 32);
    }
    sum += y[b].d * f16_to_f32(x[b].d) * static_cast<float>(scaled_sum(levels, y[b].qs, scales, 16));
  }
  return sum;
}

float dot_iq4_xs(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    int8_t levels[256];
    int scales[8];
    for (int s = 0; s < 8; ++s) {
      scales[s] = (((x[b].scales_l[s / 2] >> (4 * (s % 2))) & 0xf) | (((x[b].scales_h >> (2 * s)) & 3) << 4)) - 32;
      for (int j = 0; j < 16; ++j) {
        levels[32 * s + j] = kIq4nlValues[x[b].qs[16 * s + j] & 0xf];
        levels[32 * s + j + 16] = kIq4nlValues[x[b].qs[16 * s + j] >> 4];
      }
    }
    sum += y[b].d * f16_to_f32(x[b].d) * static_cast<float>(scaled_sum(levels, y[b].qs, scales, 32));
  }
  return sum;
}

}  // namespace ingot::quant::kernels
