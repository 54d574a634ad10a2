// Public sampling parameters of one request: how the next token is chosen (temperature, top-k,
// top-p, min-p, penalties, logit bias, seed), what is reported (logprobs) and when generation
// stops (max/min tokens, stop strings, end-of-generation tokens). Plain data; validate() checks
// ranges and throws ingot::Error(invalid_argument) naming the bad field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ingot {

struct SamplingParams {
  // --- token choice ---
  float temperature = 1.0f;  // 0 means greedy (argmax after bias and penalties)
  int32_t top_k = 0;         // keep the k most likely tokens; 0 (or >= vocab) keeps all
  float top_p = 1.0f;        // nucleus: smallest set whose probability reaches top_p; 1 keeps all
  float min_p = 0.0f;        // drop tokens with p < min_p * p(most likely); 0 keeps all
  // Penalties, applied to tokens seen in the penalty window (generated tokens, plus the prompt
  // when penalize_prompt is set; the last penalty_last_n of them, 0 meaning all):
  float repetition_penalty = 1.0f;  // llama.cpp style: positive logit / r, negative logit * r
  float presence_penalty = 0.0f;    // OpenAI: logit -= presence if the token was seen
  float frequency_penalty = 0.0f;   // OpenAI: logit -= frequency * count
  bool penalize_prompt = false;
  int32_t penalty_last_n = 0;
  std::vector<std::pair<int32_t, float>> logit_bias;  // token id -> added to its logit
  std::optional<uint64_t> seed;  // same seed + same prompt + same params -> same output

  // --- reporting ---
  bool logprobs = false;     // report the log-probability of each chosen token
  int32_t top_logprobs = 0;  // and of this many most likely alternatives (0..20)

  // --- stopping ---
  std::optional<int32_t> max_tokens;  // unset: up to the context length
  int32_t min_tokens = 0;             // end-of-generation and stop strings are ignored before
  std::vector<std::string> stop;      // stop strings; the match is not part of the output
  std::vector<int32_t> stop_token_ids;  // extra token ids that end generation like EOS
  bool ignore_eos = false;              // keep generating past end-of-generation tokens

  int32_t n = 1;  // number of choices for the same prompt

  bool is_greedy() const noexcept { return temperature <= 0.0f; }
};

// Throws Error(invalid_argument) for a field out of range (negative temperature, top_p outside
// (0, 1], more than 20 top_logprobs, min_tokens > max_tokens, an empty stop string, ...).
// n_vocab > 0 also checks token ids in logit_bias and stop_token_ids.
void validate(const SamplingParams& params, int32_t n_vocab = 0);

}  // namespace ingot
