// Flash attention over the paged F16 KV cache on tensor cores (WMMA m16n16k16, f16 operands, f32
// accumulation). One CTA of 4 warps serves 64 query rows = (64 / group) consecutive tokens of
// one sequence x all `group` query heads of one KV head, so each K/V tile is read from the pool
// once for the whole GQA group. Per tile of 64 keys: K and V rows gathered through the block
// table with 16-byte loads into shared memory, S = Q K^T (each warp its 16 rows), online softmax
// in f32 (log2 domain, causal mask per row), P rounded to f16, O += P V with O kept in shared
// f32. Work split: grid.x walks the batch's tiles (a warp scan over query_start finds the
// sequence of a tile; spare CTAs exit), grid.y the KV heads, grid.z splits of the key tiles
// (split-K for long contexts with few queries: partials (m, l, acc) then a merge pass).
// Shared memory: ~110 KB at head_dim 128 (2 CTAs per SM), ~72 KB at 64.
#include <cuda_fp16.h>
#include <mma.h>

#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/attention.cuh"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/launch_check.h"

namespace ingot::cuda {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kRows = 64;  // query rows (token, head) per CTA
constexpr int kKeys = 64;  // keys per tile
constexpr int kWarps = 4;  // each owns 16 rows
constexpr int kThreads = kWarps * 32;
constexpr float kLog2e = 1.4426950408889634f;

// Shared-memory layout; padded row strides keep WMMA's 32-byte alignment and spread banks.
template <int D>
struct Layout {
  static constexpr int ld_h = D + 8;      // halves: Q, K, V rows
  static constexpr int ld_s = kKeys + 4;  // floats: S rows
  static constexpr int ld_p = kKeys + 8;  // halves: P rows
  static constexpr int ld_o = D + 4;      // floats: O rows
  static constexpr size_t q_off = 0;
  static constexpr size_t k_off = q_off + size_t{kRows} * ld_h * 2;
  static constexpr size_t v_off = k_off + size_t{kKeys} * ld_h * 2;
  static constexpr size_t s_off = v_off + size_t{kKeys} * ld_h * 2;
  static constexpr size_t p_off = s_off + size_t{kRows} * ld_s * 4;
  static constexpr size_t o_off = p_off + size_t{kRows} * ld_p * 2;
  static constexpr size_t m_off = o_off + size_t{kRows} * ld_o * 4;
  static constexpr size_t l_off = m_off + size_t{kRows} * 4;
  static constexpr size_t bytes = l_off + size_t{kRows} * 4;
  static_assert(k_off % 32 == 0 && v_off % 32 == 0 && s_off % 32 == 0 && p_off % 32 == 0 &&
                o_off % 32 == 0 && m_off % 32 == 0);
};

// Warp 0 finds the sequence and tile index of CTA `b` (tiles of `tokens_per_tile` queries, in
// sequence order) and validates the batch; -1 when b is past the last tile.
struct TileLookup {
  int seq;
  int tile;
  int bad_seq;  // first invalid sequence, -1 if none (n_seqs for bad query_start ends)
};

__device__ TileLookup find_tile(const AttentionArgs& a, int b, int tokens_per_tile) {
  const int lane = threadIdx.x % 32;
  TileLookup r{-1, 0, -1};
  if (a.query_start[0] != 0 || a.query_start[a.n_seqs] != a.n_tokens) r.bad_seq = a.n_seqs;
  int carry = 0;
  const int64_t max_keys = a.max_blocks * a.block_size;
  for (int base = 0; base < a.n_seqs; base += 32) {
    const int s = base + lane;
    int tiles = 0;
    bool bad = false;
    if (s < a.n_seqs) {
      const int32_t q0 = a.query_start[s], q1 = a.query_start[s + 1], ctx = a.context_len[s];
      const int32_t q_len = q1 - q0;
      if (q0 < 0 || q_len < 0 || q_len > ctx || ctx > max_keys) {
        bad = true;
      } else {
        tiles = (q_len + tokens_per_tile - 1) / tokens_per_tile;
      }
    }
    const unsigned bad_mask = __ballot_sync(0xffffffffu, bad);
    if (bad_mask != 0 && r.bad_seq < 0) r.bad_seq = base + __ffs(bad_mask) - 1;
    int inclusive = tiles;
#pragma unroll
    for (int offset = 1; offset < 32; offset <<= 1) {
      const int y = __shfl_up_sync(0xffffffffu, inclusive, offset);
      if (lane >= offset) inclusive += y;
    }
    const unsigned hit = __ballot_sync(0xffffffffu, carry + inclusive > b);
    if (r.seq < 0 && hit != 0) {  // warp-uniform
      const int src = __ffs(hit) - 1;
      const int before = __shfl_sync(0xffffffffu, inclusive - tiles, src);
      r.seq = base + src;
      r.tile = b - carry - before;
    }
    carry += __shfl_sync(0xffffffffu, inclusive, 31);
  }
  return r;
}

template <int D>
__global__ void __launch_bounds__(kThreads)
    flash_attention_kernel(const AttentionArgs a, const AttentionPartials partials) {
  using L = Layout<D>;
  extern __shared__ __align__(128) unsigned char smem[];
  __half* q_s = reinterpret_cast<__half*>(smem + L::q_off);
  __half* k_s = reinterpret_cast<__half*>(smem + L::k_off);
  __half* v_s = reinterpret_cast<__half*>(smem + L::v_off);
  float* s_s = reinterpret_cast<float*>(smem + L::s_off);
  __half* p_s = reinterpret_cast<__half*>(smem + L::p_off);
  float* o_s = reinterpret_cast<float*>(smem + L::o_off);
  float* m_s = reinterpret_cast<float*>(smem + L::m_off);
  float* l_s = reinterpret_cast<float*>(smem + L::l_off);
  __shared__ int tile_seq, tile_index, batch_bad, failed;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int kv_head = blockIdx.y;
  const int split = blockIdx.z;
  const int group = a.group;
  const int n_heads = a.n_kv_heads * group;
  const int tokens_per_tile = kRows / group;
  const int b = blockIdx.x;

  if (warp == 0) {
    const TileLookup t = find_tile(a, b, tokens_per_tile);
    if (lane == 0) {
      tile_seq = t.seq;
      tile_index = t.tile;
      batch_bad = t.bad_seq >= 0;
      failed = 0;
      if (t.bad_seq >= 0 && b == 0 && kv_head == 0 && split == 0) {
        report_error(a.error, kDeviceErrorAttentionBatch, t.bad_seq, -1);
      }
    }
  }
  __syncthreads();

  if (batch_bad) {
    // The batch is invalid: NaN for the rows of tokens [b * tpt, (b + 1) * tpt) of this group.
    for (int idx = threadIdx.x; idx < kRows * D; idx += kThreads) {
      const int r = idx / D, d = idx % D, tl = r / group;
      const int64_t t = int64_t{b} * tokens_per_tile + tl;
      if (tl >= tokens_per_tile || t >= a.n_tokens) continue;
      const int h = kv_head * group + r % group;
      if (partials.n_splits > 1) {
        const size_t pr = (static_cast<size_t>(split) * a.n_tokens + t) * n_heads + h;
        partials.acc[pr * D + d] = NAN;
        if (d == 0) partials.ml[pr * 2] = partials.ml[pr * 2 + 1] = NAN;
      } else {
        a.out[t * a.out_stride + static_cast<size_t>(h) * D + d] = NAN;
      }
    }
    return;
  }
  const int seq = tile_seq;
  if (seq < 0) return;  // past the batch's last tile

  const int32_t q_begin = a.query_start[seq], q_end = a.query_start[seq + 1];
  const int32_t past = a.context_len[seq] - (q_end - q_begin);  // keys before this chunk
  const int32_t first_token = q_begin + tile_index * tokens_per_tile;
  const int n_tile_tokens = min(tokens_per_tile, q_end - first_token);
  // Keys seen by the tile's last query; key tiles of this split.
  const int32_t tile_keys = past + (first_token - q_begin) + n_tile_tokens;
  const int n_key_tiles = (tile_keys + kKeys - 1) / kKeys;
  const int per_split = (n_key_tiles + partials.n_splits - 1) / partials.n_splits;
  const int kt_begin = split * per_split;
  const int kt_end = min(n_key_tiles, kt_begin + per_split);

  // Q rows (f16) and O = 0.
  for (int idx = threadIdx.x; idx < kRows * D; idx += kThreads) {
    const int r = idx / D, d = idx % D, tl = r / group;
    float v = 0.0f;
    if (tl < n_tile_tokens) {
      const int64_t t = first_token + tl;
      const int h = kv_head * group + r % group;
      v = a.q[t * a.q_stride + static_cast<size_t>(h) * D + d];
    }
    q_s[r * L::ld_h + d] = __float2half_rn(v);
    o_s[r * L::ld_o + d] = 0.0f;
  }
  __syncthreads();

  // This lane's half of one row: its softmax state (both lanes of a pair hold the same).
  const int my_row = warp * 16 + lane / 2, my_half = lane % 2;
  const int my_token = my_row / group;
  const int32_t row_limit =
      my_token < n_tile_tokens ? past + (first_token - q_begin) + my_token + 1 : 0;
  const float scale_log2 = a.scale * kLog2e;
  float row_max = -INFINITY, row_sum = 0.0f;

  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> q_frag[D / 16];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) {
    wmma::load_matrix_sync(q_frag[kk], q_s + warp * 16 * L::ld_h + kk * 16, L::ld_h);
  }

