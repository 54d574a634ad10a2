// Portable quantizer and dot product of act_q8_16.h (the AVX2 ones are in quant_tiles_avx2.cpp).
#include "backend/cpu/act_q8_16.h"

#include "core/half.h"
#include "quant/blocks.h"

#include <algorithm>
#include <cmath>

namespace ingot::backend::cpu {

void quantize_act_q8_16(const float* x, void* out, int64_t n) {
  auto* blocks = static_cast<ActQ8_16*>(out);
  for (int64_t b = 0; b < n / kActQ8Block; ++b, x += kActQ8Block) {
    for (int half = 0; half < 2; ++half) {
      const float* v = x + 16 * half;
      float amax = 0.0f;
      for (int j = 0; j < 16; ++j) amax = std::max(amax, std::fabs(v[j]));
      const float d = amax / 127;
      const float id = d != 0.0f ? 1.0f / d : 0.0f;
      blocks[b].d[half] = d;
      // |v * id| <= 127 * (1 + 2^-23), so the rounded value is an int8.
      for (int j = 0; j < 16; ++j) blocks[b].qs[16 * half + j] = static_cast<int8_t>(std::round(v[j] * id));
    }
  }
}

float dot_q8_0_act_q8_16(int64_t n, const void* weight_row, const void* activation_row) {
  const auto* w = static_cast<const quant::BlockQ8_0*>(weight_row);
  const auto* a = static_cast<const ActQ8_16*>(activation_row);
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kActQ8Block; ++b) {
    int32_t isum[2] = {0, 0};
    for (int j = 0; j < 32; ++j) isum[j / 16] += static_cast<int32_t>(w[b].qs[j]) * a[b].qs[j];
    const float dw = f16_to_f32(w[b].d);
    sum += dw * a[b].d[0] * static_cast<float>(isum[0]) + dw * a[b].d[1] * static_cast<float>(isum[1]);
  }
  return sum;
}

}  // namespace ingot::backend::cpu
