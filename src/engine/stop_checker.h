// When a sequence stops, and which text may be streamed now: end-of-generation tokens (unless
// ignore_eos), stop token ids, max_tokens, min_tokens, and stop strings matched on detokenized
// text. Text that could still be the start of a stop string is held back until it cannot, so a
// partial stop string is never emitted; the stop string itself is never part of the output.
// Cost per token: O(held text x total stop-string length), held text < longest stop string.
#pragma once

#include "ingot/request.h"
#include "ingot/sampling.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::engine {

struct StopStep {
  std::string text;                   // safe to emit now (may be empty)
  std::optional<FinishReason> finish;  // set when the sequence ends with this token
  std::string matched_stop;           // the stop string that ended it, if any
};

class StopChecker {
 public:
  StopChecker(const SamplingParams& params, std::vector<int32_t> eog_tokens);

  // Feeds the next generated token and its text piece (from a streaming detokenizer, so never
  // half a UTF-8 character). A stop (token or string) can only happen once more than
  // min_tokens tokens exist: the first min_tokens tokens are always generated.
  StopStep on_token(int32_t token, std::string_view piece);

  // Releases the held text when the sequence ends for an outside reason (cancel, context full).
  std::string flush();

  int32_t n_generated() const noexcept { return n_generated_; }
  const std::string& held() const noexcept { return held_; }

 private:
  bool is_stop_token(int32_t token) const;
  // Length of the longest suffix of `text` that is a proper prefix of some stop string.
  size_t held_suffix_length(std::string_view text) const;

  std::vector<int32_t> stop_tokens_;
  std::vector<std::string> stop_strings_;
  std::optional<int32_t> max_tokens_;
  int32_t min_tokens_ = 0;
  int32_t n_generated_ = 0;
  std::string held_;
};

}  // namespace ingot::engine
