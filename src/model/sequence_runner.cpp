#include "model/sequence_runner.h"

#include "core/error.h"

#include <algorithm>
#include <numeric>

namespace ingot::model {

SequenceRunner::SequenceRunner(Model& model, const SequenceOptions& options) : model_(model) {
  const HyperParams& hp = model.hparams();
  n_ctx_ = options.n_ctx > 0 ? options.n_ctx : hp.n_ctx_train;
  if (n_ctx_ > (int64_t{1} << 24)) fail(ErrorCode::out_of_range, "context {} is too large", n_ctx_);
  max_chunk_ = std::clamp<int64_t>(options.max_chunk, 1, n_ctx_);
  const int64_t n_blocks = (n_ctx_ + block_size_ - 1) / block_size_;
  kv_ = model.alloc_kv(n_blocks, block_size_, options.kv_type);
  block_table_.resize(static_cast<size_t>(n_blocks));
  std::iota(block_table_.begin(), block_table_.end(), 0);
  ForwardPlan plan;
  plan.max_tokens = max_chunk_;
  plan.max_seqs = 1;
  plan.max_blocks_per_seq = n_blocks;
  plan.max_logit_rows = max_chunk_;
  plan.max_context = n_blocks * block_size_;
  model.plan(plan);
}

void SequenceRunner::run_chunk(std::span<const int32_t> tokens, int64_t done, int64_t chunk,
                               std::span<const int32_t> rows, std::span<float> out) {
  positions_.resize(static_cast<size_t>(chunk));
  std::iota(positions_.begin(), positions_.end(), static_cast<int32_t>(n_past_));
  slots_ = positions_;
  const int32_t query_start[2] = {0, static_cast<int32_t>(chunk)};
  const int32_t context_len[1] = {static_cast<int32_t>(n_past_ + chunk)};
  ForwardBatch batch;
  batch.tokens = tokens.subspan(static_cast<size_t>(done), static_cast<size_t>(chunk));
  batch.positions = positions_;
  batch.slots = slots_;
  batch.query_start = query_start;
  batch.context_len = context_len;
  batch.block_tables = block_table_;
  batch.max_blocks_per_seq = static_cast<int64_t>(block_table_.size());
  batch.max_context = n_past_ + chunk;
  batch.logit_rows = rows;
  if (out.empty()) {
    (void)model_.forward_device(batch, kv_.pool);  // the backend copies host inputs on upload
  } else {
    model_.forward(batch, kv_.pool, out);
  }
  n_past_ += chunk;
}

void SequenceRunner::advance(std::span<const int32_t> tokens) {
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail(ErrorCode::invalid_argument, "no tokens to feed");
  if (n_past_ + n > n_ctx_) {
    fail(ErrorCode::out_of_range, "{} tokens after {} already in the sequence exceed the context of {}",
         n, n_past_, n_ctx_);
  }
  for (int64_t done = 0; done < n;) {
    const int64_t chunk = std::min(max_chunk_, n - done);
    rows_.assign(1, static_cast<int32_t>(chunk - 1));
    run_chunk(tokens, done, chunk, rows_, {});
    done += chunk;
  }
  model_.backend().synchronize();
}

std::vector<float> SequenceRunner::feed(std::span<const int32_t> tokens, bool all_logits) {
  const int64_t n_vocab = model_.hparams().n_vocab;
  const auto n = static_cast<int64_t>(tokens.size());
  if (n == 0) fail(ErrorCode::invalid_argument, "no tokens to feed");
  if (n_past_ + n > n_ctx_) {
    fail(ErrorCode::out_of_range, "{} tokens after {} already in the sequence exceed the context of {}",
         n, n_past_, n_ctx_);
  }
  std::vector<float> result(static_cast<size_t>((all_logits ? n : 1) * n_vocab));
  std::vector<float> discard;
  for (int64_t done = 0; done < n;) {
    const int64_t chunk = std::min(max_chunk_, n - done);
    const bool last_chunk = done + chunk == n;
    rows_.clear();
    if (all_logits) {
      for (int32_t r = 0; r < chunk; ++r) rows_.push_back(r);
    } else if (last_chunk) {
      rows_.push_back(static_cast<int32_t>(chunk - 1));
    } else {
      rows_.push_back(0);  // logits are not needed; compute one row and drop it
    }
    std::span<float> out;
    if (all_logits) {
      out = std::span<float>(result).subspan(static_cast<size_t>(done * n_vocab),
                                             static_cast<size_t>(chunk * n_vocab));
    } else if (last_chunk) {
      out = result;
    } else {
      discard.resize(static_cast<size_t>(n_vocab));
      out = discard;
    }
    run_chunk(tokens, done, chunk, rows_, out);
    done += chunk;
  }
  return result;
}

}  // namespace ingot::model
