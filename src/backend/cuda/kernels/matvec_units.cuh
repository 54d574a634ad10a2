// Per-type "units" of the staged decode matmul: Unit<T>::load(tile, u, w) dequantizes the u-th
// unit (kElements consecutive elements) of a row tile held in shared memory into f32 registers.
// A tile starts on a quant-block boundary and holds kTileElements = kThreads * kElements
// elements (kTileBytes, a multiple of 16 so it is filled with 16-byte loads). The hot types
// (Q4_K, Q6_K, Q8_0, F16) read words and convert bytes to floats with the 2^23 trick (one
// byte-permute and one add, no slow int-to-float conversion); the rest reuse dequant.cuh.
// load() values equal dequant.cuh's (and the CPU's) bit for bit. Q8_0, Q4_K and Q6_K also have
// dot(tile, u, x, x_sum) for one token: the block scales are factored out of the sum (Q4_K:
// dl * sum(x q) - ml * sum(x)), three instructions per element instead of five; rounding differs
// from load()+FMA by a few ulps of the unit's sum. Q8_0, Q4_K, Q5_K and Q6_K have
// dot_q8(tile, u, xq) for one token with 8-bit activations (XQ8: the unit's 32 activations
// quantized to int8 with one f32 scale, the q8_1 scheme; made once per call by matvec_xq8.cu or
// per block by quantize_q8): __dp4a over the weight quants, scales applied once per sub-block;
// the error is the activation rounding the CPU's vec_dot also makes.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/cuda/kernels/dequant.cuh"

namespace ingot::cuda::matvec {

constexpr int kThreads = 128;

// Byte b of `word` as an exact float in [0, 256): the bits 0x4B0000bb are 2^23 + bb.
__device__ __forceinline__ float byte_float(uint32_t word, int b) {
  return __int_as_float(__byte_perm(word, 0x4B000000u, 0x7650u + b)) - 8388608.0f;
}
// As byte_float minus `bias`, exact for small bias (one add).
__device__ __forceinline__ float byte_float_minus(uint32_t word, int b, float bias) {
  return __int_as_float(__byte_perm(word, 0x4B000000u, 0x7650u + b)) - (8388608.0f + bias);
}
template <Type T>
struct UnitBase {
  static constexpr int kElements = Dequant<T>::kBlockElements == 1 ? 8 : 32;
  static constexpr int kTileElements = kThreads * kElements;
  static constexpr bool kHasDot = false;     // dot() exists (one-token fast path)
  static constexpr bool kNeedsXSum = false;  // dot() uses the sum of the unit's activations
  static constexpr bool kHasDotQ8 = false;   // dot_q8() exists (one token, 8-bit activations)
};

// A unit's 32 activations quantized to 8 bits: x[i] ~= d * int8 byte i of q (4 per word, little
// endian), d = max|x| / 127; sum_lo / sum_hi are the integer sums of bytes 0..15 / 16..31.
struct XQ8 {
  int q[8];
  float d;
  int sum_lo, sum_hi;
};

// Quantizes 32 floats: one FMNMX per element for max|x|, then round-to-nearest-even by adding
// 1.5 * 2^23 (the integer lands in the low mantissa bits, its low byte is the int8), three byte
// permutes per 4 elements; no float-to-int conversion instructions.
__device__ __forceinline__ XQ8 quantize_q8(const float* x) {
  XQ8 r;
  float amax = 0.0f;
#pragma unroll
  for (int e = 0; e < 32; ++e) amax = fmaxf(amax, fabsf(x[e]));
  r.d = amax / 127.0f;
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    const int b0 = __float_as_int(fmaf(x[4 * j], inv, kMagic));
    const int b1 = __float_as_int(fmaf(x[4 * j + 1], inv, kMagic));
    const int b2 = __float_as_int(fmaf(x[4 * j + 2], inv, kMagic));
    const int b3 = __float_as_int(fmaf(x[4 * j + 3], inv, kMagic));
    r.q[j] = static_cast<int>(__byte_perm(__byte_perm(b0, b1, 0x0040), __byte_perm(b2, b3, 0x0040), 0x5410));
  }
  r.sum_lo = 0, r.sum_hi = 0;
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    r.sum_lo = __dp4a(r.q[j], 0x01010101, r.sum_lo);
    r.sum_hi = __dp4a(r.q[j + 4], 0x01010101, r.sum_hi);
  }
  return r;
}