  const auto* k_pool = static_cast<const __half*>(a.k_pool);
  const auto* v_pool = static_cast<const __half*>(a.v_pool);
  const int32_t* table = a.block_table + static_cast<size_t>(seq) * a.table_stride;
  constexpr int kChunks = D / 8;  // 16-byte chunks per row
  for (int kt = kt_begin; kt < kt_end; ++kt) {
    const int key0 = kt * kKeys;
    __syncthreads();  // every warp is done with the previous K, V
    for (int idx = threadIdx.x; idx < kKeys * kChunks; idx += kThreads) {
      const int key = idx / kChunks, c = idx % kChunks;
      const int j = key0 + key;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (j < tile_keys) {
        const int32_t block = table[j / a.block_size];
        if (block < 0 || block >= a.n_blocks) {
          if (c == 0) {
            report_error(a.error, kDeviceErrorAttentionBlock, block, static_cast<int32_t>(a.n_blocks));
            atomicOr(&failed, 1);
          }
        } else {
          const int64_t row = a.layer_row0 + (static_cast<int64_t>(block) * a.block_size +
                                              j % a.block_size) * a.n_kv_heads + kv_head;
          kv = reinterpret_cast<const uint4*>(k_pool + static_cast<size_t>(row) * a.pool_stride)[c];
          vv = reinterpret_cast<const uint4*>(v_pool + static_cast<size_t>(row) * a.pool_stride)[c];
        }
      }
      *reinterpret_cast<uint4*>(k_s + key * L::ld_h + c * 8) = kv;
      *reinterpret_cast<uint4*>(v_s + key * L::ld_h + c * 8) = vv;
    }
    __syncthreads();

    // S = Q K^T for this warp's 16 rows.
#pragma unroll
    for (int n = 0; n < kKeys / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> s_frag;
      wmma::fill_fragment(s_frag, 0.0f);
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> k_frag;
        wmma::load_matrix_sync(k_frag, k_s + n * 16 * L::ld_h + kk * 16, L::ld_h);
        wmma::mma_sync(s_frag, q_frag[kk], k_frag, s_frag);
      }
      wmma::store_matrix_sync(s_s + warp * 16 * L::ld_s + n * 16, s_frag, L::ld_s,
                              wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax over this lane's 32 keys of its row.
    const float* s_row = s_s + my_row * L::ld_s + my_half * 32;
    __half* p_row = p_s + my_row * L::ld_p + my_half * 32;
    float scores[32];
    float tile_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < 32; ++c) {
      const int j = key0 + my_half * 32 + c;
      scores[c] = j < row_limit ? s_row[c] * scale_log2 : -INFINITY;
      tile_max = fmaxf(tile_max, scores[c]);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    const float new_max = fmaxf(row_max, tile_max);
    float alpha = 1.0f, sum = 0.0f;
    if (new_max == -INFINITY) {
#pragma unroll
      for (int c = 0; c < 32; ++c) p_row[c] = __float2half_rn(0.0f);
    } else {
      alpha = exp2f(row_max - new_max);  // 0 while row_max is -inf
#pragma unroll
      for (int c = 0; c < 32; ++c) {
        const __half p = __float2half_rn(exp2f(scores[c] - new_max));
        p_row[c] = p;
        sum += __half2float(p);
      }
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    row_sum = row_sum * alpha + sum;
    row_max = new_max;
    if (alpha != 1.0f) {
      float* o_row = o_s + my_row * L::ld_o + my_half * (D / 2);
#pragma unroll 8
      for (int d = 0; d < D / 2; ++d) o_row[d] *= alpha;
    }
    __syncwarp();

    // O += P V for this warp's 16 rows.
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> p_frag[kKeys / 16];
#pragma unroll
    for (int kk = 0; kk < kKeys / 16; ++kk) {
      wmma::load_matrix_sync(p_frag[kk], p_s + warp * 16 * L::ld_p + kk * 16, L::ld_p);
    }
#pragma unroll
    for (int dn = 0; dn < D / 16; ++dn) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> o_frag;
      float* o_tile = o_s + warp * 16 * L::ld_o + dn * 16;
      wmma::load_matrix_sync(o_frag, o_tile, L::ld_o, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < kKeys / 16; ++kk) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> v_frag;
        wmma::load_matrix_sync(v_frag, v_s + kk * 16 * L::ld_h + dn * 16, L::ld_h);
        wmma::mma_sync(o_frag, p_frag[kk], v_frag, o_frag);
      }
      wmma::store_matrix_sync(o_tile, o_frag, L::ld_o, wmma::mem_row_major);
    }
    __syncwarp();
  }

