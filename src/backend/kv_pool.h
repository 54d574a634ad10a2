// The paged KV pool as backends see it: for K and for V one tensor holding every layer, laid out
// [n_layers][n_blocks][block_size][n_kv_heads][head_dim] (head_dim contiguous). Token slot
// s = block * block_size + offset; the row of (layer, slot, kv_head) is
// ((layer * n_blocks * block_size + s) * n_kv_heads + kv_head). Storage is F16 (the default, as
// llama.cpp) or F32 (exact parity). The block manager (src/kv) decides which slots are whose.
#pragma once

#include <cstdint>

#include "backend/tensor.h"

namespace ingot::backend {

struct KvPoolShape {
  int64_t n_layers = 0;
  int64_t n_blocks = 0;
  int64_t block_size = 16;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  quant::Type type = quant::Type::F16;  // F16 or F32

  int64_t n_slots() const noexcept { return n_blocks * block_size; }
  // Rows of head_dim elements per layer, and in total.
  int64_t rows_per_layer() const noexcept { return n_slots() * n_kv_heads; }
  int64_t n_rows() const noexcept { return n_layers * rows_per_layer(); }
};

// Views of a pool's K and V memory (allocated by Backend::alloc_kv_pool).
struct KvPool {
  KvPoolShape shape;
  Tensor k;  // [head_dim, n_rows] rows in the layout above
  Tensor v;
};

// The per-step description of which queries attend to which cached tokens. All tensors are I32
// and live where the backend computes (upload them with Backend::upload each step).
//   query_start  [n_seqs + 1]  sequence s owns query rows [query_start[s], query_start[s+1])
//   context_len  [n_seqs]      tokens of s in the cache after this step's write_kv (its own
//                              queries are the last query_len of them: causal within the chunk)
//   block_table  [max_blocks_per_seq, n_seqs]  row s lists the blocks of s in order
struct AttentionBatch {
  int64_t n_seqs = 0;
  int64_t max_context = 0;  // upper bound of context_len (sizes the CPU score scratch)
  Tensor query_start;
  Tensor context_len;
  Tensor block_table;
};

}  // namespace ingot::backend