// Types with no hand-written unit: four dequant.cuh load8 calls (byte loads from shared memory).
template <Type T, int kBlockElements, int kBlockBytes>
struct GenericUnit : UnitBase<T> {
  static constexpr int kTileBytes = UnitBase<T>::kTileElements / kBlockElements * kBlockBytes;
  __device__ static void load(const uint8_t* tile, int u, float* w) {
#pragma unroll
    for (int e = 0; e < 32; e += 8) Dequant<T>::load8(tile, int64_t{u} * 32 + e, w + e);
  }
};

template <Type T>
struct Unit;
template <> struct Unit<Type::Q4_0> : GenericUnit<Type::Q4_0, 32, 18> {};
template <> struct Unit<Type::Q4_1> : GenericUnit<Type::Q4_1, 32, 20> {};
template <> struct Unit<Type::Q5_0> : GenericUnit<Type::Q5_0, 32, 22> {};
template <> struct Unit<Type::Q5_1> : GenericUnit<Type::Q5_1, 32, 24> {};

template <>
struct Unit<Type::F32> : UnitBase<Type::F32> {
  static constexpr int kTileBytes = kTileElements * 4;
  __device__ static void load(const uint8_t* tile, int u, float* w) {
    const auto* p = reinterpret_cast<const float4*>(tile) + 2 * u;
    const float4 a = p[0], b = p[1];
    w[0] = a.x, w[1] = a.y, w[2] = a.z, w[3] = a.w, w[4] = b.x, w[5] = b.y, w[6] = b.z, w[7] = b.w;
  }
};

template <>
struct Unit<Type::F16> : UnitBase<Type::F16> {
  static constexpr int kTileBytes = kTileElements * 2;
  __device__ static void load(const uint8_t* tile, int u, float* w) {
    const uint4 v = reinterpret_cast<const uint4*>(tile)[u];
    const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&words[i]));
      w[2 * i] = f.x;
      w[2 * i + 1] = f.y;
    }
  }
};

template <>
struct Unit<Type::BF16> : UnitBase<Type::BF16> {
  static constexpr int kTileBytes = kTileElements * 2;
  __device__ static void load(const uint8_t* tile, int u, float* w) {
    const uint4 v = reinterpret_cast<const uint4*>(tile)[u];
    const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[2 * i] = __uint_as_float(words[i] << 16);
      w[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
    }
  }
};

// 32 bytes at a 2-aligned shared-memory address `p` as 8 words: 8 or 9 aligned 4-byte loads and
// a funnel shift each, instead of 16 two-byte loads. Reads [p, p + 32) when p is 4-aligned, else
// [p - 2, p + 34): for Q8_0 quants (block + 2) and Q6_K ql/qh runs that stays inside the row
// tile (16-aligned start; a Q8_0 tile's last unit and a Q6_K tile's first block are 4-aligned).
__device__ __forceinline__ void load_32_bytes_a2(const uint8_t* p, uint32_t* words) {
  const unsigned shift = static_cast<unsigned>(reinterpret_cast<uintptr_t>(p) & 2u) * 8u;  // 0 or 16
  const auto* a = reinterpret_cast<const uint32_t*>(p - shift / 8);
  const uint32_t last = a[shift != 0 ? 8 : 7];  // word 8 only when p is not 4-aligned
  uint32_t lo = a[0];
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    const uint32_t hi = j < 7 ? a[j + 1] : last;
    words[j] = __funnelshift_r(lo, hi, shift);
    lo = hi;
  }
}