  if (my_half == 0) {
    m_s[my_row] = row_max;
    l_s[my_row] = row_sum;
  }
  __syncthreads();
  const bool bad_block = failed != 0;
  for (int idx = threadIdx.x; idx < kRows * D; idx += kThreads) {
    const int r = idx / D, d = idx % D, tl = r / group;
    if (tl >= n_tile_tokens) continue;
    const int64_t t = first_token + tl;
    const int h = kv_head * group + r % group;
    const float o = o_s[r * L::ld_o + d];
    if (partials.n_splits > 1) {
      const size_t pr = (static_cast<size_t>(split) * a.n_tokens + t) * n_heads + h;
      partials.acc[pr * D + d] = bad_block ? NAN : o;
      if (d == 0) {
        partials.ml[pr * 2] = bad_block ? NAN : m_s[r];
        partials.ml[pr * 2 + 1] = bad_block ? NAN : l_s[r];
      }
    } else {
      a.out[t * a.out_stride + static_cast<size_t>(h) * D + d] = bad_block ? NAN : o / l_s[r];
    }
  }
}

// out[t, h] = sum_z 2^(m_z - M) acc_z / sum_z 2^(m_z - M) l_z over the splits with l_z > 0.
__global__ void flash_merge_kernel(const AttentionPartials p, int64_t n_tokens, int n_heads,
                                   int head_dim, float* out, size_t out_stride) {
  const int64_t t = blockIdx.x;
  const int h = blockIdx.y;
  float top = -INFINITY;
  bool nan = false;
  for (int z = 0; z < p.n_splits; ++z) {
    const size_t pr = (static_cast<size_t>(z) * n_tokens + t) * n_heads + h;
    const float m = p.ml[pr * 2], l = p.ml[pr * 2 + 1];
    if (isnan(m) || isnan(l)) nan = true;
    else if (l > 0.0f) top = fmaxf(top, m);
  }
  float denominator = 0.0f;
  for (int z = 0; z < p.n_splits; ++z) {
    const size_t pr = (static_cast<size_t>(z) * n_tokens + t) * n_heads + h;
    const float l = p.ml[pr * 2 + 1];
    if (l > 0.0f) denominator += l * exp2f(p.ml[pr * 2] - top);
  }
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float sum = 0.0f;
    for (int z = 0; z < p.n_splits; ++z) {
      const size_t pr = (static_cast<size_t>(z) * n_tokens + t) * n_heads + h;
      const float l = p.ml[pr * 2 + 1];
      if (l > 0.0f) sum += p.acc[pr * head_dim + d] * exp2f(p.ml[pr * 2] - top);
    }
    out[t * out_stride + static_cast<size_t>(h) * head_dim + d] =
        nan || denominator == 0.0f ? NAN : sum / denominator;
  }
}

