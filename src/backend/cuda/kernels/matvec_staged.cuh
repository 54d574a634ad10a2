// The staged decode matmul, instantiated per weight type by matvec_{float,quant,kquant}.cu.
// A block of 128 threads owns kRows consecutive weight rows and walks them in tiles of
// kThreads * unit elements: the tile's bytes of all kRows rows are read with 16-byte loads,
// consecutive threads on consecutive 16 bytes (coalesced, each weight byte read from memory
// once), into registers one tile ahead, then through shared memory to the thread that owns
// each unit, which dequantizes it in registers (matvec_units.cuh) and multiplies it with every
// token's f32 activations (16-byte loads; for one token they stay in registers across rows).
// For one token and Q4_K/Q5_K/Q6_K/Q8_0 weights the activations are instead 8-bit per
// 32-element unit, quantized once per call by launch_quantize_x_q8 (or, without workspace, per
// tile in registers), and dotted with __dp4a. One launch can cover up to three weights of one
// type (segments: Q/K/V) or, gated, the gate and up rows of a SwiGLU with silu(g)*u written.
// Cost per call: weight bytes + n_tokens * k * 4 activation bytes per block (from L1/L2; k * 1.25
// for the one-token 8-bit activations).
#pragma once

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/matvec.cuh"
#include "backend/cuda/kernels/matvec_units.cuh"

namespace ingot::cuda::matvec {

constexpr int kMaxTokens = static_cast<int>(kMatvecMaxTokens);

template <int kElements>
__device__ __forceinline__ void load_x(const float* x, float* v) {
  const auto* p = reinterpret_cast<const float4*>(x);
#pragma unroll
  for (int i = 0; i < kElements / 4; ++i) {
    const float4 f = p[i];
    v[4 * i] = f.x, v[4 * i + 1] = f.y, v[4 * i + 2] = f.z, v[4 * i + 3] = f.w;
  }
}

template <int kElements>
__device__ __forceinline__ float dot(const float* w, const float* x) {
  float a = 0.0f, b = 0.0f;
#pragma unroll
  for (int e = 0; e < kElements; e += 2) {
    a = fmaf(w[e], x[e], a);
    b = fmaf(w[e + 1], x[e + 1], b);
  }
  return a + b;
}

// The unit of activations starting at element e0 from the layout launch_quantize_x_q8 writes.
__device__ __forceinline__ XQ8 load_xq8(const uint8_t* xq, int64_t k, int64_t e0) {
  const auto* q = reinterpret_cast<const uint4*>(xq + e0);
  const uint4 q0 = __ldg(q), q1 = __ldg(q + 1);
  const int2 m = __ldg(reinterpret_cast<const int2*>(xq + k) + e0 / 32);
  XQ8 r;
  r.q[0] = static_cast<int>(q0.x), r.q[1] = static_cast<int>(q0.y);
  r.q[2] = static_cast<int>(q0.z), r.q[3] = static_cast<int>(q0.w);
  r.q[4] = static_cast<int>(q1.x), r.q[5] = static_cast<int>(q1.y);
  r.q[6] = static_cast<int>(q1.z), r.q[7] = static_cast<int>(q1.w);
  r.d = __int_as_float(m.x);
  r.sum_lo = static_cast<int16_t>(m.y & 0xffff);
  r.sum_hi = m.y >> 16;
  return r;
}

// The weights a block reads: its segment's rows (the first block of the segment at row 0) or,
// gated, the same rows of the gate and the up weight.
struct BlockRows {
  const uint8_t* w;  // first row of the block
  const uint8_t* w_up;
  size_t w_stride;
  int64_t row0;  // first output row
  int n_rows;    // output rows
  const float* bias;
  float* out;
  size_t out_stride;
};

template <int kOutRows, bool kGated>
__device__ __forceinline__ BlockRows block_rows(const MatvecArgs& a) {
  int64_t block = blockIdx.x;
  BlockRows b{a.w, a.w_up, a.w_stride, 0, 0, a.bias, a.out, a.out_stride};
  int64_t n_out = a.n_out;
  if constexpr (!kGated) {
    int64_t blocks = (n_out + kOutRows - 1) / kOutRows;
    for (int s = 0; s < a.n_more && block >= blocks; ++s) {
      block -= blocks;
      const MatvecArgs::Segment& m = a.more[s];
      b.w = m.w, b.w_stride = m.w_stride, b.bias = m.bias, b.out = m.out, b.out_stride = m.out_stride;
      n_out = m.n_out;
      blocks = (n_out + kOutRows - 1) / kOutRows;
    }
  }
  b.row0 = block * kOutRows;
  b.n_rows = static_cast<int>(min(int64_t{kOutRows}, n_out - b.row0));
  b.w += static_cast<size_t>(b.row0) * b.w_stride;
  if constexpr (kGated) b.w_up += static_cast<size_t>(b.row0) * b.w_stride;
  return b;
}

// kRows weight rows per block: kRows output rows, or gated kRows / 2 output rows whose gate and
// up rows the block reads together.
template <Type T, int kRows, int kTokens, bool kQ8, bool kXq, bool kGated>
__global__ void __launch_bounds__(kThreads) matvec_staged_kernel(const MatvecArgs a) {
  using U = Unit<T>;
  static_assert(U::kTileBytes % 16 == 0, "tiles are filled with 16-byte loads");
  static_assert(!kGated || kRows % 2 == 0, "gated blocks read pairs of rows");
  constexpr int kE = U::kElements;
  constexpr int kOutRows = kGated ? kRows / 2 : kRows;
  constexpr int kChunksPerRow = U::kTileBytes / 16;
  constexpr int kChunks = kRows * kChunksPerRow;
  constexpr int kPerThread = (kChunks + kThreads - 1) / kThreads;
  __shared__ uint4 tile[kChunks];
  __shared__ float partial[kThreads / 32][kRows * kTokens];

  const int tid = threadIdx.x;
  const BlockRows b = block_rows<kOutRows, kGated>(a);
  const int n_rows = b.n_rows;
  const int64_t row_chunks = a.row_bytes / 16;
  const int64_t n_tiles = (a.k + U::kTileElements - 1) / U::kTileElements;
  // Tile row r holds weight row r (gated: gate row r, then up row r - kOutRows).
  auto row_valid = [&](int r) { return r % kOutRows < n_rows; };
  auto row_ptr = [&](int r) {
    return kGated && r >= kOutRows ? b.w_up + static_cast<size_t>(r - kOutRows) * b.w_stride
                                   : b.w + static_cast<size_t>(r) * b.w_stride;
  };

  uint4 next[kPerThread];
  auto fetch = [&](int64_t t) {
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int c = tid + i * kThreads;
      const int r = c / kChunksPerRow;
      const int64_t chunk = t * kChunksPerRow + c % kChunksPerRow;
      if (c < kChunks && row_valid(r) && chunk < row_chunks) {
        const auto* row = reinterpret_cast<const uint4*>(row_ptr(r));
        next[i] = __ldg(row + chunk);
      } else {
        next[i] = make_uint4(0, 0, 0, 0);
      }
    }
  };

