// Admission checks done on the submitting thread, before a request reaches the loop: a
// non-empty prompt of valid token ids, and a prompt + max_tokens that can ever fit the context
// length and the KV pool (else a rejection that says which limit and by how much). O(prompt).
#pragma once

#include "ingot/sampling.h"

#include <cstdint>
#include <span>

namespace ingot::engine {

struct RequestLimits {
  int32_t n_ctx = 0;                // prompt + generated tokens per sequence
  int32_t max_sequence_tokens = 0;  // min(n_ctx, KV pool capacity in tokens)
  int32_t n_blocks = 0;
  int32_t block_size = 16;
};

// Throws Error(invalid_argument) for an empty prompt or a token id outside [0, n_vocab).
void check_prompt(std::span<const int32_t> prompt, int32_t n_vocab);

// params.max_tokens when set, else what is left of the sequence limit after the prompt.
// Throws Error(out_of_range) when the request can never fit.
int32_t resolve_max_tokens(const SamplingParams& params, int64_t n_prompt, const RequestLimits& limits);

}  // namespace ingot::engine
