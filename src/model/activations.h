// The activation buffers of a planned forward step (internal to Model): F32 views sized for
// plan.max_tokens rows, plus the I32 index tensors uploaded each step. Allocated once by
// Model::plan; forward() only takes row views of them.
#pragma once

#include "backend/backend.h"
#include "model/model.h"

#include <vector>

namespace ingot::model {

struct Model::Activations {
  std::vector<backend::Buffer> storage;
  backend::Tensor x;         // [n_embd, T] residual stream
  backend::Tensor h;         // [n_embd, T] normed input of a block
  backend::Tensor q;         // [q_dim, T]
  backend::Tensor k, v;      // [kv_dim, T]
  backend::Tensor attn;      // [q_dim, T]
  backend::Tensor proj;      // [n_embd, T] attention or FFN output
  backend::Tensor gate, up;  // [n_ff, T]
  backend::Tensor logits;    // [n_vocab, max_logit_rows]
  backend::Tensor ids, positions, slots, query_start, context_len, block_table, rows;  // I32
};

}  // namespace ingot::model
