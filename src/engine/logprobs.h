// Log-probabilities reported to clients: log-softmax of the *raw* model logits (before logit
// bias, penalties, temperature and filters), as OpenAI and vLLM report them, so the numbers
// describe the model rather than the sampling settings. Cost: O(vocab) for the normalizer and
// O(vocab log n_top) for the alternatives.
#pragma once

#include "ingot/request.h"

#include <cstdint>
#include <span>
#include <vector>

namespace ingot::engine {

// log(sum(exp(logits))), computed stably in double.
double log_sum_exp(std::span<const float> logits);

// The chosen token's log-probability.
TokenLogprob token_logprob(std::span<const float> logits, double lse, int32_t token);

// The n_top most likely tokens, most likely first (ties: lower id first).
std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, double lse, int32_t n_top);

// Index of the largest logit (ties: lower id first); NaN never wins.
int32_t argmax(std::span<const float> logits);

}  // namespace ingot::engine