// Q8_0: one 34-byte block per unit (2-aligned): x = d * q.
template <>
struct Unit<Type::Q8_0> : UnitBase<Type::Q8_0> {
  static constexpr int kTileBytes = kTileElements / 32 * 34;
  // The unit's scale, and its 32 signed quants as 8 words.
  __device__ static float unpack(const uint8_t* tile, int u, uint32_t* words) {
    const uint8_t* block = tile + u * 34;
    load_32_bytes_a2(block + 2, words);
    return f16_bits(*reinterpret_cast<const uint16_t*>(block));
  }
  __device__ static void load(const uint8_t* tile, int u, float* w) {
    uint32_t words[8];
    const float d = unpack(tile, u, words);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint32_t q = words[j] ^ 0x80808080u;  // biased to unsigned
#pragma unroll
      for (int b = 0; b < 4; ++b) w[4 * j + b] = __fmul_rn(byte_float_minus(q, b, 128.0f), d);
    }
  }
  static constexpr bool kHasDot = true;
  __device__ static float dot(const uint8_t* tile, int u, const float* x, float) {
    uint32_t words[8];
    const float d = unpack(tile, u, words);
    float a = 0.0f, c = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint32_t q = words[j] ^ 0x80808080u;
      a = fmaf(byte_float_minus(q, 0, 128.0f), x[4 * j], a);
      c = fmaf(byte_float_minus(q, 1, 128.0f), x[4 * j + 1], c);
      a = fmaf(byte_float_minus(q, 2, 128.0f), x[4 * j + 2], a);
      c = fmaf(byte_float_minus(q, 3, 128.0f), x[4 * j + 3], c);
    }
    return d * (a + c);
  }
  static constexpr bool kHasDotQ8 = true;
  __device__ static float dot_q8(const uint8_t* tile, int u, const XQ8& x) {
    uint32_t words[8];
    const float d = unpack(tile, u, words);
    int s = 0;
#pragma unroll
    for (int j = 0; j < 8; ++j) s = __dp4a(static_cast<int>(words[j]), x.q[j], s);
    return d * x.d * static_cast<float>(s);
  }
};

// The byte j (0..11) of the three scale words of a Q4_K/Q5_K block.
__device__ __forceinline__ int scale_byte(uint32_t s0, uint32_t s1, uint32_t s2, int j) {
  const uint32_t word = j < 4 ? s0 : (j < 8 ? s1 : s2);
  return static_cast<int>((word >> (8 * (j & 3))) & 0xffu);
}

