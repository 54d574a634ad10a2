#include "model/model.h"

#include "model/activations.h"

#include "core/error.h"
#include "gguf/file.h"

#include <algorithm>

namespace ingot::model {


std::unique_ptr<Model> Model::load(const std::string& path, backend::Backend& backend) {
  auto file = std::make_shared<const gguf::File>(gguf::File::open(path));
  return load(std::move(file), backend);
}

std::unique_ptr<Model> Model::load(std::shared_ptr<const gguf::File> file, backend::Backend& backend) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  m->backend_ = &backend;
  m->hp_ = read_hyper_params(*m->file_);
  m->weights_ = bind_weights(*m->file_, m->hp_, backend, m->file_);
  m->hp_.rope.freq_factors = m->weights_.rope_freqs;
  try {
    m->rope_ = backend::make_rope_table(m->hp_.rope);
  } catch (const Error& e) {
    fail(ErrorCode::invalid_file, "{}: {}", m->file_->path(), e.what());
  }
  for (const gguf::Tensor& t : m->file_->tensors()) {
    m->weight_bytes_ += t.n_bytes;
    m->n_params_ += t.n_elements;
  }
  return m;
}

backend::KvPoolStorage Model::alloc_kv(int64_t n_blocks, int64_t block_size, quant::Type type) const {
  backend::KvPoolShape shape;
  shape.n_layers = hp_.n_layers;
  shape.n_blocks = n_blocks;
  shape.block_size = block_size;
  shape.n_kv_heads = hp_.n_kv_heads;
  shape.head_dim = hp_.head_dim;
  shape.type = type;
  return backend_->alloc_kv_pool(shape);
}

void Model::plan(const ForwardPlan& requested) {
  ForwardPlan p = requested;
  if (p.max_context <= 0) p.max_context = hp_.n_ctx_train;
  if (p.max_tokens <= 0 || p.max_seqs <= 0 || p.max_logit_rows <= 0 || p.max_blocks_per_seq <= 0) {
    fail(ErrorCode::invalid_argument, "model plan: every bound must be positive");
  }
  // The same bounds again (Engine::open plans before sizing the KV pool from free device memory,
  // the runner after): what is allocated fits, and a second set must not be allocated.
  if (planned_ && p == plan_) return;
  auto act = std::make_shared<Activations>();
  using quant::Type;
  auto f32 = [&](int64_t ne0, int64_t ne1) {
    act->storage.emplace_back();
    return backend_->alloc_tensor(Type::F32, backend::Shape::of(ne0, ne1), act->storage.back());
  };
  auto i32 = [&](int64_t ne0, int64_t ne1 = 1) {
    act->storage.emplace_back();
    return backend_->alloc_tensor(Type::I32, backend::Shape::of(ne0, ne1), act->storage.back());
  };
  const int64_t t = p.max_tokens;
  act->x = f32(hp_.n_embd, t);
  act->h = f32(hp_.n_embd, t);
  act->q = f32(hp_.q_dim(), t);
  act->k = f32(hp_.kv_dim(), t);
  act->v = f32(hp_.kv_dim(), t);
  act->attn = f32(hp_.q_dim(), t);
  act->proj = f32(hp_.n_embd, t);
  act->gate = f32(hp_.n_ff, t);
  act->up = f32(hp_.n_ff, t);
  act->logits = f32(hp_.n_vocab, p.max_logit_rows);
  act->ids = i32(t);
  act->positions = i32(t);
  act->slots = i32(t);
  act->query_start = i32(p.max_seqs + 1);
  act->context_len = i32(p.max_seqs);
  act->block_table = i32(p.max_blocks_per_seq, p.max_seqs);
  act->rows = i32(p.max_logit_rows);

  backend::WorkspacePlan workspace;
  workspace.max_tokens = t;
  workspace.max_row_elements = std::max({hp_.n_embd, hp_.n_ff, hp_.q_dim()});
  workspace.max_context = p.max_context;
  workspace.max_logit_rows = p.max_logit_rows;
  workspace.n_vocab = hp_.n_vocab;
  backend_->reserve(workspace);

  act_ = std::move(act);
  plan_ = p;
  planned_ = true;
}

}  // namespace ingot::model
