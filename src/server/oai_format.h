// The OpenAI response shapes, built from engine events: chat.completion and text_completion
// bodies, their streamed chunks (chat deltas carry the role first, then content), usage with
// cached prompt tokens, logprobs in the chat form (content[] with token/logprob/bytes/
// top_logprobs) and the completions form (tokens/token_logprobs/top_logprobs/text_offset).
// Pure functions of their inputs; cost is linear in the text and tokens they carry.
#pragma once

#include "ingot/request.h"
#include "server/request_parser.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ingot::tokenizer {
class Tokenizer;
}

namespace ingot::server {

using Json = nlohmann::ordered_json;

// What every body and chunk of one response shares.
struct ResponseMeta {
  Endpoint endpoint = Endpoint::completions;
  std::string id;  // chatcmpl-... or cmpl-...
  std::string model;
  int64_t created = 0;  // Unix seconds
};

// "chatcmpl-" / "cmpl-" and 24 random alphanumerics.
std::string new_response_id(Endpoint endpoint);
ResponseMeta make_meta(Endpoint endpoint, std::string model);

// "stop" / "length"; cancelled and errors have no OpenAI name and are reported otherwise.
std::string finish_reason_name(FinishReason reason);

// Usage totals of a whole response: the prompt counted once, completions summed over choices.
struct UsageTotals {
  int32_t n_prompt = 0;
  int32_t n_completion = 0;
  int32_t n_cached = 0;
};
Json usage_json(const UsageTotals& usage);

// Logprobs of the tokens in one event, in the endpoint's form. `text_offset` (completions) is
// the byte offset of the next token in the choice's text and is advanced.
Json chat_logprob_entries(const Event& event, const tokenizer::Tokenizer& tokenizer);  // an array
Json completion_logprobs(const Event& event, const tokenizer::Tokenizer& tokenizer, int64_t& text_offset);

// Everything one choice produced, for a non-streamed body.
struct ChoiceResult {
  std::string text;
  Json logprobs = nullptr;  // chat: the content[] array; completions: the four arrays
  FinishReason finish_reason = FinishReason::stop;
  int64_t text_offset = 0;
  bool finished = false;
};
// Folds an event into its choice (logprobs only when `want_logprobs`).
void accumulate(ChoiceResult& choice, const Event& event, Endpoint endpoint, bool want_logprobs,
                const tokenizer::Tokenizer& tokenizer);

Json response_body(const ResponseMeta& meta, const std::vector<ChoiceResult>& choices, bool want_logprobs,
                   const UsageTotals& usage);

// Streamed chunks. `usage_field`: include "usage": null (stream_options.include_usage).
Json chat_chunk(const ResponseMeta& meta, int32_t index, Json delta, Json logprobs,
                std::optional<FinishReason> finish, bool usage_field);
Json completion_chunk(const ResponseMeta& meta, int32_t index, const std::string& text, Json logprobs,
                      std::optional<FinishReason> finish, bool usage_field);
// The last chunk of a stream with include_usage: empty choices and the usage.
Json usage_chunk(const ResponseMeta& meta, const UsageTotals& usage);

// One server-sent event: "data: <json>\n\n"; and the terminator "data: [DONE]\n\n".
std::string sse_data(const Json& value);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace ingot::server
