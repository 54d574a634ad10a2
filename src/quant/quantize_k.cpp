// Quantizers of the K-quant super-blocks (Q2_K .. Q6_K) and of Q8_K. Per super-block: search a
// scale (and min) per sub-block (scale_search.h), quantize those scales against one f16 super
// scale, then re-round every element against the stored (rounded) scales — the same steps and
// float order as ggml's reference quantizers, so the bytes equal llama.cpp's. Cost: roughly
// 20 candidate scales x 256 elements of float work per super-block.
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/rounding.h"
#include "quant/scale_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ingot::quant::kernels {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

// Packs 256 two-bit values: element 128 h + 32 s + l at bits 2 s of qs[32 h + l].
void pack_2bit(const uint8_t* levels, uint8_t* qs) {
  for (int half = 0; half < 2; ++half) {
    const uint8_t* l = levels + 128 * half;
    for (int i = 0; i < 32; ++i) {
      qs[32 * half + i] = static_cast<uint8_t>(l[i] | (l[i + 32] << 2) | (l[i + 64] << 4) | (l[i + 96] << 6));
    }
  }
}

// Stores eight six-bit scales and mins in the 12-byte Q4_K/Q5_K layout read by scale_min_k4.
void pack_scales_k4(const uint8_t* scales, const uint8_t* mins, uint8_t* packed) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      packed[j] = scales[j];
      packed[j + 4] = mins[j];
    } else {
      packed[j + 4] = static_cast<uint8_t>((scales[j] & 0xf) | ((mins[j] & 0xf) << 4));
      packed[j - 4] = static_cast<uint8_t>(packed[j - 4] | ((scales[j] >> 4) << 6));
      packed[j] = static_cast<uint8_t>(packed[j] | ((mins[j] >> 4) << 6));
    }
  }
}

// The shared part of Q4_K and Q5_K: per 32-element sub-block a scale and min, quantized to six
// bits against d and dmin; then levels in [0, nmax] against the stored values.
void quantize_k4_scales(const float* x, int nmax, float rmin, int n_steps, uint16_t& d_out, uint16_t& dmin_out,
                        uint8_t* packed_scales, uint8_t* levels) {
  float scales[8], mins[8], weights[32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = search_scale_min(32, nmax, xs, weights, levels + 32 * j, &mins[j], rmin, 0.1f, n_steps, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
  }
  pack_scales_k4(ls, lm, packed_scales);
  d_out = f32_to_f16(max_scale / 63.f);
  dmin_out = f32_to_f16(max_min / 63.f);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    scale_min_k4(j, packed_scales, sc, m);
    const float d = f16_to_f32(d_out) * static_cast<float>(sc);
    if (d == 0.0f) continue;
    const float dm = f16_to_f32(dmin_out) * static_cast<float>(m);
    for (int i = 0; i < 32; ++i) {
      levels[32 * j + i] = static_cast<uint8_t>(std::clamp(nearest_int((x[32 * j + i] + dm) / d), 0, nmax));
    }
  }
}

}  // namespace

void quantize_q2_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(dst);
  constexpr float kScaleLevels = 15.f;
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockQ2_K& block = blocks[b];
    uint8_t levels[256];
    float scales[16], mins[16], weights[16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(src[16 * j + l]);
      scales[j] = search_scale_min(16, 3, src + 16 * j, weights, levels + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    if (max_scale > 0) {
      const float iscale = kScaleLevels / max_scale;
      for (int j = 0; j < 16; ++j) block.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      block.d = f32_to_f16(max_scale / kScaleLevels);
    } else {
      std::memset(block.scales, 0, sizeof block.scales);
      block.d = f32_to_f16(0.f);
    }
    if (max_min > 0) {
      const float iscale = kScaleLevels / max_min;
      for (int j = 0; j < 16; ++j) {
        block.scales[j] = static_cast<uint8_t>(block.scales[j] | (nearest_int(iscale * mins[j]) << 4));
      }
      block.dmin = f32_to_f16(max_min / kScaleLevels);
    } else {
      block.dmin = f32_to_f16(0.f);
    }
    for (int j = 0; j < 16; ++j) {
      const float d = f16_to_f32(block.d) * static_cast<float>(block.scales[j] & 0xf);
      if (d == 0.0f) continue;
      const float dm = f16_to_f32(block.dmin) * static_cast<float>(block.scales[j] >> 4);
      for (int i = 0; i < 16; ++i) {
        levels[16 * j + i] = static_cast<uint8_t>(std::clamp(nearest_int((src[16 * j + i] + dm) / d), 0, 3));
      }
    }
    pack_2bit(levels, block.qs);
  }
}