  float acc[kRows][kTokens];
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
#pragma unroll
    for (int t = 0; t < kTokens; ++t) acc[r][t] = 0.0f;
  }

  fetch(0);
  for (int64_t t = 0; t < n_tiles; ++t) {
    if (t > 0) __syncthreads();  // every thread is done with the previous tile
#pragma unroll
    for (int i = 0; i < kPerThread; ++i) {
      const int c = tid + i * kThreads;
      if (c < kChunks) tile[c] = next[i];
    }
    __syncthreads();
    if (t + 1 < n_tiles) fetch(t + 1);  // in flight while this tile is computed
    const int64_t e0 = t * U::kTileElements + int64_t{tid} * kE;
    if (e0 >= a.k) continue;
    if constexpr (kQ8) {
      // One token, 8-bit activations: the thread's 32 activations, quantized once per call
      // (kXq: read from a.xq) or once per tile in registers (shared by the block's kRows rows),
      // then each row's unit is an integer dot product.
      XQ8 xq;
      if constexpr (kXq) {
        xq = load_xq8(a.xq, a.k, e0);
      } else {
        float xv[kE];
        load_x<kE>(a.x + e0, xv);
        xq = quantize_q8(xv);
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        if (row_valid(r)) {
          acc[r][0] += U::dot_q8(reinterpret_cast<const uint8_t*>(tile + r * kChunksPerRow), tid, xq);
        }
      }
    } else if constexpr (kTokens == 1) {
      float xv[kE];
      load_x<kE>(a.x + e0, xv);
      float x_sum = 0.0f;
      if constexpr (U::kNeedsXSum) {
#pragma unroll
        for (int e = 0; e < kE; ++e) x_sum += xv[e];
      }
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        if (row_valid(r)) {
          const auto* row_tile = reinterpret_cast<const uint8_t*>(tile + r * kChunksPerRow);
          if constexpr (U::kHasDot) {
            acc[r][0] += U::dot(row_tile, tid, xv, x_sum);
          } else {
            float wv[kE];
            U::load(row_tile, tid, wv);
            acc[r][0] += dot<kE>(wv, xv);
          }
        }
      }
    } else {
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        if (row_valid(r)) {
          float wv[kE];
          U::load(reinterpret_cast<const uint8_t*>(tile + r * kChunksPerRow), tid, wv);
#pragma unroll
          for (int tok = 0; tok < kTokens; ++tok) {
            if (tok < a.n_tokens) {
              float xv[kE];
              load_x<kE>(a.x + tok * a.x_stride + e0, xv);
              acc[r][tok] += dot<kE>(wv, xv);
            }
          }
        }
      }
    }
  }

  const int lane = tid % 32, warp = tid / 32;
