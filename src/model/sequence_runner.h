// SequenceRunner: one sequence over its own KV pool, for the CLI commands that need no engine
// (run, eval, perplexity, bench). Blocks are laid out in order (slot = position), prompts are
// fed in chunks of at most max_chunk tokens, and logits come back for the last token or for
// every token. Memory: a KV pool of n_ctx tokens and the model's planned activations.
#pragma once

#include "model/model.h"

#include <span>
#include <vector>

namespace ingot::model {

struct SequenceOptions {
  int64_t n_ctx = 0;                       // 0: the model's context length
  int64_t max_chunk = 512;                 // rows per forward step
  quant::Type kv_type = quant::Type::F16;  // F16 (default, as llama.cpp) or F32 (exact parity)
};

class SequenceRunner {
 public:
  SequenceRunner(Model& model, const SequenceOptions& options);

  int64_t n_ctx() const noexcept { return n_ctx_; }
  int64_t position() const noexcept { return n_past_; }
  // Forgets the sequence (the next feed starts at position 0).
  void reset() noexcept { n_past_ = 0; }

  // Appends tokens. Returns [n_tokens][n_vocab] logits when all_logits, else the last token's
  // [n_vocab]. Error(out_of_range) when the sequence would pass n_ctx.
  std::vector<float> feed(std::span<const int32_t> tokens, bool all_logits = false);
  // Appends tokens like feed() but leaves the last token's logits on the device (no download;
  // `ingot bench` tg, as llama-bench); waits for the step, so device errors surface here.
  void advance(std::span<const int32_t> tokens);

 private:
  // Runs tokens[done, done + chunk): logits of its rows `rows` to `out`, or kept on the
  // device when out is empty.
  void run_chunk(std::span<const int32_t> tokens, int64_t done, int64_t chunk, std::span<const int32_t> rows,
                 std::span<float> out);

  Model& model_;
  int64_t n_ctx_ = 0;
  int64_t max_chunk_ = 0;
  int64_t block_size_ = 16;
  backend::KvPoolStorage kv_;
  std::vector<int32_t> block_table_;
  std::vector<int32_t> positions_, slots_, rows_;
  int64_t n_past_ = 0;
};

}  // namespace ingot::model
