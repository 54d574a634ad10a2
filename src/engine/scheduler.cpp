#include "engine/scheduler.h"

#include "core/error.h"

#include <algorithm>

namespace ingot::engine {

Scheduler::Scheduler(const SchedulerConfig& config, kv::KvBlockManager& kv) : config_(config), kv_(kv) {
  if (config.max_batch_tokens < 1 || config.max_seqs < 1 || config.max_context < 1 || config.n_reserve_blocks < 0) {
    fail(ErrorCode::invalid_argument,
         "scheduler: max_batch_tokens ({}), max_seqs ({}) and max_context ({}) must be positive and "
         "n_reserve_blocks ({}) not negative",
         config.max_batch_tokens, config.max_seqs, config.max_context, config.n_reserve_blocks);
  }
}

std::optional<std::string> Scheduler::why_never_fits(int64_t n_prompt, int64_t max_tokens) const {
  const int64_t n_total = n_prompt + max_tokens;
  if (n_total > config_.max_context) {
    return fmt::format("the prompt ({} tokens) plus max_tokens ({}) is {} tokens, over the context length of {}",
                       n_prompt, max_tokens, n_total, config_.max_context);
  }
  const int64_t n_blocks = kv_.blocks_for_tokens(n_total);
  if (n_blocks > kv_.n_blocks()) {
    return fmt::format(
        "the prompt ({} tokens) plus max_tokens ({}) needs {} KV blocks, but the whole KV cache has {} "
        "blocks ({} tokens)",
        n_prompt, max_tokens, n_blocks, kv_.n_blocks(), static_cast<int64_t>(kv_.n_blocks()) * kv_.block_size());
  }
  return std::nullopt;
}

void Scheduler::add(SeqId id, std::vector<int32_t> prompt, int32_t max_tokens) {
  if (prompt.empty()) fail(ErrorCode::invalid_argument, "request {}: the prompt is empty", id);
  if (max_tokens < 1) fail(ErrorCode::invalid_argument, "request {}: max_tokens must be at least 1, got {}", id, max_tokens);
  if (seqs_.count(id) != 0) fail(ErrorCode::invalid_argument, "request {}: id already in use", id);
  if (auto why = why_never_fits(static_cast<int64_t>(prompt.size()), max_tokens)) {
    fail(ErrorCode::out_of_range, "request {} can never run: {}", id, *why);
  }
  Sequence s;
  s.id = id;
  s.prompt = std::move(prompt);
  s.max_tokens = max_tokens;
  s.arrival = next_arrival_++;
  seqs_.emplace(id, std::move(s));
  waiting_.push_back(id);
}

void Scheduler::fork(SeqId parent, SeqId child, int32_t token) {
  const auto it = seqs_.find(parent);
  if (it == seqs_.end() || it->second.status != SeqStatus::running || it->second.generated.empty() ||
      kv_.n_tokens(parent) != it->second.n_tokens() - 1 || seqs_.count(child) != 0) {
    fail(ErrorCode::internal, "scheduler: cannot fork sequence {} into {}", parent, child);
  }
  Sequence copy = it->second;
  copy.id = child;
  copy.generated.back() = token;
  kv_.fork(parent, child);
  const auto pos = std::upper_bound(running_.begin(), running_.end(), copy.arrival,
                                    [this](uint64_t a, SeqId r) { return a < seqs_.at(r).arrival; });
  running_.insert(pos, child);
  seqs_.emplace(child, std::move(copy));
}

const Sequence* Scheduler::find(SeqId id) const {
  const auto it = seqs_.find(id);
  return it == seqs_.end() ? nullptr : &it->second;
}

bool Scheduler::remove(SeqId id) {
  const auto it = seqs_.find(id);
  if (it == seqs_.end()) return false;
  if (it->second.status == SeqStatus::running) {
    running_.erase(std::find(running_.begin(), running_.end(), id));
    kv_.free(id);
  } else {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), id));
  }
  seqs_.erase(it);
  return true;
}

void Scheduler::preempt(SeqId id, StepBatch& batch) {
  Sequence& s = seqs_.at(id);
  running_.erase(std::find(running_.begin(), running_.end(), id));
  kv_.free(id);
  s.n_computed = 0;
  s.status = SeqStatus::waiting;
  ++s.n_preemptions;
  ++stats_.n_preemptions;
  waiting_.push_front(id);  // resumes first; recomputes prompt + generated tokens
  batch.preempted.push_back(id);
}

// Gives a running sequence KV slots for its tokens not yet in the cache (the token sampled last
// step), preempting the newest running sequences while blocks are short. False if `seq` itself
// had to be preempted.
bool Scheduler::ensure_slots(Sequence& seq, StepBatch& batch) {
  const int32_t n_missing = seq.n_tokens() - kv_.n_tokens(seq.id);
  if (n_missing <= 0) return true;
  while (!kv_.can_append(seq.id, n_missing)) {
    const SeqId victim = running_.back();
    preempt(victim, batch);
    if (victim == seq.id) return false;
  }
  std::vector<int32_t> missing;
  for (int32_t i = seq.n_tokens() - n_missing; i < seq.n_tokens(); ++i) missing.push_back(seq.token_at(i));
  kv_.append(seq.id, missing);
  return true;
}

