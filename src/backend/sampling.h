// Backend-neutral description of device-side sampling: one SampleRow per token to pick (its
// logit row, filters, penalties as a compact per-token list, Philox seed and counter) and the
// SampledToken that comes back (id, its log-probability, top alternatives). Plain data; the
// engine's Sampler fills rows (Sampler::device_row) and accepts results. Cost: a few hundred
// bytes per row plus 12 bytes per penalized or biased token.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::backend {

inline constexpr int32_t kMaxTopLogprobs = 20;

// One token with a modified logit. Applied in the host Sampler's order: += bias, then -inf when
// banned, then the repetition / presence / frequency penalties when count > 0.
struct SampleMod {
  int32_t token = 0;
  int32_t count = 0;   // occurrences in the penalty window (0: not penalized)
  float bias = 0.0f;   // added to the logit
  int32_t banned = 0;  // 1: logit = -inf (end-of-generation before min_tokens)
};

struct SampleRow {
  int32_t logit_row = 0;      // row of the logits tensor
  float temperature = 0.0f;   // <= 0: greedy
  int32_t top_k = 0;          // 0: off
  float top_p = 1.0f;         // 1: off
  float min_p = 0.0f;         // 0: off
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;          // Philox4x32-10 key
  uint64_t counter = 0;       // Philox counter: the request's token index
  int32_t n_top_logprobs = 0; // alternatives to return, 0..kMaxTopLogprobs
  int32_t want_logprob = 0;   // 1: the chosen token's log-probability too
  int32_t mods_begin = 0;     // [mods_begin, mods_begin + mods_count) of SampleBatch::mods
  int32_t mods_count = 0;     // tokens are distinct within a row
};

struct SampleBatch {
  std::vector<SampleRow> rows;
  std::vector<SampleMod> mods;
  void clear() {
    rows.clear();
    mods.clear();
  }
};

struct SampledToken {
  int32_t token = -1;       // -1: every candidate was -inf or NaN
  float logprob = 0.0f;     // log-softmax of the raw logits at token
  int32_t n_top = 0;
  int32_t top_token[kMaxTopLogprobs] = {};
  float top_logprob[kMaxTopLogprobs] = {};
};

}  // namespace ingot::backend
