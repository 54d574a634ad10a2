// Decode attention over the paged KV cache, for batches with one query row per sequence. One CTA
// of 8 warps per (sequence, KV head, split) serves all `group` query heads of that KV head, so
// each K/V row is read from memory once. Per tile of 64 keys, K and V rows are copied through
// the block table into shared memory with 16-byte cp.async, two stages deep (the next tile
// loads while this one is used). A key's row is spread over D / 8 lanes (16 bytes each: 8 halves
// or 4 floats), whose partial dot products with the group's q slices are summed by shuffles; the
// warps take the tile's keys in turn (a short context spreads over all of them). Online softmax
// in f32 (log2 domain) per warp, p * v summed in registers, the warps merged through shared
// memory at the end. Split-K over the key tiles (grid.z) writes the flash kernel's partials
// layout (attention.cuh); a merge kernel that weighs all splits at once (one warp) finishes.
// A split past a row's keys writes an empty partial (l = 0) and exits. Any valid query_start is
// handled (a CTA loops over its sequence's rows, each with its causal limit); bad batch tables
// and block ids are reported in the device error word and give NaN rows.
// Shared memory: 2 stages x 64 keys x (K + V) rows = 64 KB at head_dim 128 (F16).
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/attention.cuh"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/launch_check.h"

namespace ingot::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kThreads = kWarps * 32;
constexpr int kStages = 2;
constexpr int kKeysPerWarp = 8;
constexpr int kTileKeys = kWarps * kKeysPerWarp;  // keys per shared-memory stage
constexpr float kLog2e = 1.4426950408889634f;

constexpr int pow2_at_least(int n) {
  int p = 1;
  while (p < n) p *= 2;
  return p;
}

// Compile-time geometry for pool element T, head_dim D and up to G query heads per KV head.
template <typename T, int D, int G>
struct DecodeShape {
  static constexpr int kElems = 16 / static_cast<int>(sizeof(T));  // elements per 16-byte chunk
  static constexpr int kChunks = D / kElems;                        // chunks per K/V row
  static constexpr int kLanes = pow2_at_least(kChunks);             // lanes per key
  static constexpr int kKeysPerStep = 32 / kLanes;                  // keys per warp step
  static constexpr int kTileSteps = kKeysPerWarp / kKeysPerStep;  // steps per warp and tile
  // Steps per softmax group: all of the warp's keys of a tile where the scores (steps x G) fit
  // in 32 registers, so the dependent chain (dots, shuffles, max, exp2) runs once per tile.
  static constexpr int kSteps = std::min(kTileSteps, std::max(1, 32 / G));
  static constexpr int kGroups = kTileSteps / kSteps;  // softmax groups per warp and tile
  static constexpr int kIssueIters = kTileKeys * kChunks / kThreads;  // 16-byte copies per thread
  static constexpr size_t kStageElems = size_t{kTileKeys} * D;
  static constexpr size_t kKvBytes = 2 * kStages * kStageElems * sizeof(T);
  static constexpr size_t kMergeBytes = size_t{kWarps} * G * (D + 2) * 4;
  static constexpr size_t kBytes = kKvBytes > kMergeBytes ? kKvBytes : kMergeBytes;
  static_assert(D % kElems == 0 && kLanes <= 32 && kKeysPerWarp % kKeysPerStep == 0 &&
                kTileSteps % kSteps == 0 && kTileKeys * kChunks % kThreads == 0);
};

// 16 bytes global -> shared, asynchronously; zero-filled (nothing read) when !valid.
__device__ inline void copy16_async(void* dst, const void* src, bool valid) {
  const auto s = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src),
               "r"(valid ? 16 : 0)
               : "memory");
}
__device__ inline void async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ inline void async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// One 16-byte chunk of shared memory as floats.
template <typename T, int E>
__device__ inline void chunk_floats(const T* p, float (&f)[E]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  if constexpr (sizeof(T) == 2) {
    const unsigned w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      f[2 * i] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] & 0xffffu)));
      f[2 * i + 1] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] >> 16)));
    }
  } else {
    f[0] = __uint_as_float(u.x);
    f[1] = __uint_as_float(u.y);
    f[2] = __uint_as_float(u.z);
    f[3] = __uint_as_float(u.w);
  }
}

