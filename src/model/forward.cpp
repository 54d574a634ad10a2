// The decoder forward pass shared by every family in the registry: embed, then per layer
// RMSNorm -> Q/K/V (+bias) -> [per-head Q/K RMSNorm] -> rope -> write KV -> paged attention ->
// output projection -> residual + RMSNorm -> SwiGLU FFN, then the final norm and LM head on the
// rows that need logits. Family differences are flags in ArchTraits, never branches on names.
#include "model/model.h"

#include "model/activations.h"

#include "core/error.h"

#include <cstring>

namespace ingot::model {
namespace {

using backend::Tensor;

// A dense F32 view of the first n rows of a planned activation.
Tensor head_rows(const Tensor& t, int64_t n) { return t.rows(0, n); }

// [head_dim, n_heads * n] view of a dense [n_heads * head_dim, n] activation.
Tensor per_head(const Tensor& t, int64_t head_dim, int64_t n) {
  return backend::make_tensor(t.data, quant::Type::F32, backend::Shape::of(head_dim, t.ne0() / head_dim * n));
}

const Tensor* bias_of(const Tensor& b) { return b.data != nullptr ? &b : nullptr; }

}  // namespace

void Model::check_batch(const ForwardBatch& b, std::span<float> logits) const {
  if (!planned_) fail(ErrorCode::internal, "model: forward before plan");
  const size_t n = b.tokens.size();
  if (n == 0) fail(ErrorCode::invalid_argument, "forward: empty batch");
  if (static_cast<int64_t>(n) > plan_.max_tokens) {
    fail(ErrorCode::invalid_argument, "forward: {} tokens exceed the planned {}", n, plan_.max_tokens);
  }
  if (b.positions.size() != n || b.slots.size() != n) {
    fail(ErrorCode::invalid_argument, "forward: {} tokens but {} positions and {} slots", n,
         b.positions.size(), b.slots.size());
  }
  const size_t n_seqs = b.context_len.size();
  if (n_seqs == 0 || static_cast<int64_t>(n_seqs) > plan_.max_seqs ||
      b.query_start.size() != n_seqs + 1) {
    fail(ErrorCode::invalid_argument, "forward: {} sequences (plan {}) with {} query starts", n_seqs,
         plan_.max_seqs, b.query_start.size());
  }
  if (b.max_blocks_per_seq <= 0 || b.max_blocks_per_seq > plan_.max_blocks_per_seq ||
      b.block_tables.size() != n_seqs * static_cast<size_t>(b.max_blocks_per_seq)) {
    fail(ErrorCode::invalid_argument, "forward: block tables of {} entries for {} x {} (plan width {})",
         b.block_tables.size(), n_seqs, b.max_blocks_per_seq, plan_.max_blocks_per_seq);
  }
  if (b.logit_rows.empty() || static_cast<int64_t>(b.logit_rows.size()) > plan_.max_logit_rows) {
    fail(ErrorCode::invalid_argument, "forward: {} logit rows (plan {})", b.logit_rows.size(),
         plan_.max_logit_rows);
  }
  if (logits.size() < b.logit_rows.size() * static_cast<size_t>(hp_.n_vocab)) {
    fail(ErrorCode::invalid_argument, "forward: logits span of {} floats is too small", logits.size());
  }
  for (size_t i = 0; i < n; ++i) {
    if (b.tokens[i] < 0 || b.tokens[i] >= hp_.n_vocab) {
      fail(ErrorCode::invalid_argument, "token id {} is outside the vocabulary of {} tokens",
           b.tokens[i], hp_.n_vocab);
    }
    if (b.positions[i] < 0) fail(ErrorCode::invalid_argument, "forward: negative position");
  }
  for (int32_t r : b.logit_rows) {
    if (r < 0 || static_cast<size_t>(r) >= n) {
      fail(ErrorCode::invalid_argument, "forward: logit row {} outside the {} rows", r, n);
    }
  }
  if (b.max_context <= 0 || b.max_context > plan_.max_context) {
    fail(ErrorCode::invalid_argument, "forward: context {} exceeds the planned {}", b.max_context,
         plan_.max_context);
  }
}

void Model::forward(const ForwardBatch& b, const backend::KvPool& pool, std::span<float> logits) {
  check_batch(b, logits);
  backend::Backend& be = *backend_;
  Activations& a = *act_;
  const auto n = static_cast<int64_t>(b.tokens.size());
  const auto n_seqs = static_cast<int64_t>(b.context_len.size());
  const auto n_out = static_cast<int64_t>(b.logit_rows.size());
  auto upload = [&](const Tensor& dst, std::span<const int32_t> src, int64_t ne0, int64_t ne1 = 1) {
    Tensor view = backend::make_tensor(dst.data, quant::Type::I32, backend::Shape::of(ne0, ne1));
    be.upload(view, src.data(), src.size_bytes());
    return view;
  };
  const Tensor ids = upload(a.ids, b.tokens, n);
  const Tensor positions = upload(a.positions, b.positions, n);
  const Tensor slots = upload(a.slots, b.slots, n);
  backend::AttentionBatch attn_batch;
  attn_batch.n_seqs = n_seqs;
  attn_batch.max_context = b.max_context;
  attn_batch.query_start = upload(a.query_start, b.query_start, n_seqs + 1);
  attn_batch.context_len = upload(a.context_len, b.context_len, n_seqs);
  attn_batch.block_table = upload(a.block_table, b.block_tables, b.max_blocks_per_seq, n_seqs);
  const Tensor rows = upload(a.rows, b.logit_rows, n_out);

  const Tensor x = head_rows(a.x, n), h = head_rows(a.h, n);
  const Tensor q = head_rows(a.q, n), k = head_rows(a.k, n), v = head_rows(a.v, n);
  const Tensor attn = head_rows(a.attn, n), proj = head_rows(a.proj, n);
  const Tensor gate = head_rows(a.gate, n), up = head_rows(a.up, n);
  const float eps = hp_.rms_eps;
  const ArchTraits& traits = *hp_.traits;

  be.embed(ids, weights_.token_embd, x);
  for (int64_t l = 0; l < hp_.n_layers; ++l) {
    const LayerWeights& w = weights_.layers[static_cast<size_t>(l)];
    if (l == 0) {
      be.rms_norm(x, w.attn_norm, eps, h);
    } else {
      be.add_rms_norm(x, proj, w.attn_norm, eps, h);  // x += previous FFN output
    }
    be.matmul(h, w.wq, bias_of(w.bq), q);
    be.matmul(h, w.wk, bias_of(w.bk), k);
    be.matmul(h, w.wv, bias_of(w.bv), v);
    if (traits.qk_norm) {
      const Tensor qh = per_head(q, hp_.head_dim, n), kh = per_head(k, hp_.head_dim, n);
      be.rms_norm(qh, w.q_norm, eps, qh);
      be.rms_norm(kh, w.k_norm, eps, kh);
    }
    be.rope(q, positions, rope_);
    be.rope(k, positions, rope_);
    be.write_kv(pool, l, k, v, slots);
    be.attention(q, pool, l, attn_batch, 0.0f, attn);
    be.matmul(attn, w.wo, nullptr, proj);
    be.add_rms_norm(x, proj, w.ffn_norm, eps, h);  // x += attention output
    be.matmul(h, w.ffn_gate, nullptr, gate);
    be.matmul(h, w.ffn_up, nullptr, up);
    be.swiglu(gate, up, gate);
    be.matmul(gate, w.ffn_down, nullptr, proj);
  }
  be.add(x, proj, x);
  const Tensor out = head_rows(a.logits, n_out);
  be.logits(x, rows, weights_.output_norm, eps, weights_.output, out);
  be.download(logits.data(), out, static_cast<size_t>(n_out * hp_.n_vocab) * sizeof(float));
}

}  // namespace ingot::model