void Scheduler::add_rows(Sequence& seq, int32_t n, StepBatch& batch) {
  StepSeq ss;
  ss.seq = seq.id;
  ss.query_start = batch.n_rows();
  ss.n_query = n;
  ss.n_context = seq.n_computed + n;
  ss.is_prefill = seq.n_computed < static_cast<int32_t>(seq.prompt.size()) || n > 1 ||
                  seq.n_computed + 1 < seq.n_tokens();
  ss.needs_logits = ss.n_context == seq.n_tokens();
  const auto table = kv_.block_table(seq.id);
  ss.block_table_start = static_cast<int32_t>(batch.block_tables.size());
  ss.n_blocks = kv_.blocks_for_tokens(ss.n_context);
  batch.block_tables.insert(batch.block_tables.end(), table.begin(), table.begin() + ss.n_blocks);
  for (int32_t p = seq.n_computed; p < ss.n_context; ++p) {
    batch.tokens.push_back(seq.token_at(p));
    batch.positions.push_back(p);
    batch.slots.push_back(kv_.slot(seq.id, p));
  }
  if (ss.needs_logits) {
    ss.logits_index = static_cast<int32_t>(batch.logit_rows.size());
    batch.logit_rows.push_back(ss.query_start + n - 1);
  }
  if (ss.is_prefill) stats_.n_prompt_tokens_computed += static_cast<uint64_t>(n);
  else stats_.n_decode_tokens += static_cast<uint64_t>(n);
  batch.seqs.push_back(ss);
}

StepBatch Scheduler::schedule() {
  StepBatch batch;
  int32_t budget = config_.max_batch_tokens;

  // 1. Running sequences, oldest first: one decode token each, or the next prefill chunk.
  for (size_t i = 0; i < running_.size() && budget > 0 &&
                     static_cast<int32_t>(batch.seqs.size()) < config_.max_seqs;) {
    Sequence& seq = seqs_.at(running_[i]);
    if (!ensure_slots(seq, batch)) break;  // it was the newest: everything older is scheduled
    const int32_t n = std::min(seq.n_tokens() - seq.n_computed, budget);
    add_rows(seq, n, batch);
    budget -= n;
    ++i;
  }

  // 2. Admit waiting sequences in arrival order while tokens, sequence slots and blocks last.
  //    Not after a preemption: the blocks just freed belong to the sequences still running.
  while (batch.preempted.empty() && !waiting_.empty() && budget > 0 &&
         static_cast<int32_t>(running_.size()) < config_.max_seqs &&
         static_cast<int32_t>(batch.seqs.size()) < config_.max_seqs) {
    Sequence& seq = seqs_.at(waiting_.front());
    const std::vector<int32_t> tokens = seq.all_tokens();
    const int32_t reserve = running_.empty() ? 0 : config_.n_reserve_blocks;
    if (!kv_.can_allocate(tokens, reserve)) break;  // FCFS: nobody overtakes the head
    waiting_.pop_front();
    seq.n_computed = kv_.allocate(seq.id, tokens);
    if (seq.n_cached_prompt_tokens < 0) {
      seq.n_cached_prompt_tokens = std::min(seq.n_computed, static_cast<int32_t>(seq.prompt.size()));
    }
    seq.status = SeqStatus::running;
    const auto pos = std::upper_bound(running_.begin(), running_.end(), seq.arrival,
                                      [this](uint64_t a, SeqId r) { return a < seqs_.at(r).arrival; });
    running_.insert(pos, seq.id);
    const int32_t n = std::min(seq.n_tokens() - seq.n_computed, budget);
    add_rows(seq, n, batch);
    budget -= n;
  }

  batch.copies = kv_.take_copies();
  if (!batch.empty()) ++stats_.n_steps;
  return batch;
}

std::vector<StepOutput> Scheduler::on_step_done(const StepBatch& batch, std::span<const int32_t> sampled) {
  if (sampled.size() != batch.logit_rows.size()) {
    fail(ErrorCode::internal, "scheduler: {} sampled tokens for {} logit rows", sampled.size(), batch.logit_rows.size());
  }
  std::vector<StepOutput> outputs;
  for (const StepSeq& ss : batch.seqs) {
    const auto it = seqs_.find(ss.seq);
    if (it == seqs_.end() || it->second.status != SeqStatus::running) continue;  // cancelled
    Sequence& seq = it->second;
    seq.n_computed = ss.n_context;
    kv_.mark_computed(seq.id, seq.n_computed);
    if (!ss.needs_logits) continue;
    StepOutput out;
    out.seq = seq.id;
    out.token = sampled[static_cast<size_t>(ss.logits_index)];
    seq.generated.push_back(out.token);
    out.n_generated = static_cast<int32_t>(seq.generated.size());
    out.n_prompt_tokens = static_cast<int32_t>(seq.prompt.size());
    out.n_cached_prompt_tokens = std::max(seq.n_cached_prompt_tokens, 0);
    out.finished_by_length = out.n_generated >= seq.max_tokens || seq.n_tokens() >= config_.max_context;
    outputs.push_back(out);
    if (out.finished_by_length) remove(seq.id);
  }
  return outputs;
}

}  // namespace ingot::engine
