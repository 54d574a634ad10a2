// What the attention kernels share: the launch arguments (device views of q, out, the paged
// K/V pool of one layer and the batch's sequence tables, all checked by the launcher in
// attention.cu) and the per-kernel entry points. Paged layout (kv_pool.h): pool row
// layer_row0 + (block * block_size + offset) * n_kv_heads + kv_head holds head_dim elements.
// Header-only; no cost beyond what the kernels that include it use.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "backend/cuda/device_error.h"
#include "quant/types.h"

namespace ingot::cuda {

struct AttentionArgs {
  const float* q;   // [n_tokens][n_heads * head_dim], row stride q_stride floats
  size_t q_stride;
  float* out;       // same layout as q, row stride out_stride floats
  size_t out_stride;
  const void* k_pool;  // [rows][head_dim] of the pool type, row stride pool_stride elements
  const void* v_pool;
  size_t pool_stride;
  int64_t layer_row0;  // pool row of (layer, slot 0, kv head 0)
  int64_t n_blocks;
  int block_size;
  int n_kv_heads;
  int head_dim;
  int group;  // query heads per kv head
  const int32_t* query_start;  // [n_seqs + 1]
  const int32_t* context_len;  // [n_seqs]: keys of the sequence after this step
  const int32_t* block_table;  // [n_seqs][max_blocks], row stride table_stride ints
  size_t table_stride;
  int64_t max_blocks;
  int n_seqs;
  int64_t n_tokens;
  float scale;
  DeviceErrorWord* error;
};

// The split-K partials of the flash kernel: for split z, token t, head h (n_heads heads),
// acc[((z * n_tokens + t) * n_heads + h) * head_dim + d] (un-normalised sum of p * v) and
// ml[((z * n_tokens + t) * n_heads + h) * 2 + {0, 1}] = (running max in log2 units, sum of p).
struct AttentionPartials {
  float* acc;
  float* ml;
  int n_splits;
};

// Bytes of partials for n_splits splits of n_tokens rows of n_heads heads.
inline size_t attention_partial_bytes(int64_t n_splits, int64_t n_tokens, int64_t n_heads,
                                      int64_t head_dim) {
  return static_cast<size_t>(n_splits * n_tokens * n_heads) * static_cast<size_t>(head_dim + 2) * 4;
}

// attention_reference.cu: one block of 128 threads per (query row, head); any head_dim <= 256,
// F16 or F32 pool.
void launch_attention_reference_kernel(const AttentionArgs& a, int n_heads, quant::Type pool_type,
                                       cudaStream_t stream);

// attention_flash.cu: the tensor-core kernel (F16 pool; head_dim in kFlashHeadDims; group <= 64;
// 16-byte aligned pool rows) and, when partials.n_splits > 1, the merge pass.
inline constexpr int kFlashHeadDims[] = {64, 128};
bool flash_attention_supports(int head_dim, int group);
void launch_attention_flash_kernel(const AttentionArgs& a, int n_heads,
                                   const AttentionPartials& partials, cudaStream_t stream);

// attention_decode.cu: the decode kernel, one CTA per (sequence, KV head, split) for batches with
// one query row per sequence (correct for any valid batch); F16 pools with head_dim 64/96/128/256,
// F32 pools with 64/128; groups of 1..kDecodeMaxGroup; 16-byte aligned pool rows. Runs its own
// merge of the partials (same layout as the flash kernel's) when 1 < partials.n_splits <= 32.
inline constexpr int kDecodeMaxGroup = 8;
bool decode_attention_supports(quant::Type pool_type, int head_dim, int group);
void launch_attention_decode_kernel(const AttentionArgs& a, int n_heads, quant::Type pool_type,
                                    const AttentionPartials& partials, cudaStream_t stream);

}  // namespace ingot::cuda
