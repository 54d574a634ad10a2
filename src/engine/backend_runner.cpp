#include "engine/backend_runner.h"

#include "core/error.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace ingot::engine {

void ModelRunner::run_and_sample(const StepBatch& batch, const backend::SampleBatch& sampling,
                                 std::span<backend::SampledToken> out) {
  (void)batch;
  (void)sampling;
  (void)out;
  fail(ErrorCode::unsupported, "engine: the {} model runner does not sample on the device", backend_name());
}

BackendModelRunner::BackendModelRunner(std::unique_ptr<backend::Backend> backend, std::unique_ptr<model::Model> model,
                                       quant::Type kv_type)
    : backend_(std::move(backend)), model_(std::move(model)), kv_type_(kv_type) {
  if (backend_ == nullptr || model_ == nullptr) fail(ErrorCode::invalid_argument, "engine: no backend or model");
  if (kv_type != quant::Type::F16 && kv_type != quant::Type::F32) {
    fail(ErrorCode::unsupported, "engine: the KV cache must be F16 or F32");
  }
}

BackendModelRunner::~BackendModelRunner() {
  // The model and the KV pool hold backend memory: release them before the backend goes.
  kv_ = {};
  pairs_storage_ = {};
  model_.reset();
}

int32_t BackendModelRunner::n_vocab() const noexcept { return static_cast<int32_t>(model_->hparams().n_vocab); }

uint64_t BackendModelRunner::kv_bytes() const noexcept {
  return static_cast<uint64_t>(kv_.k_buffer.size()) + static_cast<uint64_t>(kv_.v_buffer.size());
}

void BackendModelRunner::prepare(const RunnerLimits& limits) {
  limits_ = limits;
  if (static_cast<int64_t>(limits.n_blocks) * limits.block_size > INT32_MAX) {
    fail(ErrorCode::out_of_range, "engine: {} KV blocks of {} tokens exceed 2^31 slots", limits.n_blocks,
         limits.block_size);
  }
  kv_ = model_->alloc_kv(limits.n_blocks, limits.block_size, kv_type_);
  model::ForwardPlan plan;
  plan.max_tokens = limits.max_batch_tokens;
  plan.max_seqs = limits.max_seqs;
  plan.max_blocks_per_seq = (static_cast<int64_t>(limits.max_context) + limits.block_size - 1) / limits.block_size;
  plan.max_logit_rows = limits.max_seqs;
  plan.max_context = plan.max_blocks_per_seq * limits.block_size;
  model_->plan(plan);
  max_pairs_ = std::max<int64_t>(limits.max_seqs, 1);
  pairs_ = backend_->alloc_tensor(quant::Type::I32, backend::Shape::of(2, max_pairs_), pairs_storage_);
  dummy_logits_.resize(static_cast<size_t>(n_vocab()));
  const char* env = std::getenv("INGOT_GPU_SAMPLING");
  device_sampling_ = backend_->samples_on_device() && !(env != nullptr && std::string_view(env) == "0");
}

void BackendModelRunner::run_copies(const StepBatch& batch) {
  for (size_t done = 0; done < batch.copies.size();) {
    const size_t n = std::min(batch.copies.size() - done, static_cast<size_t>(max_pairs_));
    pair_host_.clear();
    for (size_t i = done; i < done + n; ++i) {
      pair_host_.push_back(batch.copies[i].src);
      pair_host_.push_back(batch.copies[i].dst);
    }
    const backend::Tensor view =
        backend::make_tensor(pairs_.data, quant::Type::I32, backend::Shape::of(2, static_cast<int64_t>(n)));
    backend_->upload(view, pair_host_.data(), pair_host_.size() * sizeof(int32_t));
    backend_->copy_blocks(kv_.pool, view);
    done += n;
  }
}

bool BackendModelRunner::make_forward_batch(const StepBatch& batch, model::ForwardBatch& fb) {
  slots_.resize(batch.slots.size());
  for (size_t i = 0; i < batch.slots.size(); ++i) slots_[i] = static_cast<int32_t>(batch.slots[i]);
  int64_t width = 1;
  int64_t max_context = 0;
  for (const StepSeq& ss : batch.seqs) {
    width = std::max<int64_t>(width, ss.n_blocks);
    max_context = std::max<int64_t>(max_context, ss.n_context);
  }
  query_start_.clear();
  context_len_.clear();
  block_tables_.assign(batch.seqs.size() * static_cast<size_t>(width), 0);
  for (size_t s = 0; s < batch.seqs.size(); ++s) {
    const StepSeq& ss = batch.seqs[s];
    query_start_.push_back(ss.query_start);
    context_len_.push_back(ss.n_context);
    const auto table = batch.block_table(ss);
    std::copy(table.begin(), table.end(), block_tables_.begin() + static_cast<ptrdiff_t>(s * static_cast<size_t>(width)));
  }
  query_start_.push_back(batch.n_rows());

  fb.tokens = batch.tokens;
  fb.positions = batch.positions;
  fb.slots = slots_;
  fb.query_start = query_start_;
  fb.context_len = context_len_;
  fb.block_tables = block_tables_;
  fb.max_blocks_per_seq = width;
  fb.max_context = max_context;
  if (batch.logit_rows.empty()) {
    // Only middle chunks of prefills this step: the model wants at least one logit row.
    dummy_rows_.assign(1, 0);
    fb.logit_rows = dummy_rows_;
    return false;
  }
  fb.logit_rows = batch.logit_rows;
  return true;
}

void BackendModelRunner::run(const StepBatch& batch, std::span<float> logits) {
  run_copies(batch);
  if (batch.empty()) return;
  model::ForwardBatch fb;
  if (!make_forward_batch(batch, fb)) {
    model_->forward(fb, kv_.pool, dummy_logits_);
    return;
  }
  model_->forward(fb, kv_.pool, logits);
}

void BackendModelRunner::run_and_sample(const StepBatch& batch, const backend::SampleBatch& sampling,
                                        std::span<backend::SampledToken> out) {
  if (!device_sampling_) fail(ErrorCode::unsupported, "engine: the {} backend does not sample on the device", backend_name());
  run_copies(batch);
  if (batch.empty()) return;
  model::ForwardBatch fb;
  const bool has_rows = make_forward_batch(batch, fb);
  const backend::Tensor logits = model_->forward_device(fb, kv_.pool);
  if (!has_rows || sampling.rows.empty()) {
    backend_->synchronize();
    return;
  }
  for (const backend::SampleRow& r : sampling.rows) {
    if (r.logit_row < 0 || static_cast<size_t>(r.logit_row) >= batch.logit_rows.size()) {
      fail(ErrorCode::internal, "engine: sampling row {} outside the step's {} logit rows", r.logit_row,
           batch.logit_rows.size());
    }
  }
  backend_->sample(logits, sampling, out);
}

}  // namespace ingot::engine
