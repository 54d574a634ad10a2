// OpenAI request JSON -> a checked GenerateRequest: the prompt (text, token ids or chat
// messages), the sampling parameters and the response options (stream, usage, logprobs).
// Every field is type- and range-checked here, so a bad request is a 400 naming the field
// before it reaches the engine; unknown fields are ignored, null means absent. O(body size).
#pragma once

#include "ingot/sampling.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::server {

enum class Endpoint { completions, chat };

struct GenerateRequest {
  Endpoint endpoint = Endpoint::completions;
  std::string model;  // as sent; empty when absent
  // The prompt: completions give prompt_text or prompt_tokens; chat gives messages.
  bool prompt_is_tokens = false;
  std::string prompt_text;
  std::vector<int32_t> prompt_tokens;
  nlohmann::ordered_json messages;  // the validated array (chat only)
  SamplingParams sampling;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  // Completions: logprobs: N (0..20) asks for N alternatives; chat: logprobs: true + top_logprobs.
  bool want_logprobs = false;
  std::string user;
};

struct ParseLimits {
  int32_t n_vocab = 0;          // token ids (prompt, logit_bias) must be below it; 0: unchecked
  int32_t max_n = 64;           // choices per request
  int32_t max_tokens = 1 << 20; // an upper bound on max_tokens, before the context check
  size_t max_messages = 4096;
};

// Parses a body; 400 for malformed JSON (invalid UTF-8 included) or a non-object.
nlohmann::ordered_json parse_json_body(std::string_view body);

// Throw ApiError(400) naming the offending field.
GenerateRequest parse_completion_request(const nlohmann::ordered_json& body, const ParseLimits& limits);
GenerateRequest parse_chat_request(const nlohmann::ordered_json& body, const ParseLimits& limits);

}  // namespace ingot::server
