// Validation of the public SamplingParams and names of finish reasons (include/ingot/).
#include "core/error.h"
#include "ingot/request.h"
#include "ingot/sampling.h"

#include <cmath>

namespace ingot {

std::string_view to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::rejected: return "rejected";
    case FinishReason::error: return "error";
  }
  return "error";
}

namespace {
void check_range(float v, float lo, float hi, const char* name) {
  if (!(v >= lo && v <= hi)) fail(ErrorCode::invalid_argument, "{} must be in [{}, {}], got {}", name, lo, hi, v);
}
void check_token(int32_t token, int32_t n_vocab, const char* name) {
  if (token < 0 || (n_vocab > 0 && token >= n_vocab)) {
    fail(ErrorCode::invalid_argument, "{}: token id {} is outside the vocabulary [0, {})", name, token, n_vocab);
  }
}
}  // namespace

void validate(const SamplingParams& p, int32_t n_vocab) {
  check_range(p.temperature, 0.0f, 100.0f, "temperature");
  if (p.top_k < -1) fail(ErrorCode::invalid_argument, "top_k must be -1, 0 (all) or positive, got {}", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) fail(ErrorCode::invalid_argument, "top_p must be in (0, 1], got {}", p.top_p);
  check_range(p.min_p, 0.0f, 1.0f, "min_p");
  if (!(p.repetition_penalty > 0.0f && p.repetition_penalty <= 100.0f)) {
    fail(ErrorCode::invalid_argument, "repetition_penalty must be in (0, 100], got {}", p.repetition_penalty);
  }
  check_range(p.presence_penalty, -2.0f, 2.0f, "presence_penalty");
  check_range(p.frequency_penalty, -2.0f, 2.0f, "frequency_penalty");
  if (p.penalty_last_n < 0) fail(ErrorCode::invalid_argument, "penalty_last_n must not be negative, got {}", p.penalty_last_n);
  for (const auto& [token, bias] : p.logit_bias) {
    check_token(token, n_vocab, "logit_bias");
    check_range(bias, -100.0f, 100.0f, "logit_bias value");
  }
  if (p.top_logprobs < 0 || p.top_logprobs > 20) {
    fail(ErrorCode::invalid_argument, "top_logprobs must be in [0, 20], got {}", p.top_logprobs);
  }
  if (p.max_tokens && *p.max_tokens < 1) fail(ErrorCode::invalid_argument, "max_tokens must be at least 1, got {}", *p.max_tokens);
  if (p.min_tokens < 0) fail(ErrorCode::invalid_argument, "min_tokens must not be negative, got {}", p.min_tokens);
  if (p.max_tokens && p.min_tokens > *p.max_tokens) {
    fail(ErrorCode::invalid_argument, "min_tokens ({}) is larger than max_tokens ({})", p.min_tokens, *p.max_tokens);
  }
  if (p.stop.size() > 16) fail(ErrorCode::invalid_argument, "at most 16 stop strings, got {}", p.stop.size());
  for (const std::string& s : p.stop) {
    if (s.empty()) fail(ErrorCode::invalid_argument, "stop strings must not be empty");
    if (s.size() > 1024) fail(ErrorCode::invalid_argument, "a stop string is {} bytes, over the limit of 1024", s.size());
  }
  for (const int32_t t : p.stop_token_ids) check_token(t, n_vocab, "stop_token_ids");
  if (p.n < 1 || p.n > 128) fail(ErrorCode::invalid_argument, "n must be in [1, 128], got {}", p.n);
}

}  // namespace ingot