// Q4_K: one 32-element sub-block per unit; the block (144 bytes) is 16-aligned in the tile, so
// the header (d, dmin, 12 scale bytes) and the 32 quant bytes are three 16-byte loads.
template <>
struct Unit<Type::Q4_K> : UnitBase<Type::Q4_K> {
  static constexpr int kTileBytes = kTileElements / 256 * 144;
  // The scale (d * sc) and min (dmin * m) of sub-block u % 8, and its 32 quant bytes as words.
  __device__ static void unpack(const uint8_t* tile, int u, float& dl, float& ml, uint32_t* words) {
    const int sub = u % 8;
    const uint8_t* block = tile + (u / 8) * 144;
    const uint4 h = *reinterpret_cast<const uint4*>(block);
    const float d = f16_bits(static_cast<uint16_t>(h.x & 0xffffu));
    const float dmin = f16_bits(static_cast<uint16_t>(h.x >> 16));
    int sc, m;
    if (sub < 4) {
      sc = scale_byte(h.y, h.z, h.w, sub) & 63;
      m = scale_byte(h.y, h.z, h.w, sub + 4) & 63;
    } else {
      const int hi = scale_byte(h.y, h.z, h.w, sub + 4);
      sc = (hi & 0xf) | ((scale_byte(h.y, h.z, h.w, sub - 4) >> 6) << 4);
      m = (hi >> 4) | ((scale_byte(h.y, h.z, h.w, sub) >> 6) << 4);
    }
    dl = __fmul_rn(d, static_cast<float>(sc));
    ml = __fmul_rn(dmin, static_cast<float>(m));
    const auto* qs = reinterpret_cast<const uint4*>(block + 16 + 32 * (sub / 2));
    const uint4 q0 = qs[0], q1 = qs[1];
    const int shift = 4 * (sub % 2);
    words[0] = (q0.x >> shift) & 0x0f0f0f0fu, words[1] = (q0.y >> shift) & 0x0f0f0f0fu;
    words[2] = (q0.z >> shift) & 0x0f0f0f0fu, words[3] = (q0.w >> shift) & 0x0f0f0f0fu;
    words[4] = (q1.x >> shift) & 0x0f0f0f0fu, words[5] = (q1.y >> shift) & 0x0f0f0f0fu;
    words[6] = (q1.z >> shift) & 0x0f0f0f0fu, words[7] = (q1.w >> shift) & 0x0f0f0f0fu;
  }
  __device__ static void load(const uint8_t* tile, int u, float* w) {
    float dl, ml;
    uint32_t nib[8];
    unpack(tile, u, dl, ml, nib);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
#pragma unroll
      for (int b = 0; b < 4; ++b) w[4 * j + b] = __fsub_rn(__fmul_rn(dl, byte_float(nib[j], b)), ml);
    }
  }
  static constexpr bool kHasDot = true;
  static constexpr bool kNeedsXSum = true;
  __device__ static float dot(const uint8_t* tile, int u, const float* x, float x_sum) {
    float dl, ml;
    uint32_t nib[8];
    unpack(tile, u, dl, ml, nib);
    float a = 0.0f, c = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      a = fmaf(byte_float(nib[j], 0), x[4 * j], a);
      c = fmaf(byte_float(nib[j], 1), x[4 * j + 1], c);
      a = fmaf(byte_float(nib[j], 2), x[4 * j + 2], a);
      c = fmaf(byte_float(nib[j], 3), x[4 * j + 3], c);
    }
    return fmaf(dl, a + c, -ml * x_sum);
  }
  // sum (dl n - ml) (dx q) = dx (dl sum(n q) - ml sum(q)): nibbles 0..15 are valid int8 bytes.
  static constexpr bool kHasDotQ8 = true;
  __device__ static float dot_q8(const uint8_t* tile, int u, const XQ8& x) {
    float dl, ml;
    uint32_t nib[8];
    unpack(tile, u, dl, ml, nib);
    int s = 0;
#pragma unroll
    for (int j = 0; j < 8; ++j) s = __dp4a(static_cast<int>(nib[j]), x.q[j], s);
    return x.d * fmaf(dl, static_cast<float>(s), -ml * static_cast<float>(x.sum_lo + x.sum_hi));
  }
};

// Q5_K: Q4_K's layout with 32 bytes of fifth bits (bit `sub` of qh[l]) between the header and the
// quants; the block (176 bytes) is 16-aligned in the tile. load() stays dequant.cuh's; dot_q8 is
// Q4_K's with the fifth bit OR-ed in (values 0..31, valid int8 bytes).
template <>
struct Unit<Type::Q5_K> : GenericUnit<Type::Q5_K, 256, 176> {
  static constexpr bool kHasDotQ8 = true;
  __device__ static float dot_q8(const uint8_t* tile, int u, const XQ8& x) {
    const int sub = u % 8;
    const uint8_t* block = tile + (u / 8) * 176;
    const uint4 h = *reinterpret_cast<const uint4*>(block);
    const float d = f16_bits(static_cast<uint16_t>(h.x & 0xffffu));
    const float dmin = f16_bits(static_cast<uint16_t>(h.x >> 16));
    int sc, m;
    if (sub < 4) {
      sc = scale_byte(h.y, h.z, h.w, sub) & 63;
      m = scale_byte(h.y, h.z, h.w, sub + 4) & 63;
    } else {
      const int hi = scale_byte(h.y, h.z, h.w, sub + 4);
      sc = (hi & 0xf) | ((scale_byte(h.y, h.z, h.w, sub - 4) >> 6) << 4);
      m = (hi >> 4) | ((scale_byte(h.y, h.z, h.w, sub) >> 6) << 4);
    }
    const float dl = __fmul_rn(d, static_cast<float>(sc));
    const float ml = __fmul_rn(dmin, static_cast<float>(m));
    const auto* qh = reinterpret_cast<const uint4*>(block + 16);
    const auto* qs = reinterpret_cast<const uint4*>(block + 48 + 32 * (sub / 2));
    const uint4 h0 = qh[0], h1 = qh[1], q0 = qs[0], q1 = qs[1];
    const uint32_t hw[8] = {h0.x, h0.y, h0.z, h0.w, h1.x, h1.y, h1.z, h1.w};
    const uint32_t qw[8] = {q0.x, q0.y, q0.z, q0.w, q1.x, q1.y, q1.z, q1.w};
    const int shift = 4 * (sub % 2);
    int s = 0;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint32_t v = ((qw[j] >> shift) & 0x0f0f0f0fu) | (((hw[j] >> sub) & 0x01010101u) << 4);
      s = __dp4a(static_cast<int>(v), x.q[j], s);
    }
    return x.d * fmaf(dl, static_cast<float>(s), -ml * static_cast<float>(x.sum_lo + x.sum_hi));
  }
};