// NaN for row t's heads of this KV head (the output, or this split's partial).
__device__ void poison_row(const AttentionArgs& a, const AttentionPartials& p, int64_t t,
                           int kv_head, int split, int head_dim) {
  const int n_heads = a.n_kv_heads * a.group;
  for (int idx = threadIdx.x; idx < a.group * head_dim; idx += blockDim.x) {
    const int h = kv_head * a.group + idx / head_dim, d = idx % head_dim;
    if (p.n_splits > 1) {
      const size_t pr = (static_cast<size_t>(split) * a.n_tokens + t) * n_heads + h;
      p.acc[pr * head_dim + d] = NAN;
      if (d == 0) p.ml[pr * 2] = p.ml[pr * 2 + 1] = NAN;
    } else {
      a.out[t * a.out_stride + static_cast<size_t>(h) * head_dim + d] = NAN;
    }
  }
}

template <typename T, int D, int G>
// Two CTAs per SM where shared memory allows it and G <= 4 keeps the registers at 128.
__global__ void __launch_bounds__(kThreads, G <= 4 && DecodeShape<T, D, G>::kBytes <= 100 * 1024 ? 2 : 1)
    decode_attention_kernel(const AttentionArgs a, const AttentionPartials partials) {
  using S = DecodeShape<T, D, G>;
  constexpr int E = S::kElems;
  extern __shared__ __align__(128) unsigned char smem[];
  T* k_s = reinterpret_cast<T*>(smem);
  T* v_s = k_s + kStages * S::kStageElems;
  // After a row's last tile the stages hold the warps' results: acc [kWarps][G][D], m, l [kWarps][G].
  float* merge_acc = reinterpret_cast<float*>(smem);
  float* merge_m = merge_acc + kWarps * G * D;
  float* merge_l = merge_m + kWarps * G;
  __shared__ int failed;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int slot = lane / S::kLanes, chunk = lane % S::kLanes;  // key within a step, 16-byte chunk
  const bool active = chunk < S::kChunks;
  const int seq = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z;
  const int group = a.group, n_heads = a.n_kv_heads * group, n_splits = partials.n_splits;

  if (threadIdx.x == 0) failed = 0;
  // Split 0 starts at tile 0: its block ids are fetched while the batch tables load.
  const int32_t* table = a.block_table + static_cast<size_t>(seq) * a.table_stride;
  if (split == 0 && threadIdx.x < a.max_blocks && static_cast<int>(threadIdx.x) * a.block_size < kTileKeys) {
    asm volatile("prefetch.global.L1 [%0];\n" ::"l"(table + threadIdx.x));
  }
  const int32_t q_begin = a.query_start[seq], q_end = a.query_start[seq + 1];
  const int32_t context = a.context_len[seq];
  const bool ends_bad = a.query_start[0] != 0 || a.query_start[a.n_seqs] != a.n_tokens;
  const bool seq_bad = q_begin < 0 || q_end < q_begin || q_end > a.n_tokens ||
                       q_end - q_begin > context ||
                       static_cast<int64_t>(context) > a.max_blocks * a.block_size;
  if (ends_bad || seq_bad) {
    if (threadIdx.x == 0 && kv_head == 0 && split == 0) {
      report_error(a.error, kDeviceErrorAttentionBatch, ends_bad ? -1 : seq, ends_bad ? -1 : q_begin);
    }
    if (ends_bad) {  // rows cannot be told apart: CTA `seq` poisons rows seq, seq + n_seqs, ...
      for (int64_t t = seq; t < a.n_tokens; t += a.n_seqs) poison_row(a, partials, t, kv_head, split, D);
    } else {
      const int64_t end = q_end < a.n_tokens ? q_end : a.n_tokens;
      for (int64_t t = q_begin > 0 ? q_begin : 0; t < end; ++t) {
        poison_row(a, partials, t, kv_head, split, D);
      }
    }
    return;
  }

  const int32_t past = context - (q_end - q_begin);  // keys before this step's rows
  const float scale_log2 = a.scale * kLog2e;
  const int bs = a.block_size;
  const bool bs_pow2 = (bs & (bs - 1)) == 0;
  const int bs_shift = __ffs(bs) - 1;
  const auto* k_pool = static_cast<const T*>(a.k_pool);
  const auto* v_pool = static_cast<const T*>(a.v_pool);
  __syncthreads();  // `failed` is cleared

  for (int32_t row = q_begin; row < q_end; ++row) {
    const int32_t limit = past + (row - q_begin) + 1;  // keys this row sees (>= 1)
    const int n_tiles = (limit + kTileKeys - 1) / kTileKeys;
    const int per_split = (n_tiles + n_splits - 1) / n_splits;
    const int t_begin = split * per_split;
    const int t_end = min(n_tiles, t_begin + per_split);
    if (t_begin >= t_end) {  // no keys for this split: an empty partial, skipped by the merge
      if (threadIdx.x < group) {
        const size_t pr = (static_cast<size_t>(split) * a.n_tokens + row) * n_heads +
                          kv_head * group + threadIdx.x;
        partials.ml[pr * 2] = -INFINITY;
        partials.ml[pr * 2 + 1] = 0.0f;
      }
      continue;
    }

    // Copies tile `tile`'s K and V rows into stage `stage` (zeros past the row's keys).
    // The block ids are loaded first, all at once (indices clamped to the row's keys, so every
    // load is in bounds and none waits on another); then the copies.
    const auto issue = [&](int tile, int stage) {
      T* ks = k_s + stage * S::kStageElems;
      T* vs = v_s + stage * S::kStageElems;
      const int32_t key0 = tile * kTileKeys;
      int32_t blocks[S::kIssueIters];
#pragma unroll
      for (int i = 0; i < S::kIssueIters; ++i) {
        const int32_t j = min(key0 + static_cast<int>(threadIdx.x + i * kThreads) / S::kChunks, limit - 1);
        blocks[i] = __ldg(table + (bs_pow2 ? j >> bs_shift : j / bs));
      }
#pragma unroll
      for (int i = 0; i < S::kIssueIters; ++i) {
        const int idx = threadIdx.x + i * kThreads;
        const int key = idx / S::kChunks, c = idx % S::kChunks;
        const int32_t j = key0 + key;
        const int32_t block = blocks[i];
        const T* k_src = k_pool;
        const T* v_src = v_pool;
        bool valid = false;
        if (j < limit) {
          if (block < 0 || block >= a.n_blocks) {
            if (c == 0) {
              report_error(a.error, kDeviceErrorAttentionBlock, block, static_cast<int32_t>(a.n_blocks));
              atomicOr(&failed, 1);
            }
          } else {
            const int32_t offset = bs_pow2 ? j & (bs - 1) : j % bs;
            const int64_t r = a.layer_row0 +
                              (static_cast<int64_t>(block) * bs + offset) * a.n_kv_heads + kv_head;
            k_src = k_pool + static_cast<size_t>(r) * a.pool_stride + c * E;
            v_src = v_pool + static_cast<size_t>(r) * a.pool_stride + c * E;
            valid = true;
          }
        }
        copy16_async(ks + key * D + c * E, k_src, valid);
        copy16_async(vs + key * D + c * E, v_src, valid);
      }
    };
    issue(t_begin, 0);
    async_commit();
    if (t_begin + 1 < t_end) issue(t_begin + 1, 1);
    async_commit();

    // This lane's slices of the group's q rows, in log2 units (heads past `group` are 0).
    float q[G][E];
#pragma unroll
    for (int h = 0; h < G; ++h) {
      // Loads clamped into this row's heads and dims (all issued at once), then zeroed.
      const float* qh = a.q + static_cast<int64_t>(row) * a.q_stride +
                        static_cast<size_t>(kv_head * group + min(h, group - 1)) * D +
                        min(chunk, S::kChunks - 1) * E;
#pragma unroll
      for (int e = 0; e < E; ++e) q[h][e] = qh[e];
#pragma unroll
      for (int e = 0; e < E; ++e) q[h][e] = h < group && active ? q[h][e] * scale_log2 : 0.0f;
    }
    float m[G], l[G], acc[G][E];
#pragma unroll
    for (int h = 0; h < G; ++h) {
      m[h] = -INFINITY;
      l[h] = 0.0f;
#pragma unroll
      for (int e = 0; e < E; ++e) acc[h][e] = 0.0f;
    }

    for (int tile = t_begin; tile < t_end; ++tile) {
      const int stage = (tile - t_begin) % kStages;
      async_wait<1>();  // this tile's copies (all but the newest group) have landed
      __syncthreads();
      const T* ks = k_s + stage * S::kStageElems;
      const T* vs = v_s + stage * S::kStageElems;
#pragma unroll
      for (int g = 0; g < S::kGroups; ++g) {
        // Step i of this warp holds keys (i * kWarps + warp) * kKeysPerStep + slot of the tile:
        // short contexts spread over all warps. Steps past the row's keys are skipped
        // (warp-uniform); the group's first step has a key below the limit.
        const int32_t tile_key0 = tile * kTileKeys;
        if (tile_key0 + (g * S::kSteps * kWarps + warp) * S::kKeysPerStep >= limit) break;
        float p[S::kSteps][G];
#pragma unroll
        for (int s = 0; s < S::kSteps; ++s) {
          const int step_key = ((g * S::kSteps + s) * kWarps + warp) * S::kKeysPerStep;
          if (tile_key0 + step_key >= limit) {
#pragma unroll
            for (int h = 0; h < G; ++h) p[s][h] = -INFINITY;
            continue;
          }
          float kf[E];
          if (active) {
            chunk_floats<T, E>(ks + (step_key + slot) * D + chunk * E, kf);
          } else {
#pragma unroll
            for (int e = 0; e < E; ++e) kf[e] = 0.0f;
          }
#pragma unroll
          for (int h = 0; h < G; ++h) {
            float dot = 0.0f;
#pragma unroll
            for (int e = 0; e < E; ++e) dot = fmaf(q[h][e], kf[e], dot);
#pragma unroll
            for (int off = S::kLanes / 2; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
            p[s][h] = tile_key0 + step_key + slot < limit ? dot : -INFINITY;
          }
        }
#pragma unroll
        for (int h = 0; h < G; ++h) {
          float top = p[0][h];
#pragma unroll
          for (int s = 1; s < S::kSteps; ++s) top = fmaxf(top, p[s][h]);
#pragma unroll
          for (int off = S::kLanes; off < 32; off <<= 1) top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, off));
          // `top` is finite: slot 0 of the group's first step is below the limit.
          const float new_m = fmaxf(m[h], top);
          const float alpha = exp2f(m[h] - new_m);  // 0 while m is -inf
          m[h] = new_m;
          l[h] *= alpha;
#pragma unroll
          for (int e = 0; e < E; ++e) acc[h][e] *= alpha;
#pragma unroll
          for (int s = 0; s < S::kSteps; ++s) {
            p[s][h] = exp2f(p[s][h] - new_m);
            l[h] += p[s][h];
          }
        }
#pragma unroll
        for (int s = 0; s < S::kSteps; ++s) {
          const int step_key = ((g * S::kSteps + s) * kWarps + warp) * S::kKeysPerStep;
          if (tile_key0 + step_key >= limit) break;
          float vf[E];
          if (active) {
            chunk_floats<T, E>(vs + (step_key + slot) * D + chunk * E, vf);
          } else {
#pragma unroll
            for (int e = 0; e < E; ++e) vf[e] = 0.0f;
          }
#pragma unroll
          for (int h = 0; h < G; ++h) {
#pragma unroll
            for (int e = 0; e < E; ++e) acc[h][e] = fmaf(p[s][h], vf[e], acc[h][e]);
          }
        }
      }
      __syncthreads();  // every warp is done with this stage before it is refilled
      if (tile + kStages < t_end) issue(tile + kStages, stage);
      async_commit();
    }
    async_wait<0>();

    // Sum l and acc over the key slots of the warp (m is warp-uniform), then over the warps.
#pragma unroll
    for (int off = S::kLanes; off < 32; off <<= 1) {
#pragma unroll
      for (int h = 0; h < G; ++h) {
        l[h] += __shfl_xor_sync(0xffffffffu, l[h], off);
#pragma unroll
        for (int e = 0; e < E; ++e) acc[h][e] += __shfl_xor_sync(0xffffffffu, acc[h][e], off);
      }
    }
    if (slot == 0 && active) {
#pragma unroll
      for (int h = 0; h < G; ++h) {
#pragma unroll
        for (int e = 0; e < E; ++e) merge_acc[(warp * G + h) * D + chunk * E + e] = acc[h][e];
      }
    }
    if (lane == 0) {
#pragma unroll
      for (int h = 0; h < G; ++h) {
        merge_m[warp * G + h] = m[h];
        merge_l[warp * G + h] = l[h];
      }
    }
    __syncthreads();
    const bool bad_block = failed != 0;
    for (int idx = threadIdx.x; idx < group * D; idx += kThreads) {
      const int h = idx / D, d = idx % D;
      float top = -INFINITY;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) top = fmaxf(top, merge_m[w * G + h]);
      float sum_l = 0.0f, sum_acc = 0.0f;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        const float mw = merge_m[w * G + h];
        if (mw == -INFINITY) continue;  // a warp that saw no key
        const float f = exp2f(mw - top);
        sum_l += merge_l[w * G + h] * f;
        sum_acc += merge_acc[(w * G + h) * D + d] * f;
      }
      const int head = kv_head * group + h;
      if (n_splits > 1) {
        const size_t pr = (static_cast<size_t>(split) * a.n_tokens + row) * n_heads + head;
        partials.acc[pr * D + d] = bad_block ? NAN : sum_acc;
        if (d == 0) {
          partials.ml[pr * 2] = bad_block ? NAN : top;
          partials.ml[pr * 2 + 1] = bad_block ? NAN : sum_l;
        }
      } else {
        a.out[static_cast<int64_t>(row) * a.out_stride + static_cast<size_t>(head) * D + d] =
            bad_block ? NAN : sum_acc / sum_l;
      }
    }
    __syncthreads();  // the merge area is the next row's stage 0
  }
}

