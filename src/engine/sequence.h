// The scheduler's view of one generating sequence: its prompt, the tokens generated so far, how
// many of them have KV computed, and its limits. Tokens are read through token_at() so the
// prompt and the generated part are never concatenated on the hot path.
#pragma once

#include "kv/block_manager.h"

#include <cstdint>
#include <vector>

namespace ingot::engine {

enum class SeqStatus { waiting, running };

struct Sequence {
  kv::SeqId id = 0;
  std::vector<int32_t> prompt;
  std::vector<int32_t> generated;
  int32_t max_tokens = 0;
  int32_t n_computed = 0;              // leading tokens whose KV is in the cache
  int32_t n_cached_prompt_tokens = -1;  // prefix-cache hit at first admission (-1: not yet)
  int32_t n_preemptions = 0;
  uint64_t arrival = 0;  // admission order
  SeqStatus status = SeqStatus::waiting;

  int32_t n_tokens() const noexcept { return static_cast<int32_t>(prompt.size() + generated.size()); }
  int32_t token_at(int32_t i) const noexcept {
    const auto n_prompt = static_cast<int32_t>(prompt.size());
    return i < n_prompt ? prompt[static_cast<size_t>(i)] : generated[static_cast<size_t>(i - n_prompt)];
  }
  std::vector<int32_t> all_tokens() const {
    std::vector<int32_t> t(prompt);
    t.insert(t.end(), generated.begin(), generated.end());
    return t;
  }
};

}  // namespace ingot::engine
