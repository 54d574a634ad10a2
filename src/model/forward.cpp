// The decoder forward pass shared by every family in the registry: embed, then per layer
// RMSNorm -> Q/K/V (+bias, one matmul_many) -> [per-head Q/K RMSNorm] -> rope + write KV ->
// paged attention -> output projection -> residual + RMSNorm -> SwiGLU FFN (matmul_swiglu, down),
// then the final norm and LM head on the rows that need logits. Family differences are flags in
// ArchTraits, never branches on names.
// Decode-only steps on a capturing backend (CUDA graphs) are padded to a batch bucket and their
// layers go through Backend::run_captured: recorded once per (bucket, context bucket, pool),
// replayed after the step's inputs are uploaded into the same device buffers.
#include "model/model.h"

#include "model/activations.h"

#include "core/error.h"

#include <algorithm>
#include <bit>
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

// Smallest context bucket a padded decode step's attention is recorded for.
constexpr int64_t kMinContextBucket = 256;

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

// An I32 [ne0, ne1] view at the start of a planned index buffer.
Tensor i32_view(const Tensor& t, int64_t ne0, int64_t ne1 = 1) {
  return backend::make_tensor(t.data, quant::Type::I32, backend::Shape::of(ne0, ne1));
}

Tensor upload_i32(backend::Backend& be, const Tensor& dst, std::span<const int32_t> src, int64_t ne0,
                  int64_t ne1 = 1) {
  Tensor view = i32_view(dst, ne0, ne1);
  be.upload(view, src.data(), src.size_bytes());
  return view;
}

}  // namespace

void Model::check_batch(const ForwardBatch& b) const {
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
  if (logits.size() < b.logit_rows.size() * static_cast<size_t>(hp_.n_vocab)) {
    fail(ErrorCode::invalid_argument, "forward: logits span of {} floats is too small", logits.size());
  }
  const Tensor out = forward_device(b, pool);
  backend_->download(logits.data(), out, b.logit_rows.size() * static_cast<size_t>(hp_.n_vocab) * sizeof(float));
}

int64_t Model::decode_bucket(int64_t n_seqs) const noexcept {
  const int64_t cap = std::min({plan_.max_seqs, plan_.max_tokens, plan_.max_logit_rows});
  if (n_seqs <= 0) return 0;
  return std::min<int64_t>(static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(n_seqs))), cap);
}

Tensor Model::forward_device(const ForwardBatch& b, const backend::KvPool& pool) {
  check_batch(b);
  const auto n = static_cast<int64_t>(b.tokens.size());
  const auto n_seqs = static_cast<int64_t>(b.context_len.size());
  const auto n_out = static_cast<int64_t>(b.logit_rows.size());
  const bool pad = decode_mode_ == DecodeMode::padded ||
                   (decode_mode_ == DecodeMode::automatic && backend_->captures_ops());
  if (pad && n == n_seqs && decode_bucket(n_seqs) >= n_seqs && n_out <= decode_bucket(n_seqs)) {
    bool decode = true;
    for (int64_t s = 0; s <= n_seqs && decode; ++s) decode = b.query_start[static_cast<size_t>(s)] == s;
    if (decode) return forward_padded_decode(b, pool);
  }
  backend::Backend& be = *backend_;
  Activations& a = *act_;
  (void)upload_i32(be, a.ids, b.tokens, n);
  (void)upload_i32(be, a.positions, b.positions, n);
  (void)upload_i32(be, a.slots, b.slots, n);
  backend::AttentionBatch attn_batch;
  attn_batch.n_seqs = n_seqs;
  attn_batch.max_context = b.max_context;
  attn_batch.query_start = upload_i32(be, a.query_start, b.query_start, n_seqs + 1);
  attn_batch.context_len = upload_i32(be, a.context_len, b.context_len, n_seqs);
  attn_batch.block_table = upload_i32(be, a.block_table, b.block_tables, b.max_blocks_per_seq, n_seqs);
  (void)upload_i32(be, a.rows, b.logit_rows, n_out);
  enqueue_layers(n, n_out, attn_batch, pool);
  return head_rows(a.logits, n_out);
}