constexpr int kMaxMergeSplits = 32;

// out[t, h] from the splits' partials, block per (token, head): warp 0 weighs the splits
// (2^(m_z - max) for splits with l_z > 0; a NaN partial makes the row NaN), then threads over
// head_dim sum the weighted acc rows (loads of all splits in flight at once).
__global__ void decode_merge_kernel(const AttentionPartials p, int64_t n_tokens, int n_heads,
                                    int head_dim, float* out, size_t out_stride) {
  __shared__ float weight[kMaxMergeSplits];
  __shared__ float inverse;
  const int64_t t = blockIdx.x;
  const int h = blockIdx.y;
  if (threadIdx.x < 32) {
    const int z = threadIdx.x;
    float m = -INFINITY, l = 0.0f;
    if (z < p.n_splits) {
      const size_t pr = (static_cast<size_t>(z) * n_tokens + t) * n_heads + h;
      m = p.ml[pr * 2];
      l = p.ml[pr * 2 + 1];
    }
    const bool nan = isnan(m) || isnan(l);
    const bool live = !nan && l > 0.0f;
    const float top = warp_max(live ? m : -INFINITY);
    const float w = live ? exp2f(m - top) : 0.0f;
    const float denominator = warp_sum(w * l);
    const bool any_nan = __any_sync(0xffffffffu, nan);
    weight[z] = w;
    if (z == 0) inverse = any_nan || !(denominator > 0.0f) ? NAN : 1.0f / denominator;
  }
  __syncthreads();
  constexpr int kBatch = 8;  // splits whose acc loads are in flight together
  const size_t split_stride = static_cast<size_t>(n_tokens) * n_heads * head_dim;
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    const float* a0 = p.acc + (static_cast<size_t>(t) * n_heads + h) * head_dim + d;
    float sum = 0.0f;
    for (int z0 = 0; z0 < p.n_splits; z0 += kBatch) {
      float v[kBatch];
#pragma unroll
      for (int j = 0; j < kBatch; ++j) {
        // Clamped to the last split (in bounds); empty splits' acc is never written: selected away.
        v[j] = a0[static_cast<size_t>(min(z0 + j, p.n_splits - 1)) * split_stride];
      }
#pragma unroll
      for (int j = 0; j < kBatch; ++j) {
        const float w = z0 + j < p.n_splits ? weight[z0 + j] : 0.0f;
        sum += w != 0.0f ? v[j] * w : 0.0f;
      }
    }
    out[t * out_stride + static_cast<size_t>(h) * head_dim + d] = sum * inverse;
  }
}

