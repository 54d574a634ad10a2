// Scalar reference dot products of the float types (activation in F32) and of the 32-element
// formats against Q8_0 / Q8_1 activations. Integer sums per block, one float multiply-add per
// block. The AVX2 variants are checked against these.
#include "core/half.h"
#include "quant/blocks.h"
#include "quant/kernels.h"

#include <cstring>

namespace ingot::quant::kernels {

float dot_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

float dot_f16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += f16_to_f32(x[i]) * y[i];
  return sum;
}

float dot_bf16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += bf16_to_f32(x[i]) * y[i];
  return sum;
}

namespace {

// Sum over one block of weight levels (signed, 32 of them) times Q8 activation values.
int block_sum(const int* levels, const int8_t* activations) {
  int sum = 0;
  for (int j = 0; j < 32; ++j) sum += levels[j] * activations[j];
  return sum;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void nibbles(const uint8_t* qs, int offset, int* levels) {
  for (int j = 0; j < 16; ++j) {
    levels[j] = (qs[j] & 0xf) - offset;
    levels[j + 16] = (qs[j] >> 4) - offset;
  }
}

void nibbles_5bit(const uint8_t* qs, const uint8_t* qh_bytes, int offset, int* levels) {
  const uint32_t qh = load_u32(qh_bytes);
  for (int j = 0; j < 16; ++j) {
    levels[j] = ((qs[j] & 0xf) | static_cast<int>(((qh >> j) & 1u) << 4)) - offset;
    levels[j + 16] = ((qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4)) - offset;
  }
}

}  // namespace

float dot_q4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    int levels[32];
    nibbles(x[b].qs, 8, levels);
    sum += static_cast<float>(block_sum(levels, y[b].qs)) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
  }
  return sum;
}

float dot_q4_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    int levels[32];
    nibbles(x[b].qs, 0, levels);
    sum += static_cast<float>(block_sum(levels, y[b].qs)) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d)) +
           f16_to_f32(x[b].m) * f16_to_f32(y[b].s);
  }
  return sum;
}

float dot_q5_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    int levels[32];
    nibbles_5bit(x[b].qs, x[b].qh, 16, levels);
    sum += static_cast<float>(block_sum(levels, y[b].qs)) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
  }
  return sum;
}

float dot_q5_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    int levels[32];
    nibbles_5bit(x[b].qs, x[b].qh, 0, levels);
    sum += static_cast<float>(block_sum(levels, y[b].qs)) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d)) +
           f16_to_f32(x[b].m) * f16_to_f32(y[b].s);
  }
  return sum;
}

float dot_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    int s = 0;
    for (int j = 0; j < 32; ++j) s += x[b].qs[j] * y[b].qs[j];
    sum += static_cast<float>(s) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
  }
  return sum;
}

float dot_mxfp4(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockMXFP4*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    int levels[32];
    for (int j = 0; j < 16; ++j) {
      levels[j] = kMxfp4Values[x[b].qs[j] & 0xf];
      levels[j + 16] = kMxfp4Values[x[b].qs[j] >> 4];
    }
    sum += static_cast<float>(block_sum(levels, y[b].qs)) * (e8m0_to_f32_half(x[b].e) * f16_to_f32(y[b].d));
  }
  return sum;
}

float dot_iq4_nl(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kBlock32; ++b) {
    int levels[32];
    for (int j = 0; j < 16; ++j) {
      levels[j] = kIq4nlValues[x[b].qs[j] & 0xf];
      levels[j + 16] = kIq4nlValues[x[b].qs[j] >> 4];
    }
    sum += static_cast<float>(block_sum(levels, y[b].qs)) * (f16_to_f32(x[b].d) * f16_to_f32(y[b].d));
  }
  return sum;
}

}  // namespace ingot::quant::kernels