// A decode step padded to its bucket: padded rows decode token 0 at position 0 with slot -1
// (write_kv skips it) over a context of 1 in block 0 (read only), and their logits are
// ignored. The block table is widened to the context bucket's width, so the recorded
// attention sees the same shapes for every step of the bucket; everything that changes per
// step is uploaded into the same device buffers before the replay.
Tensor Model::forward_padded_decode(const ForwardBatch& b, const backend::KvPool& pool) {
  backend::Backend& be = *backend_;
  Activations& a = *act_;
  const auto n = static_cast<int64_t>(b.tokens.size());
  const int64_t bucket = decode_bucket(n);
  const int64_t block_size = std::max<int64_t>(pool.shape.block_size, 1);
  int64_t ctx_bucket = std::max<int64_t>(kMinContextBucket,
                                         static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(b.max_context))));
  ctx_bucket = std::min(ctx_bucket, plan_.max_context);
  int64_t width = std::max<int64_t>((ctx_bucket + block_size - 1) / block_size,
                                    static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(b.max_blocks_per_seq))));
  width = std::min(width, plan_.max_blocks_per_seq);
  width = std::max(width, b.max_blocks_per_seq);
  const auto un = static_cast<size_t>(n), ub = static_cast<size_t>(bucket);
  pad_tokens_.assign(b.tokens.begin(), b.tokens.end());
  pad_tokens_.resize(ub, 0);
  pad_positions_.assign(b.positions.begin(), b.positions.end());
  pad_positions_.resize(ub, 0);
  pad_slots_.assign(b.slots.begin(), b.slots.end());
  pad_slots_.resize(ub, -1);
  pad_query_start_.resize(ub + 1);
  for (size_t i = 0; i <= ub; ++i) pad_query_start_[i] = static_cast<int32_t>(i);
  pad_context_.assign(b.context_len.begin(), b.context_len.end());
  pad_context_.resize(ub, 1);
  pad_table_.assign(ub * static_cast<size_t>(width), 0);
  const auto src_width = static_cast<size_t>(b.max_blocks_per_seq);
  for (size_t s = 0; s < un; ++s) {
    std::copy_n(b.block_tables.begin() + static_cast<ptrdiff_t>(s * src_width), src_width,
                pad_table_.begin() + static_cast<ptrdiff_t>(s * static_cast<size_t>(width)));
  }
  pad_rows_.assign(b.logit_rows.begin(), b.logit_rows.end());
  pad_rows_.resize(ub, 0);

  (void)upload_i32(be, a.ids, pad_tokens_, bucket);
  (void)upload_i32(be, a.positions, pad_positions_, bucket);
  (void)upload_i32(be, a.slots, pad_slots_, bucket);
  backend::AttentionBatch attn_batch;
  attn_batch.n_seqs = bucket;
  attn_batch.max_context = ctx_bucket;
  attn_batch.query_start = upload_i32(be, a.query_start, pad_query_start_, bucket + 1);
  attn_batch.context_len = upload_i32(be, a.context_len, pad_context_, bucket);
  attn_batch.block_table = upload_i32(be, a.block_table, pad_table_, width, bucket);
  (void)upload_i32(be, a.rows, pad_rows_, bucket);

  uint64_t key = 0x1d9e57a3b5c4f201ull;
  for (const uint64_t v : {static_cast<uint64_t>(bucket), static_cast<uint64_t>(ctx_bucket), static_cast<uint64_t>(width),
                           reinterpret_cast<uint64_t>(pool.k.data), reinterpret_cast<uint64_t>(pool.v.data),
                           static_cast<uint64_t>(pool.shape.type), static_cast<uint64_t>(pool.shape.n_blocks),
                           reinterpret_cast<uint64_t>(act_.get())}) {
    key = mix(key, v);
  }
  be.run_captured(key, [&] { enqueue_layers(bucket, bucket, attn_batch, pool); });
  return head_rows(a.logits, bucket);
}

void Model::enqueue_layers(int64_t n, int64_t n_out, const backend::AttentionBatch& attn_batch,
                           const backend::KvPool& pool) {
  backend::Backend& be = *backend_;
  Activations& a = *act_;
  const Tensor ids = i32_view(a.ids, n), positions = i32_view(a.positions, n), slots = i32_view(a.slots, n);
  const Tensor rows = i32_view(a.rows, n_out);
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
    const backend::Backend::MatmulTarget qkv[] = {
        {&w.wq, bias_of(w.bq), &q}, {&w.wk, bias_of(w.bk), &k}, {&w.wv, bias_of(w.bv), &v}};
    be.matmul_many(h, qkv);
    if (traits.qk_norm) {
      const Tensor qh = per_head(q, hp_.head_dim, n), kh = per_head(k, hp_.head_dim, n);
      be.rms_norm(qh, w.q_norm, eps, qh);
      be.rms_norm(kh, w.k_norm, eps, kh);
    }
    be.rope_write_kv(q, k, v, positions, rope_, pool, l, slots);
    be.attention(q, pool, l, attn_batch, 0.0f, attn);
    be.matmul(attn, w.wo, nullptr, proj);
    be.add_rms_norm(x, proj, w.ffn_norm, eps, h);  // x += attention output
    be.matmul_swiglu(h, w.ffn_gate, w.ffn_up, gate, up);
    be.matmul(gate, w.ffn_down, nullptr, proj);
  }
  be.add(x, proj, x);
  be.logits(x, rows, weights_.output_norm, eps, weights_.output, head_rows(a.logits, n_out));
}

}  // namespace ingot::model
