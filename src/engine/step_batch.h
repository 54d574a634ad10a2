// One engine step as the model sees it, planned on the host by the Scheduler: the flattened
// new tokens of every scheduled sequence (decodes and prefill chunks mixed), their positions,
// the KV slot each new token is written to (block id x block size + offset), each sequence's
// block table, which rows need logits, and the block copies to run before the step. Plain data.
#pragma once

#include "kv/block_manager.h"

#include <cstdint>
#include <span>
#include <vector>

namespace ingot::engine {

using SeqId = kv::SeqId;

struct StepSeq {
  SeqId seq = 0;
  int32_t query_start = 0;  // first row of this sequence in tokens / positions / slots
  int32_t n_query = 0;      // rows fed this step (1 for a decode)
  int32_t n_context = 0;    // tokens in this sequence's KV after the step (last position + 1)
  int32_t block_table_start = 0;  // into StepBatch::block_tables
  int32_t n_blocks = 0;
  bool is_prefill = false;  // feeding prompt (or recomputed) tokens rather than one new token
  bool needs_logits = false;  // the last row is a decode or ends the prefill
  int32_t logits_index = -1;  // index into StepBatch::logit_rows (and the sampled tokens)
};

struct StepBatch {
  std::vector<int32_t> tokens;     // [n_rows]
  std::vector<int32_t> positions;  // [n_rows]
  std::vector<int64_t> slots;      // [n_rows] KV slot of each new token
  std::vector<int32_t> block_tables;  // concatenated per-sequence block tables
  std::vector<StepSeq> seqs;
  std::vector<int32_t> logit_rows;  // rows whose logits are needed, in sequence order
  std::vector<kv::BlockCopy> copies;  // run before the forward pass
  std::vector<SeqId> preempted;       // sequences sent back to the waiting queue this step

  bool empty() const noexcept { return seqs.empty(); }
  int32_t n_rows() const noexcept { return static_cast<int32_t>(tokens.size()); }
  std::span<const int32_t> block_table(const StepSeq& s) const {
    return std::span<const int32_t>(block_tables).subspan(static_cast<size_t>(s.block_table_start),
                                                          static_cast<size_t>(s.n_blocks));
  }
};

}  // namespace ingot::engine