template <typename T, int D, int G>
void launch_shape(const AttentionArgs& a, const AttentionPartials& partials, cudaStream_t stream) {
  constexpr size_t bytes = DecodeShape<T, D, G>::kBytes;
  if constexpr (bytes + 1024 > 48 * 1024) {  // the static shared memory counts too
    check_cuda(cudaFuncSetAttribute(decode_attention_kernel<T, D, G>,
                                    cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
               "cudaFuncSetAttribute");
  }
  const dim3 grid(static_cast<unsigned>(a.n_seqs), static_cast<unsigned>(a.n_kv_heads),
                  static_cast<unsigned>(partials.n_splits));
  decode_attention_kernel<T, D, G><<<grid, kThreads, bytes, stream>>>(a, partials);
  check_last_launch("decode_attention_kernel");
}

template <typename T, int D>
void launch_dim(const AttentionArgs& a, const AttentionPartials& partials, cudaStream_t stream) {
  if (a.group <= 1) launch_shape<T, D, 1>(a, partials, stream);
  else if (a.group <= 2) launch_shape<T, D, 2>(a, partials, stream);
  else if (a.group <= 4) launch_shape<T, D, 4>(a, partials, stream);
  else launch_shape<T, D, 8>(a, partials, stream);
}

}  // namespace