#pragma unroll
  for (int r = 0; r < kRows; ++r) {
#pragma unroll
    for (int t = 0; t < kTokens; ++t) {
      const float s = warp_sum(acc[r][t]);
      if (lane == 0) partial[warp][r * kTokens + t] = s;
    }
  }
  __syncthreads();
  if (tid < kOutRows * kTokens) {
    const int r = tid / kTokens, t = tid % kTokens;
    if (r < n_rows && t < a.n_tokens) {
      float s = 0.0f;
#pragma unroll
      for (int wi = 0; wi < kThreads / 32; ++wi) s += partial[wi][tid];
      const int64_t row = b.row0 + r;
      if constexpr (kGated) {
        float u = 0.0f;  // up row r sits kOutRows rows after gate row r
#pragma unroll
        for (int wi = 0; wi < kThreads / 32; ++wi) u += partial[wi][kOutRows * kTokens + tid];
        s = __fmul_rn(s / (1.0f + expf(-s)), u);  // swiglu.cu's formula
      } else if (b.bias != nullptr) {
        s += b.bias[row];
      }
      b.out[t * b.out_stride + row] = s;
    }
  }
}

// Blocks of one launch: gated, one per kRows / 2 output rows; else one per kRows rows of each
// segment.
template <int kRows, bool kGated>
unsigned launch_blocks(const MatvecArgs& a) {
  if constexpr (kGated) return static_cast<unsigned>((a.n_out + kRows / 2 - 1) / (kRows / 2));
  int64_t blocks = (a.n_out + kRows - 1) / kRows;
  for (int s = 0; s < a.n_more; ++s) blocks += (a.more[s].n_out + kRows - 1) / kRows;
  return static_cast<unsigned>(blocks);
}

template <Type T, int kRows, int kTokens, bool kQ8 = false, bool kXq = false, bool kGated = false>
void launch_staged(const MatvecArgs& a, cudaStream_t stream) {
  matvec_staged_kernel<T, kRows, kTokens, kQ8, kXq, kGated>
      <<<launch_blocks<kRows, kGated>(a), kThreads, 0, stream>>>(a);
}

// Output rows of one launch (all segments), for the rows-per-block choice.
inline int64_t launch_rows(const MatvecArgs& a) {
  int64_t n = a.n_out;
  for (int s = 0; s < a.n_more; ++s) n += a.more[s].n_out;
  return n;
}

// The one launch-shape choice: one token with 4 or 2 rows per block (8-bit activations where
// the type has dot_q8 and a.q8_activations: read from a.xq when set, else quantized per
// block), else 2 rows x 8 tokens. Gated launches read 4 rows (2 gate + 2 up) per block for one
// token, 2 for several.
template <Type T, bool kGated>
void launch_staged_shape(const MatvecArgs& a, cudaStream_t stream) {
  const bool four = kGated || launch_rows(a) >= a.four_rows_min_out;
  if (a.n_tokens == 1) {
    if constexpr (Unit<T>::kHasDotQ8) {
      if (a.q8_activations && a.xq != nullptr) {
        if (four) {
          launch_staged<T, 4, 1, true, true, kGated>(a, stream);
        } else {
          launch_staged<T, 2, 1, true, true, kGated>(a, stream);
        }
        return;
      }
      if (a.q8_activations) {
        if (four) {
          launch_staged<T, 4, 1, true, false, kGated>(a, stream);
        } else {
          launch_staged<T, 2, 1, true, false, kGated>(a, stream);
        }
        return;
      }
    }
    if (four) {
      launch_staged<T, 4, 1, false, false, kGated>(a, stream);
    } else {
      launch_staged<T, 2, 1, false, false, kGated>(a, stream);
    }
  } else {
    launch_staged<T, 2, kMaxTokens, false, false, kGated>(a, stream);
  }
}

template <Type T>
void launch_staged(const MatvecArgs& a, cudaStream_t stream) {
  if (a.w_up != nullptr) {
    launch_staged_shape<T, true>(a, stream);
  } else {
    launch_staged_shape<T, false>(a, stream);
  }
  check_last_launch("matvec_staged_kernel");
}

}  // namespace ingot::cuda::matvec
