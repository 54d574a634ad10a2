// Continuous batching (pure host logic, no model): each schedule() mixes one decode token of
// every running sequence with chunked prefill of waiting ones under max_batch_tokens and
// max_seqs, FCFS. When KV blocks run out it preempts the newest running sequence (frees its
// blocks; it is recomputed later, mostly from the prefix cache) instead of failing. Cost per
// step: O(running + admitted) plus O(new tokens); a preemption is O(its blocks).
#pragma once

#include "engine/sequence.h"
#include "engine/step_batch.h"
#include "kv/block_manager.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace ingot::engine {

struct SchedulerConfig {
  int32_t max_batch_tokens = 2048;  // rows fed per step (decodes + prefill chunks)
  int32_t max_seqs = 256;           // sequences per step
  int32_t max_context = 4096;       // prompt + generated tokens per sequence
  int32_t n_reserve_blocks = 0;     // admission leaves this many blocks for running decodes
};

struct SchedulerStats {
  uint64_t n_steps = 0;
  uint64_t n_preemptions = 0;
  uint64_t n_prompt_tokens_computed = 0;  // prefill rows, including recomputation
  uint64_t n_decode_tokens = 0;
};

// What one step produced for one sequence that sampled a token.
struct StepOutput {
  SeqId seq = 0;
  int32_t token = -1;
  int32_t n_generated = 0;  // including this token
  int32_t n_prompt_tokens = 0;
  int32_t n_cached_prompt_tokens = 0;
  bool finished_by_length = false;  // max_tokens or the context length reached; already freed
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, kv::KvBlockManager& kv);

  // Why a request of this size can never run, or nullopt when it can.
  std::optional<std::string> why_never_fits(int64_t n_prompt, int64_t max_tokens) const;
  // Queues a sequence (FCFS). Throws Error(invalid_argument) for an empty prompt, a known id or
  // max_tokens < 1, Error(out_of_range) with why_never_fits' message when it can never fit.
  void add(SeqId id, std::vector<int32_t> prompt, int32_t max_tokens);

  // Plans the next step; empty when there is nothing to run. KV slots of the returned rows are
  // allocated; the caller must run the step and then call on_step_done with it.
  StepBatch schedule();
  // `sampled[i]` is the token chosen for batch.logit_rows[i]. Advances computed counts (newly
  // full blocks enter the prefix cache), appends sampled tokens, finishes sequences at their
  // length limit. Sequences cancelled since schedule() are skipped.
  std::vector<StepOutput> on_step_done(const StepBatch& batch, std::span<const int32_t> sampled);

  // n > 1 choices: right after on_step_done gave `parent` a token, `child` becomes a copy of it
  // whose last token is `token` instead (sampled by the child's own sampler from the same
  // logits). All KV blocks are shared; the shared partial block is copied on first write.
  // Throws Error(internal) unless `parent` is running with a sampled token not yet in the KV.
  void fork(SeqId parent, SeqId child, int32_t token);

  // Ends a sequence (stop token, stop string) and frees its blocks. False if unknown.
  bool finish(SeqId id) { return remove(id); }
  // Same, for a cancelled request (waiting or running).
  bool cancel(SeqId id) { return remove(id); }

  const Sequence* find(SeqId id) const;
  size_t n_waiting() const noexcept { return waiting_.size(); }
  size_t n_running() const noexcept { return running_.size(); }
  bool has_work() const noexcept { return !waiting_.empty() || !running_.empty(); }
  const SchedulerStats& stats() const noexcept { return stats_; }
  const SchedulerConfig& config() const noexcept { return config_; }

 private:
  bool remove(SeqId id);
  void preempt(SeqId id, StepBatch& batch);
  bool ensure_slots(Sequence& seq, StepBatch& batch);
  void add_rows(Sequence& seq, int32_t n, StepBatch& batch);

  SchedulerConfig config_;
  kv::KvBlockManager& kv_;
  std::unordered_map<SeqId, Sequence> seqs_;
  std::deque<SeqId> waiting_;
  std::vector<SeqId> running_;  // admission order: oldest first, the preemption victim last
  uint64_t next_arrival_ = 0;
  SchedulerStats stats_;
};

}  // namespace ingot::engine