// Q6_K: one 32-element quarter-half per unit; the block (210 bytes) is only 2-aligned, so
// words are assembled by funnel shifts of aligned words. x = (d * scale) * (q - 32).
template <>
struct Unit<Type::Q6_K> : UnitBase<Type::Q6_K> {
  static constexpr int kTileBytes = kTileElements / 256 * 210;
  // The unit's super-block scale d, its two 16-element scales, and its 32 quants (0..63) as
  // 8 words of 4 bytes.
  struct Unpacked {
    float d;
    int sc0, sc1;
    uint32_t q[8];
  };
  __device__ static Unpacked unpack(const uint8_t* tile, int u) {
    const int sub = u % 8, half = sub / 4, quarter = sub % 4;
    const uint8_t* block = tile + (u / 8) * 210;
    Unpacked r;
    r.d = f16_bits(*reinterpret_cast<const uint16_t*>(block + 208));
    const auto* scales = reinterpret_cast<const int8_t*>(block + 192 + 2 * sub);
    r.sc0 = scales[0], r.sc1 = scales[1];
    uint32_t lw[8], hw[8];
    load_32_bytes_a2(block + 64 * half + 32 * (quarter % 2), lw);
    load_32_bytes_a2(block + 128 + 32 * half, hw);
    const int low_shift = 4 * (quarter / 2), high_shift = 2 * quarter;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      r.q[j] = ((lw[j] >> low_shift) & 0x0f0f0f0fu) | (((hw[j] >> high_shift) & 0x03030303u) << 4);
    }
    return r;
  }
  __device__ static void load(const uint8_t* tile, int u, float* w) {
    const Unpacked p = unpack(tile, u);
    const float dl0 = __fmul_rn(p.d, static_cast<float>(p.sc0));
    const float dl1 = __fmul_rn(p.d, static_cast<float>(p.sc1));
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const float dl = j < 4 ? dl0 : dl1;
#pragma unroll
      for (int b = 0; b < 4; ++b) w[4 * j + b] = __fmul_rn(dl, byte_float_minus(p.q[j], b, 32.0f));
    }
  }
  static constexpr bool kHasDot = true;
  __device__ static float dot(const uint8_t* tile, int u, const float* x, float) {
    const Unpacked p = unpack(tile, u);
    float s[2] = {0.0f, 0.0f};
#pragma unroll
    for (int j = 0; j < 8; ++j) {
#pragma unroll
      for (int b = 0; b < 4; ++b) s[j / 4] = fmaf(byte_float_minus(p.q[j], b, 32.0f), x[4 * j + b], s[j / 4]);
    }
    return p.d * (static_cast<float>(p.sc0) * s[0] + static_cast<float>(p.sc1) * s[1]);
  }  // sum (d sc) (q - 32) (dx xq) per 16-element half = d dx sc (sum(q xq) - 32 sum(xq)), in ints.
  static constexpr bool kHasDotQ8 = true;
  __device__ static float dot_q8(const uint8_t* tile, int u, const XQ8& x) {
    const Unpacked p = unpack(tile, u);
    int s[2] = {0, 0};
#pragma unroll
    for (int j = 0; j < 8; ++j) s[j / 4] = __dp4a(static_cast<int>(p.q[j]), x.q[j], s[j / 4]);  // q in 0..63
    const int total = p.sc0 * (s[0] - 32 * x.sum_lo) + p.sc1 * (s[1] - 32 * x.sum_hi);
    return p.d * x.d * static_cast<float>(total);
  }
};

}  // namespace ingot::cuda::matvec
