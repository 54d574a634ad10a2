// Dequantization of the plain float types and the 32-element block formats. Each follows the
// block layout in blocks.h; the arithmetic (one float multiply, plus one add for the formats
// with a min) matches ggml's, so the floats are bit-identical to llama.cpp's.
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

#include <cstring>

namespace ingot::quant::kernels {

void dequantize_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequantize_f16(const void* src, float* dst, int64_t n) {
  f16_to_f32_row(static_cast<const uint16_t*>(src), dst, static_cast<size_t>(n));
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  bf16_to_f32_row(static_cast<const uint16_t*>(src), dst, static_cast<size_t>(n));
}

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>((blocks[b].qs[j] & 0xf) - 8) * d;
      dst[j + 16] = static_cast<float>((blocks[b].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = f16_to_f32(blocks[b].d);
    const float m = f16_to_f32(blocks[b].m);
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>(blocks[b].qs[j] & 0xf) * d + m;
      dst[j + 16] = static_cast<float>(blocks[b].qs[j] >> 4) * d + m;
    }
  }
}

namespace {
uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

void dequantize_q5_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = f16_to_f32(blocks[b].d);
    const uint32_t qh = load_u32(blocks[b].qh);
    for (int j = 0; j < 16; ++j) {
      const int lo = (blocks[b].qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (blocks[b].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = static_cast<float>(lo - 16) * d;
      dst[j + 16] = static_cast<float>(hi - 16) * d;
    }
  }
}

void dequantize_q5_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = f16_to_f32(blocks[b].d);
    const float m = f16_to_f32(blocks[b].m);
    const uint32_t qh = load_u32(blocks[b].qh);
    for (int j = 0; j < 16; ++j) {
      const int lo = (blocks[b].qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (blocks[b].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      dst[j] = static_cast<float>(lo) * d + m;
      dst[j + 16] = static_cast<float>(hi) * d + m;
    }
  }
}

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

void dequantize_q8_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

void dequantize_mxfp4(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockMXFP4*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = e8m0_to_f32_half(blocks[b].e);
    for (int j = 0; j < 16; ++j) {
      dst[j] = static_cast<float>(kMxfp4Values[blocks[b].qs[j] & 0xf]) * d;
      dst[j + 16] = static_cast<float>(kMxfp4Values[blocks[b].qs[j] >> 4]) * d;
    }
  }
}

void dequantize_iq4_nl(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t b = 0; b < n / kBlock32; ++b, dst += kBlock32) {
    const float d = f16_to_f32(blocks[b].d);
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>(kIq4nlValues[blocks[b].qs[j] & 0xf]);
      dst[j + 16] = d * static_cast<float>(kIq4nlValues[blocks[b].qs[j] >> 4]);
    }
  }
}

}  // namespace ingot::quant::kernels
