// Quantizers of the plain float types and the 32-element block formats (Q4_0 .. Q8_1, MXFP4).
// Each reproduces the float operations of ggml's reference quantizer in the same order, so the
// bytes equal llama.cpp's (tests/unit/quant/checksum_test.cpp pins them). Cost: one pass to find
// the block's range, one to round.
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"
#include "quant/rounding.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace ingot::quant::kernels {

void quantize_f32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void quantize_f16(const float* src, void* dst, int64_t n) {
  f32_to_f16_row(src, static_cast<uint16_t*>(dst), static_cast<size_t>(n));
}

void quantize_bf16(const float* src, void* dst, int64_t n) {
  f32_to_bf16_row(src, static_cast<uint16_t*>(dst), static_cast<size_t>(n));
}

namespace {

// The element of largest magnitude (the first one on ties), signed.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float& min, float& max) {
  min = FLT_MAX;
  max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

// Packs 32 five-bit values: low nibbles pairwise into qs, bit 4 of element j into bit j of qh.
void pack_5bit(const uint8_t* values, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<uint8_t>((values[j] & 0xf) | ((values[j + 16] & 0xf) << 4));
    qh |= static_cast<uint32_t>((values[j] >> 4) & 1) << j;
    qh |= static_cast<uint32_t>((values[j + 16] >> 4) & 1) << (j + 16);
  }
  std::memcpy(qh_bytes, &qh, sizeof qh);
}

}  // namespace

void quantize_q4_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    const float d = signed_absmax(src, kBlock32) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(truncate_to_int(src[j] * id + 8.5f))));
      const int hi =
          std::min(15, static_cast<int>(static_cast<int8_t>(truncate_to_int(src[j + 16] * id + 8.5f))));
      blocks[b].qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(lo) | (static_cast<uint8_t>(hi) << 4));
    }
  }
}

void quantize_q4_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    float min, max;
    min_max(src, kBlock32, min, max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    blocks[b].m = f32_to_f16(min);
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(truncate_to_int((src[j] - min) * id + 0.5f))));
      const int hi =
          std::min(15, static_cast<int>(static_cast<int8_t>(truncate_to_int((src[j + 16] - min) * id + 0.5f))));
      blocks[b].qs[j] = static_cast<uint8_t>(static_cast<uint8_t>(lo) | (static_cast<uint8_t>(hi) << 4));
    }
  }
}

void quantize_q5_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    const float d = signed_absmax(src, kBlock32) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    uint8_t values[32];
    for (int j = 0; j < 32; ++j) {
      values[j] = static_cast<uint8_t>(
          std::min(31, static_cast<int>(static_cast<int8_t>(truncate_to_int(src[j] * id + 16.5f)))));
    }
    pack_5bit(values, blocks[b].qs, blocks[b].qh);
  }
}

void quantize_q5_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_1*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    float min, max;
    min_max(src, kBlock32, min, max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    blocks[b].m = f32_to_f16(min);
    uint8_t values[32];
    for (int j = 0; j < 32; ++j) {
      values[j] = static_cast<uint8_t>(truncate_to_int((src[j] - min) * id + 0.5f));
    }
    pack_5bit(values, blocks[b].qs, blocks[b].qh);
  }
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    for (int j = 0; j < 32; ++j) blocks[b].qs[j] = static_cast<int8_t>(truncate_to_int(std::round(src[j] * id)));
  }
}

void quantize_q8_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(src[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[b].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      blocks[b].qs[j] = static_cast<int8_t>(truncate_to_int(std::round(src[j] * id)));
      sum += blocks[b].qs[j];
    }
    blocks[b].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

namespace {
// The MXFP4 level nearest to x at scale e (the first on ties), by linear search as ggml does.
uint8_t nearest_mxfp4(float x, float e) {
  int best = 0;
  float best_error = std::fabs(static_cast<float>(kMxfp4Values[0]) * e - x);
  for (int i = 1; i < 16; ++i) {
    const float error = std::fabs(static_cast<float>(kMxfp4Values[i]) * e - x);
    if (error < best_error) {
      best = i;
      best_error = error;
    }
  }
  return static_cast<uint8_t>(best);
}
}  // namespace

void quantize_mxfp4(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockMXFP4*>(dst);
  for (int64_t b = 0; b < n / kBlock32; ++b, src += kBlock32) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(src[j]));
    // The shared exponent puts the largest element near the top level (6 = 1.5 * 2^2).
    uint8_t e = 0;
    if (amax > 0.0f) {
      const float biased = std::floor(std::log2(amax)) - 2 + 127;
      e = static_cast<uint8_t>(std::clamp(truncate_to_int(biased), 0, 255));
    }
    const float d = e8m0_to_f32_half(e);
    blocks[b].e = e;
    for (int j = 0; j < 16; ++j) {
      blocks[b].qs[j] = static_cast<uint8_t>(nearest_mxfp4(src[j], d) | (nearest_mxfp4(src[j + 16], d) << 4));
    }
  }
}

}  // namespace ingot::quant::kernels
