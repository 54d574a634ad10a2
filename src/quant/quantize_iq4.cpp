// Quantizers of the non-linear 4-bit formats IQ4_NL (one f16 scale per 32) and IQ4_XS (six-bit
// scales per 32 under one f16 per 256). Per 32-element block: x^2-weighted least-squares scale
// over 15 candidate scales, each element snapped to the nearest of the 16 levels. This is what
// llama.cpp's file quantizer (quantize_iq4_nl / quantize_iq4_xs without an importance matrix)
// writes, step for step, so the bytes match.
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/rounding.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ingot::quant::kernels {
namespace {

constexpr float kGroupMaxEps = 1e-15f;
constexpr int kTries = 7;

// Best scale of one 32-element block, or 0 when the block is all (near) zero.
float block_scale(const float* x) {
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (amax < kGroupMaxEps) return 0.0f;
  const auto fit = [&](float id, float& sum_qx, float& sum_q2) {
    sum_qx = sum_q2 = 0;
    for (int j = 0; j < 32; ++j) {
      const auto q = static_cast<float>(kIq4nlValues[nearest_level(16, kIq4nlValues, id * x[j])]);
      const float w = x[j] * x[j];
      sum_qx += w * q * x[j];
      sum_q2 += w * q * q;
    }
  };
  float d = -max / static_cast<float>(kIq4nlValues[0]);
  float sum_qx, sum_q2;
  fit(1 / d, sum_qx, sum_q2);
  d = sum_q2 > 0 ? sum_qx / sum_q2 : 0.f;
  float best = d * sum_qx;
  for (int t = -kTries; t <= kTries; ++t) {
    fit(static_cast<float>(t + kIq4nlValues[0]) / max, sum_qx, sum_q2);
    if (sum_q2 > 0 && sum_qx * sum_qx > best * sum_q2) {
      d = sum_qx / sum_q2;
      best = d * sum_qx;
    }
  }
  return d;
}

void pack_nibbles(const uint8_t* levels, uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<uint8_t>(levels[j] | (levels[j + 16] << 4));
}

}  // namespace

void quantize_iq4_nl(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_NL*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    const float d = block_scale(src);
    blocks[b].d = f32_to_f16(d);
    const float id = d != 0.0f ? 1 / d : 0;
    uint8_t levels[32];
    for (int j = 0; j < 32; ++j) levels[j] = static_cast<uint8_t>(nearest_level(16, kIq4nlValues, id * src[j]));
    pack_nibbles(levels, blocks[b].qs);
  }
}

void quantize_iq4_xs(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_XS*>(dst);
  for (int64_t b = 0; b < n / kSuperBlock; ++b, src += kSuperBlock) {
    BlockIQ4_XS& block = blocks[b];
    float scales[8];
    float max_scale = 0, amax_scale = 0;
    for (int sub = 0; sub < 8; ++sub) {
      scales[sub] = block_scale(src + 32 * sub);
      if (std::fabs(scales[sub]) > amax_scale) {
        amax_scale = std::fabs(scales[sub]);
        max_scale = scales[sub];
      }
    }
    const float d = -max_scale / 32;
    block.d = f32_to_f16(d);
    block.scales_h = 0;
    std::memset(block.scales_l, 0, sizeof block.scales_l);
    const float id = d != 0.0f ? 1 / d : 0.f;
    for (int sub = 0; sub < 8; ++sub) {
      const int l = std::clamp(nearest_int(id * scales[sub]), -32, 31);
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0.0f ? 1 / dl : 0.f;
      uint8_t levels[32];
      for (int j = 0; j < 32; ++j) {
        levels[j] = static_cast<uint8_t>(nearest_level(16, kIq4nlValues, idl * src[32 * sub + j]));
      }
      pack_nibbles(levels, block.qs + 16 * sub);
      const int biased = l + 32;
      block.scales_l[sub / 2] = static_cast<uint8_t>(block.scales_l[sub / 2] | ((biased & 0xf) << (4 * (sub % 2))));
      block.scales_h = static_cast<uint16_t>(block.scales_h | ((biased >> 4) << (2 * sub)));
    }
  }
}

}  // namespace ingot::quant::kernels