bool decode_attention_supports(quant::Type pool_type, int head_dim, int group) {
  if (group < 1 || group > kDecodeMaxGroup) return false;
  if (pool_type == quant::Type::F16) {
    return head_dim == 64 || head_dim == 96 || head_dim == 128 || head_dim == 256;
  }
  if (pool_type == quant::Type::F32) return head_dim == 64 || head_dim == 128;
  return false;
}

void launch_attention_decode_kernel(const AttentionArgs& a, int n_heads, quant::Type pool_type,
                                    const AttentionPartials& partials, cudaStream_t stream) {
  if (!decode_attention_supports(pool_type, a.head_dim, a.group)) {
    fail_unsupported("attention", "the decode kernel takes F16 pools with head_dim 64/96/128/256 or "
                                  "F32 pools with 64/128, and groups of 1..8");
  }
  if (pool_type == quant::Type::F16) {
    switch (a.head_dim) {
      case 64: launch_dim<__half, 64>(a, partials, stream); break;
      case 96: launch_dim<__half, 96>(a, partials, stream); break;
      case 128: launch_dim<__half, 128>(a, partials, stream); break;
      default: launch_dim<__half, 256>(a, partials, stream); break;
    }
  } else if (a.head_dim == 64) {
    launch_dim<float, 64>(a, partials, stream);
  } else {
    launch_dim<float, 128>(a, partials, stream);
  }
  if (partials.n_splits > 1) {
    if (partials.n_splits > kMaxMergeSplits) {
      fail_argument("attention", "the decode kernel takes at most 32 splits");
    }
    const dim3 grid(static_cast<unsigned>(a.n_tokens), static_cast<unsigned>(n_heads));
    decode_merge_kernel<<<grid, std::min(a.head_dim, 128), 0, stream>>>(
        partials, a.n_tokens, n_heads, a.head_dim, a.out, a.out_stride);
    check_last_launch("decode_merge_kernel");
  }
}

}  // namespace ingot::cuda