template <int D>
void launch_for(const AttentionArgs& a, const AttentionPartials& partials, cudaStream_t stream) {
  constexpr size_t bytes = Layout<D>::bytes;
  check_cuda(cudaFuncSetAttribute(flash_attention_kernel<D>,
                                  cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
             "cudaFuncSetAttribute");
  const int64_t tokens_per_tile = kRows / a.group;
  const int64_t n_tiles = (a.n_tokens + tokens_per_tile - 1) / tokens_per_tile + a.n_seqs;
  const dim3 grid(static_cast<unsigned>(n_tiles), static_cast<unsigned>(a.n_kv_heads),
                  static_cast<unsigned>(partials.n_splits));
  flash_attention_kernel<D><<<grid, kThreads, bytes, stream>>>(a, partials);
  check_last_launch("flash_attention_kernel");
}

}  // namespace

bool flash_attention_supports(int head_dim, int group) {
  bool listed = false;
  for (int d : kFlashHeadDims) listed = listed || d == head_dim;
  return listed && group >= 1 && group <= kRows;
}

void launch_attention_flash_kernel(const AttentionArgs& a, int n_heads,
                                   const AttentionPartials& partials, cudaStream_t stream) {
  if (!flash_attention_supports(a.head_dim, a.group)) {
    fail_unsupported("attention", "the flash kernel takes head_dim 64 or 128 and groups of 1..64");
  }
  if (a.head_dim == 64) launch_for<64>(a, partials, stream);
  else launch_for<128>(a, partials, stream);
  if (partials.n_splits > 1) {
    const dim3 grid(static_cast<unsigned>(a.n_tokens), static_cast<unsigned>(n_heads));
    flash_merge_kernel<<<grid, a.head_dim, 0, stream>>>(partials, a.n_tokens, n_heads, a.head_dim,
                                                        a.out, a.out_stride);
    check_last_launch("flash_merge_kernel");
  }
}

}  // namespace ingot::cuda