void quantize_q3_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(dst);
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockQ3_K& block = blocks[b];
    int8_t levels[256];
    float scales[16];
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = search_scale_q3(16, 4, src + 16 * j, levels + 16 * j);
      if (std::fabs(scales[j]) > amax) {
        amax = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    std::memset(block.scales, 0, sizeof block.scales);
    if (max_scale != 0.0f) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < 16; ++j) {
        const int l = std::clamp(static_cast<int>(static_cast<int8_t>(nearest_int(iscale * scales[j]))), -32, 31) + 32;
        if (j < 8) {
          block.scales[j] = static_cast<uint8_t>(l & 0xf);
        } else {
          block.scales[j - 8] = static_cast<uint8_t>(block.scales[j - 8] | ((l & 0xf) << 4));
        }
        block.scales[j % 4 + 8] = static_cast<uint8_t>(block.scales[j % 4 + 8] | ((l >> 4) << (2 * (j / 4))));
      }
      block.d = f32_to_f16(1 / iscale);
    } else {
      block.d = f32_to_f16(0.f);
    }
    int8_t stored_scales[16];
    unpack_q3_k_scales(block.scales, stored_scales);
    for (int j = 0; j < 16; ++j) {
      const float d = f16_to_f32(block.d) * static_cast<float>(stored_scales[j]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) {
        levels[16 * j + i] = static_cast<int8_t>(std::clamp(nearest_int(src[16 * j + i] / d), -4, 3) + 4);
      }
    }
    // High bit of element e into bit e / 32 of hmask[e % 32]; the low two bits packed as Q2_K.
    std::memset(block.hmask, 0, sizeof block.hmask);
    uint8_t low[256];
    for (int e = 0; e < 256; ++e) {
      int l = levels[e];
      if (l > 3) {
        block.hmask[e % 32] = static_cast<uint8_t>(block.hmask[e % 32] | (1 << (e / 32)));
        l -= 4;
      }
      low[e] = static_cast<uint8_t>(l);
    }
    pack_2bit(low, block.qs);
  }
}

void quantize_q4_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(dst);
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockQ4_K& block = blocks[b];
    uint8_t levels[256];
    quantize_k4_scales(src, 15, -1.f, 20, block.d, block.dmin, block.scales, levels);
    for (int pair = 0; pair < 4; ++pair) {
      const uint8_t* l = levels + 64 * pair;
      for (int i = 0; i < 32; ++i) block.qs[32 * pair + i] = static_cast<uint8_t>(l[i] | (l[i + 32] << 4));
    }
  }
}

void quantize_q5_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(dst);
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockQ5_K& block = blocks[b];
    uint8_t levels[256];
    quantize_k4_scales(src, 31, -0.5f, 15, block.d, block.dmin, block.scales, levels);
    std::memset(block.qh, 0, sizeof block.qh);
    for (int pair = 0; pair < 4; ++pair) {
      const uint8_t* l = levels + 64 * pair;
      for (int i = 0; i < 32; ++i) {
        int lo = l[i], hi = l[i + 32];
        if (lo > 15) {
          lo -= 16;
          block.qh[i] = static_cast<uint8_t>(block.qh[i] | (1 << (2 * pair)));
        }
        if (hi > 15) {
          hi -= 16;
          block.qh[i] = static_cast<uint8_t>(block.qh[i] | (2 << (2 * pair)));
        }
        block.qs[32 * pair + i] = static_cast<uint8_t>(lo | (hi << 4));
      }
    }
  }
}

void quantize_q6_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(dst);
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockQ6_K& block = blocks[b];
    int8_t levels[256];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = search_scale_symmetric(16, 32, src + 16 * j, levels + 16 * j);
      if (std::fabs(scales[j]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&block, 0, sizeof block);
      continue;
    }
    const float iscale = -128.f / max_scale;
    block.d = f32_to_f16(1 / iscale);
    for (int j = 0; j < 16; ++j) block.scales[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[j])));
    for (int j = 0; j < 16; ++j) {
      const float d = f16_to_f32(block.d) * static_cast<float>(block.scales[j]);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) {
        levels[16 * j + i] = static_cast<int8_t>(std::clamp(nearest_int(src[16 * j + i] / d), -32, 31) + 32);
      }
    }
    for (int half = 0; half < 2; ++half) {
      const int8_t* l = levels + 128 * half;
      uint8_t* ql = block.ql + 64 * half;
      uint8_t* qh = block.qh + 32 * half;
      for (int i = 0; i < 32; ++i) {
        ql[i] = static_cast<uint8_t>((l[i] & 0xf) | ((l[i + 64] & 0xf) << 4));
        ql[i + 32] = static_cast<uint8_t>((l[i + 32] & 0xf) | ((l[i + 96] & 0xf) << 4));
        qh[i] = static_cast<uint8_t>((l[i] >> 4) | ((l[i + 32] >> 4) << 2) | ((l[i + 64] >> 4) << 4) |
                                     ((l[i + 96] >> 4) << 6));
      }
    }
  }
}

void quantize_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockQ8_K& block = blocks[b];
    float amax = 0, max = 0;
    for (int j = 0; j < 256; ++j) {
      if (std::fabs(src[j]) > amax) {
        amax = std::fabs(src[j]);
        max = src[j];
      }
    }
    if (amax == 0.0f) {
      block.d = 0;
      std::memset(block.qs, 0, sizeof block.qs);
      std::memset(block.bsums, 0, sizeof block.bsums);
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < 256; ++j) block.qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * src[j])));
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += block.qs[16 * j + i];
      block.bsums[j] = static_cast<int16_t>(sum);
    }
    block.d = 1 / iscale;
  }
}

}  // namespace ingot::quant::kernels
