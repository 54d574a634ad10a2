// Public request and event types of the engine: what a caller submits (prompt tokens plus
// sampling parameters) and what comes back on the request's event stream (token pieces with
// optional logprobs, then one final event with the finish reason and usage). Plain data.
#pragma once

#include "ingot/sampling.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ingot {

using RequestId = uint64_t;

// Why a sequence ended. `stop`: an end-of-generation token, a stop token id or a stop string;
// `length`: max_tokens or the context length; `cancelled`: the caller cancelled (or the client
// went away); `rejected`: it could never fit (message says why); `error`: an internal failure.
enum class FinishReason { stop, length, cancelled, rejected, error };

// "stop", "length", "cancelled", "rejected", "error" (the OpenAI spelling for the first two).
std::string_view to_string(FinishReason reason);

struct Request {
  RequestId id = 0;             // 0: the engine assigns one (see Event::request)
  std::vector<int32_t> prompt;  // token ids, already templated and tokenized
  // Used when `prompt` is empty: text the engine tokenizes with the model's tokenizer.
  std::string prompt_text;
  bool add_special = true;    // BOS/EOS as the vocabulary asks
  bool parse_special = true;  // special-token texts in prompt_text become their ids
  SamplingParams sampling;
};

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0.0f;  // log-softmax of the raw model logits (before bias, penalties, temperature)
};

struct Usage {
  int32_t n_prompt_tokens = 0;
  int32_t n_completion_tokens = 0;
  int32_t n_cached_prompt_tokens = 0;  // prompt tokens whose KV came from the prefix cache
};

// Wall-clock milliseconds measured from submit(), filled on the final event.
struct Timings {
  double queue_ms = 0.0;  // until the request's first step (0 if it never ran)
  double ttft_ms = 0.0;   // until its first token (0 if none)
  double total_ms = 0.0;  // until its final event
};

// One item of a request's event stream. A token event carries the text that may be shown now
// (possibly empty: held back because it could be the start of a stop string, or half a UTF-8
// character); the final event has `finished` set, a reason, usage and any remaining text.
struct Event {
  RequestId request = 0;
  int32_t choice = 0;  // index among the n choices
  std::vector<int32_t> tokens;   // tokens this event accounts for
  std::string text;              // text to emit now
  std::vector<TokenLogprob> logprobs;                   // chosen token, one per token
  std::vector<std::vector<TokenLogprob>> top_logprobs;  // alternatives, one list per token
  bool finished = false;
  FinishReason finish_reason = FinishReason::stop;
  std::string message;  // for rejected / error: what went wrong
  Usage usage;          // filled on the final event
  Timings timings;      // filled on the final event
};

}  // namespace ingot
