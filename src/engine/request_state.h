// What the loop thread keeps per request and per choice: the sampler, the stop checker, the
// streaming detokenizer and the timestamps that become Timings and latency metrics. Owned by
// the engine's loop thread alone; the caller sees it only through the RequestStream.
#pragma once

#include "engine/inbox.h"
#include "engine/sampler.h"
#include "engine/stop_checker.h"
#include "kv/block_manager.h"
#include "tokenizer/detokenizer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace ingot::engine {

struct ChoiceState {
  int32_t index = 0;
  kv::SeqId seq = 0;
  bool in_scheduler = false;  // choices > 0 are forked off choice 0 after its prompt is computed
  bool finished = false;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<StopChecker> stop;
  std::optional<tokenizer::Detokenizer> detokenizer;
  SampleResult last;  // the token sampled this step, with its logprobs
  Usage usage;
  std::optional<Clock::time_point> first_token;
  Clock::time_point last_token{};
};

struct RequestState {
  RequestId id = 0;
  std::vector<int32_t> prompt;
  SamplingParams params;
  int32_t max_tokens = 0;
  std::shared_ptr<RequestStream> stream;
  Clock::time_point submitted{};
  std::optional<Clock::time_point> first_scheduled;
  std::vector<ChoiceState> choices;
  int32_t n_open = 0;  // choices without a final event yet
  bool siblings_started = false;  // n > 1: choices 1.. have been forked (or queued)
};

}  // namespace ingot::engine
