// Per-request token choice from one row of logits: logit bias, end-of-generation suppression
// before min_tokens, repetition / presence / frequency penalties over a window of seen tokens,
// then greedy argmax, or temperature -> min-p -> top-k -> top-p -> a draw from a seeded
// portable PRNG. Logprobs come from the raw logits (see logprobs.h). Cost: O(vocab) per token
// (a copy only when something modifies logits) plus O(vocab log k) for top-k / top-p.
#pragma once

#include "backend/sampling.h"
#include "engine/rng.h"
#include "ingot/request.h"
#include "ingot/sampling.h"

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ingot::engine {

struct SampleResult {
  int32_t token = -1;
  TokenLogprob logprob;              // filled when params.logprobs
  std::vector<TokenLogprob> top;     // params.top_logprobs alternatives
};

class Sampler {
 public:
  // `eog_tokens`: the model's end-of-generation ids (suppressed before min_tokens unless
  // ignore_eos). `prompt` seeds the penalty window when params.penalize_prompt. Throws
  // Error(invalid_argument) for invalid params (see validate()).
  Sampler(const SamplingParams& params, int32_t n_vocab, std::span<const int32_t> prompt,
          std::vector<int32_t> eog_tokens, uint64_t seed);

  // Picks the next token from `logits` (n_vocab floats) and records it as generated.
  SampleResult sample(std::span<const float> logits);

  // Sampling on the device (backend/sampling.h): appends the description of the next pick from
  // logit row `logit_row` to `batch` (filters, and bias / bans / penalty counts merged into one
  // entry per token). The device makes the same decisions as sample(); its draw comes from
  // Philox(seed, n_generated) instead of this sampler's stream. Cost: O(window + bias).
  void device_row(int32_t logit_row, backend::SampleBatch& batch) const;
  // Records the device's pick as sample() records its own, and returns it. Error(internal) when
  // the device found every logit -inf or NaN.
  SampleResult accept(const backend::SampledToken& picked);

  int32_t n_generated() const noexcept { return n_generated_; }
  const SamplingParams& params() const noexcept { return params_; }

  // The seed a request uses: its own (mixed with the choice index for n > 1), or `fallback`.
  static uint64_t seed_for(const SamplingParams& params, int32_t choice, uint64_t fallback);

 private:
  bool modifies_logits() const;
  void apply_modifiers(std::span<float> logits) const;
  int32_t draw(std::span<const float> logits);
  size_t nucleus_size(double target);
  double collect(std::span<const float> logits, float max, float cutoff);
  void remember(int32_t token);

  SamplingParams params_;
  int32_t n_vocab_;
  std::vector<int32_t> suppressed_;  // ids banned until min_tokens are generated
  Rng rng_;
  uint64_t seed_;
  int32_t n_generated_ = 0;
  // Penalty window: the seen tokens in order and how often each occurs in the window.
  std::vector<int32_t> history_;
  size_t window_start_ = 0;
  std::unordered_map<int32_t, int32_t> counts_;
  // Scratch, reused across calls.
  std::vector<float> work_;
  std::vector<std::pair<float, int32_t>> candidates_;
};

}  // namespace ingot::engine
