#include "engine/request_limits.h"

#include "core/error.h"

namespace ingot::engine {

void check_prompt(std::span<const int32_t> prompt, int32_t n_vocab) {
  if (prompt.empty()) fail(ErrorCode::invalid_argument, "the prompt is empty");
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= n_vocab) {
      fail(ErrorCode::invalid_argument, "prompt token {} (id {}) is outside the vocabulary [0, {})", i,
           prompt[i], n_vocab);
    }
  }
}

int32_t resolve_max_tokens(const SamplingParams& params, int64_t n_prompt, const RequestLimits& limits) {
  const int64_t capacity = static_cast<int64_t>(limits.n_blocks) * limits.block_size;
  if (!params.max_tokens) {
    if (n_prompt >= limits.max_sequence_tokens) {
      if (n_prompt >= limits.n_ctx) {
        fail(ErrorCode::out_of_range,
             "the prompt ({} tokens) leaves no room to generate within the context length of {}", n_prompt,
             limits.n_ctx);
      }
      fail(ErrorCode::out_of_range,
           "the prompt ({} tokens) leaves no room to generate within the KV cache of {} tokens", n_prompt,
           capacity);
    }
    return static_cast<int32_t>(limits.max_sequence_tokens - n_prompt);
  }
  const int64_t max_tokens = *params.max_tokens;
  const int64_t n_total = n_prompt + max_tokens;
  if (n_total > limits.n_ctx) {
    fail(ErrorCode::out_of_range,
         "the prompt ({} tokens) plus max_tokens ({}) is {} tokens, over the context length of {}", n_prompt,
         max_tokens, n_total, limits.n_ctx);
  }
  if (n_total > capacity) {
    const int64_t n_blocks = (n_total + limits.block_size - 1) / limits.block_size;
    fail(ErrorCode::out_of_range,
         "the prompt ({} tokens) plus max_tokens ({}) needs {} KV blocks, but the whole KV cache has {} "
         "blocks ({} tokens)",
         n_prompt, max_tokens, n_blocks, limits.n_blocks, capacity);
  }
  return static_cast<int32_t>(max_tokens);
}

}  // namespace ingot::engine
