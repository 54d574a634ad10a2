// Dequantization of the 256-element super-block formats (K-quants, Q8_K, IQ4_XS). Multiplies
// are grouped as in ggml ((d * sub-block scale) * q - d_min * min), so results are
// bit-identical to llama.cpp's.
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

namespace ingot::quant::kernels {

void dequantize_q2_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ2_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    const float dmin = f16_to_f32(block.dmin);
    // Element 128 h + 32 s + l (h half, s shift step, l < 32) sits at bits 2 s of qs[32 h + l];
    // its sub-block is (128 h + 32 s + l) / 16.
    for (int e = 0; e < kSuperBlock; ++e) {
      const int half = e / 128, shift = (e % 128) / 32, l = e % 32;
      const uint8_t sc = block.scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0xf);
      const float ml = dmin * static_cast<float>(sc >> 4);
      const int q = (block.qs[32 * half + l] >> (2 * shift)) & 3;
      *dst++ = dl * static_cast<float>(q) - ml;
    }
  }
}

void dequantize_q3_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ3_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    int8_t scales[16];
    unpack_q3_k_scales(block.scales, scales);
    // Element e = 128 h + 32 s + l: low bits at 2 s of qs[32 h + l], high bit (4 h + s) of
    // hmask[l].
    for (int e = 0; e < kSuperBlock; ++e) {
      const int half = e / 128, shift = (e % 128) / 32, l = e % 32;
      const float dl = d * static_cast<float>(scales[e / 16]);
      const int low = (block.qs[32 * half + l] >> (2 * shift)) & 3;
      const int high = (block.hmask[l] >> (4 * half + shift)) & 1;
      *dst++ = dl * static_cast<float>(low - (high ? 0 : 4));
    }
  }
}

void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(src);
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ4_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    const float dmin = f16_to_f32(block.dmin);
    for (int sub = 0; sub < 8; ++sub) {
      uint8_t sc, m;
      scale_min_k4(sub, block.scales, sc, m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      const uint8_t* q = block.qs + 32 * (sub / 2);
      const int shift = 4 * (sub % 2);
      for (int l = 0; l < 32; ++l) *dst++ = dl * static_cast<float>((q[l] >> shift) & 0xf) - ml;
    }
  }
}

void dequantize_q5_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(src);
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ5_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    const float dmin = f16_to_f32(block.dmin);
    for (int sub = 0; sub < 8; ++sub) {
      uint8_t sc, m;
      scale_min_k4(sub, block.scales, sc, m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      const uint8_t* q = block.qs + 32 * (sub / 2);
      const int shift = 4 * (sub % 2);
      for (int l = 0; l < 32; ++l) {
        const int value = ((q[l] >> shift) & 0xf) + (((block.qh[l] >> sub) & 1) ? 16 : 0);
        *dst++ = dl * static_cast<float>(value) - ml;
      }
    }
  }
}

void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockQ6_K& block = blocks[b];
    const float d = f16_to_f32(block.d);
    // Element e = 128 h + 32 k + l: low nibble from ql[64 h + 32 (k % 2) + l] (high nibble when
    // k >= 2), high two bits at 2 k of qh[32 h + l]; sub-block e / 16.
    for (int e = 0; e < kSuperBlock; ++e) {
      const int half = e / 128, k = (e % 128) / 32, l = e % 32;
      const uint8_t low_byte = block.ql[64 * half + 32 * (k % 2) + l];
      const int low = k < 2 ? low_byte & 0xf : low_byte >> 4;
      const int high = (block.qh[32 * half + l] >> (2 * k)) & 3;
      const int q = (low | (high << 4)) - 32;
      *dst++ = d * static_cast<float>(block.scales[e / 16]) * static_cast<float>(q);
    }
  }
}

void dequantize_q8_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_K*>(src);
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    for (int j = 0; j < kSuperBlock; ++j) *dst++ = blocks[b].d * static_cast<float>(blocks[b].qs[j]);
  }
}

void dequantize_iq4_xs(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t b = 0; b < n / kSuperBlock; ++b) {
    const BlockIQ4_XS& block = blocks[b];
    const float d = f16_to_f32(block.d);
    for (int sub = 0; sub < 8; ++sub) {
      const int scale = ((block.scales_l[sub / 2] >> (4 * (sub % 2))) & 0xf) |
                        (((block.scales_h >> (2 * sub)) & 3) << 4);
      const float dl = d * static_cast<float>(scale - 32);
      const uint8_t* q = block.qs + 16 * sub;
      for (int j = 0; j < 16; ++j) {
        dst[j] = dl * static_cast<float>(kIq4nlValues[q[j] & 0xf]);
        dst[j + 16] = dl * static_cast<float>(kIq4nlValues[q[j] >> 4]);
      }
      dst += 32;
    }
  }
}

}  // namespace ingot::quant::kernels
