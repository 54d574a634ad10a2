#include "engine/engine.h"

#include "core/error.h"
#include "core/log.h"
#include "engine/request_limits.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <random>

namespace ingot::engine {
namespace {

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Ends every choice of a request that never ran with one final event.
void push_rejections(RequestStream& stream, RequestId id, FinishReason reason, const std::string& message) {
  for (int32_t c = 0; c < stream.n_choices(); ++c) {
    Event event;
    event.request = id;
    event.choice = c;
    event.finished = true;
    event.finish_reason = reason;
    event.message = message;
    stream.push(std::move(event));
  }
}

uint64_t random_seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Engine::Engine(std::unique_ptr<ModelRunner> runner, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
               const EngineConfig& config, EngineInfo info)
    : config_(config),
      info_(std::move(info)),
      tokenizer_(std::move(tokenizer)),
      inbox_(std::make_shared<Inbox>()),
      metrics_(registry_),
      runner_(std::move(runner)),
      kv_(config.kv_blocks, config.kv_block_size, config.prefix_cache),
      scheduler_(SchedulerConfig{config.max_batch_tokens, config.max_seqs, config.n_ctx, 0}, kv_) {
  if (runner_ == nullptr) fail(ErrorCode::invalid_argument, "engine: no model runner");
  n_vocab_ = runner_->n_vocab();
  if (n_vocab_ < 1) fail(ErrorCode::invalid_argument, "engine: the model has no vocabulary");
  eog_tokens_ = tokenizer_ != nullptr ? tokenizer_->end_of_generation() : config.eog_tokens;
  const int64_t capacity = static_cast<int64_t>(kv_.n_blocks()) * kv_.block_size();
  // Copied once here: caller threads check requests against these, never against kv_.
  limits_.n_ctx = config.n_ctx;
  limits_.max_sequence_tokens = static_cast<int32_t>(std::min<int64_t>(config.n_ctx, capacity));
  limits_.n_blocks = kv_.n_blocks();
  limits_.block_size = kv_.block_size();
  next_seed_ = config.seed != 0 ? config.seed : random_seed();

  RunnerLimits limits;
  limits.n_blocks = kv_.n_blocks();
  limits.block_size = kv_.block_size();
  limits.max_batch_tokens = config.max_batch_tokens;
  limits.max_seqs = config.max_seqs;
  limits.max_context = config.n_ctx;
  runner_->prepare(limits);
  logits_.resize(static_cast<size_t>(config.max_seqs) * static_cast<size_t>(n_vocab_));

  info_.backend = std::string(runner_->backend_name());
  info_.n_vocab = n_vocab_;
  info_.n_ctx = config.n_ctx;
  info_.max_seqs = config.max_seqs;
  info_.max_batch_tokens = config.max_batch_tokens;
  info_.kv_blocks = kv_.n_blocks();
  info_.kv_block_size = kv_.block_size();
  info_.kv_capacity_tokens = capacity;
  metrics_.update(scheduler_, kv_.stats());
  publish();
  thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() { stop(); }

void Engine::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  inbox_->stop();
  if (thread_.joinable()) thread_.join();
}

void Engine::shutdown(std::chrono::milliseconds drain_timeout) {
  std::lock_guard lock(lifecycle_mutex_);
  inbox_->drain(Clock::now() + drain_timeout);
  if (thread_.joinable()) thread_.join();
}

EngineSnapshot Engine::snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

// ---------------------------------------------------------------- caller threads

std::shared_ptr<RequestStream> Engine::reject(RequestId id, int32_t n_choices, FinishReason reason,
                                              const std::string& message) {
  auto stream = std::make_shared<RequestStream>(id, n_choices);
  push_rejections(*stream, id, reason, message);
  metrics_.on_finished(reason);
  return stream;
}

std::shared_ptr<RequestStream> Engine::submit(Request request) {
  const Clock::time_point submitted = Clock::now();
  const RequestId id = request.id != 0 ? request.id : next_request_id_.fetch_add(1);
  const int32_t n_choices = std::clamp(request.sampling.n, 1, 128);
  PendingRequest pending;
  try {
    if (request.prompt.empty() && !request.prompt_text.empty()) {
      if (tokenizer_ == nullptr) {
        fail(ErrorCode::invalid_argument, "a text prompt needs a model with a tokenizer; send token ids");
      }
      request.prompt = tokenizer_->encode(request.prompt_text, request.add_special, request.parse_special);
    }
    if (!request.sampling.stop.empty() && tokenizer_ == nullptr) {
      fail(ErrorCode::invalid_argument, "stop strings need a model with a tokenizer");
    }
    validate(request.sampling, n_vocab_);
    check_prompt(request.prompt, n_vocab_);
    pending.max_tokens = resolve_max_tokens(request.sampling, static_cast<int64_t>(request.prompt.size()), limits_);
  } catch (const Error& e) {
    return reject(id, n_choices, FinishReason::rejected, e.what());
  }
  pending.id = id;
  pending.prompt = std::move(request.prompt);
  pending.params = std::move(request.sampling);
  pending.stream = std::make_shared<RequestStream>(id, n_choices);
  pending.submitted = submitted;
  auto stream = pending.stream;
  if (!inbox_->submit(std::move(pending))) {
    return reject(id, n_choices, FinishReason::rejected, "the engine is shutting down");
  }
  return stream;
}

// ---------------------------------------------------------------- loop thread

void Engine::loop() {
  for (;;) {
    Inbox::Work work = inbox_->take(/*wait=*/!has_work());
    try {
      // Submits first: a cancel may arrive in the same take as its own request.
      for (PendingRequest& pending : work.submitted) admit(std::move(pending));
      for (const RequestId id : work.cancelled) cancel_request(id, FinishReason::cancelled, {});
      if (work.mode == LoopMode::stop) {
        fail_all(FinishReason::cancelled, "the engine stopped");
        break;
      }
      if (work.mode == LoopMode::drain && (!has_work() || Clock::now() >= work.deadline)) {
        fail_all(FinishReason::cancelled, "the engine shut down before the request finished");
        break;
      }
      if (has_work()) step();
    } catch (const std::exception& e) {
      // Our own invariant broke (the scheduler or KV manager threw): fail everything rather
      // than keep running on state we no longer trust.
      spdlog::error("engine: {}", e.what());
      try {
        fail_all(FinishReason::error, fmt::format("internal engine error: {}", e.what()));
      } catch (const std::exception& again) {
        spdlog::error("engine: failing the requests failed too ({}); stopping the loop", again.what());
        abandon_all(fmt::format("internal engine error: {}", e.what()));
        break;
      }
    }
    ++n_loop_iterations_;
    publish();
  }
  // Anything queued after the last take (only possible when the loop gave up) is answered.
  for (PendingRequest& pending : inbox_->take(/*wait=*/false).submitted) {
    push_rejections(*pending.stream, pending.id, FinishReason::rejected, "the engine is shutting down");
  }
  ++n_loop_iterations_;
  publish();
}

void Engine::publish() {
  EngineSnapshot s;
  s.kv = kv_.stats();
  s.n_waiting = scheduler_.n_waiting();
  s.n_running = scheduler_.n_running();
  s.n_requests = requests_.size();
  s.scheduler = scheduler_.stats();
  s.n_loop_iterations = n_loop_iterations_;
  metrics_.update(scheduler_, s.kv);
  std::lock_guard lock(snapshot_mutex_);
  snapshot_ = s;
}

void Engine::admit(PendingRequest&& pending) {
  if (requests_.count(pending.id) != 0) {
    push_rejections(*pending.stream, pending.id, FinishReason::rejected,
                    fmt::format("request id {} is already in use", pending.id));
    metrics_.on_finished(FinishReason::rejected);
    return;
  }
  auto request = std::make_unique<RequestState>();
  RequestState& r = *request;
  r.id = pending.id;
  r.prompt = std::move(pending.prompt);
  r.params = std::move(pending.params);
  r.max_tokens = pending.max_tokens;
  r.stream = pending.stream;
  r.submitted = pending.submitted;
  const uint64_t fallback_seed = next_seed_.fetch_add(0x9E3779B97F4A7C15ull);
  try {
    r.choices.resize(static_cast<size_t>(r.stream->n_choices()));
    for (int32_t c = 0; c < r.stream->n_choices(); ++c) {
      ChoiceState& choice = r.choices[static_cast<size_t>(c)];
      choice.index = c;
      choice.seq = next_seq_++;
      choice.sampler = std::make_unique<Sampler>(
          r.params, n_vocab_, r.prompt, eog_tokens_, Sampler::seed_for(r.params, c, fallback_seed + static_cast<uint64_t>(c)));
      choice.stop = std::make_unique<StopChecker>(r.params, eog_tokens_);
      if (tokenizer_ != nullptr) choice.detokenizer.emplace(*tokenizer_, /*render_special=*/false);
      choice.usage.n_prompt_tokens = static_cast<int32_t>(r.prompt.size());
    }
  } catch (const Error& e) {  // submit() validated already; this is a second line of defence
    push_rejections(*pending.stream, pending.id, FinishReason::rejected, e.what());
    metrics_.on_finished(FinishReason::rejected);
    return;
  }
  r.n_open = static_cast<int32_t>(r.choices.size());
  metrics_.prompt_tokens.inc(static_cast<double>(r.prompt.size()));
  RequestState* raw = request.get();
  requests_.emplace(r.id, std::move(request));
  for (ChoiceState& choice : raw->choices) owners_.emplace(choice.seq, Owner{raw, choice.index});
  // Choice 0 goes first; the others are forked off it when its prompt is computed, sharing
  // its KV blocks instead of each computing the prompt (see step()).
  add_to_scheduler(*raw, raw->choices.front());
}

void Engine::add_to_scheduler(RequestState& request, ChoiceState& choice) {
  scheduler_.add(choice.seq, request.prompt, request.max_tokens);
  choice.in_scheduler = true;
}

void Engine::step() {
  StepBatch batch = scheduler_.schedule();
  if (batch.empty()) {
    if (scheduler_.has_work()) {
      fail_all(FinishReason::error, "internal engine error: nothing could be scheduled");
    }
    return;
  }
  const Clock::time_point started = Clock::now();
  for (const StepSeq& ss : batch.seqs) {
    RequestState& r = *owners_.at(ss.seq).request;
    if (!r.first_scheduled) r.first_scheduled = started;
  }
  const auto n_vocab = static_cast<size_t>(n_vocab_);
  const std::span<float> logits(logits_.data(), batch.logit_rows.size() * n_vocab);
  const bool on_device = runner_->samples_on_device();
  try {
    if (on_device) {
      // Logits stay on the device: each choice describes its pick, only the ids come back.
      device_rows_.clear();
      device_targets_.clear();
      for (const StepSeq& ss : batch.seqs) {
        if (!ss.needs_logits) continue;
        const Owner& owner = owners_.at(ss.seq);
        RequestState& r = *owner.request;
        r.choices[static_cast<size_t>(owner.choice)].sampler->device_row(ss.logits_index, device_rows_);
        device_targets_.emplace_back(ss.seq, ss.logits_index);
        if (owner.choice == 0 && !r.siblings_started) {
          for (size_t c = 1; c < r.choices.size(); ++c) {
            r.choices[c].sampler->device_row(ss.logits_index, device_rows_);
            device_targets_.emplace_back(r.choices[c].seq, -1);
          }
        }
      }
      device_picks_.assign(device_rows_.rows.size(), backend::SampledToken{});
      runner_->run_and_sample(batch, device_rows_, device_picks_);
    } else {
      runner_->run(batch, logits);
    }
  } catch (const std::exception& e) {
    // The step failed as a whole: every request in it ends with the error.
    spdlog::error("engine: step of {} rows failed: {}", batch.n_rows(), e.what());
    std::vector<RequestId> failed;
    for (const StepSeq& ss : batch.seqs) failed.push_back(owners_.at(ss.seq).request->id);
    for (const RequestId id : failed) cancel_request(id, FinishReason::error, e.what());
    return;
  }
  sampled_.assign(batch.logit_rows.size(), -1);
  for (size_t i = 0; on_device && i < device_targets_.size(); ++i) {
    const auto [seq, logits_index] = device_targets_[i];
    const Owner& owner = owners_.at(seq);
    ChoiceState& choice = owner.request->choices[static_cast<size_t>(owner.choice)];
    choice.last = choice.sampler->accept(device_picks_[i]);
    if (logits_index >= 0) sampled_[static_cast<size_t>(logits_index)] = choice.last.token;
  }
  for (const StepSeq& ss : batch.seqs) {
    if (on_device) break;
    if (!ss.needs_logits) continue;
    const Owner& owner = owners_.at(ss.seq);
    RequestState& r = *owner.request;
    ChoiceState& choice = r.choices[static_cast<size_t>(owner.choice)];
    const auto row = logits.subspan(static_cast<size_t>(ss.logits_index) * n_vocab, n_vocab);
    choice.last = choice.sampler->sample(row);
    sampled_[static_cast<size_t>(ss.logits_index)] = choice.last.token;
    if (owner.choice == 0 && !r.siblings_started) {
      // n > 1: the other choices draw their first token from the same prompt logits.
      for (size_t c = 1; c < r.choices.size(); ++c) r.choices[c].last = r.choices[c].sampler->sample(row);
    }
  }
  for (const StepOutput& out : scheduler_.on_step_done(batch, sampled_)) {
    const Owner owner = owners_.at(out.seq);
    RequestState& r = *owner.request;
    std::vector<StepOutput> siblings;
    if (owner.choice == 0 && !r.siblings_started) {
      // Fork the other choices off choice 0 before it can finish: they share every prompt
      // block (the partial last block is copied on first write) and start decoding next step.
      r.siblings_started = true;
      for (size_t c = 1; c < r.choices.size(); ++c) {
        ChoiceState& sibling = r.choices[c];
        if (!out.finished_by_length) {
          scheduler_.fork(out.seq, sibling.seq, sibling.last.token);
          sibling.in_scheduler = true;
        }
        StepOutput s = out;
        s.seq = sibling.seq;
        s.token = sibling.last.token;
        siblings.push_back(s);
      }
    }
    deliver(out);
    for (const StepOutput& s : siblings) deliver(s);
  }
}

void Engine::deliver(const StepOutput& out) {
  const Owner owner = owners_.at(out.seq);
  RequestState& r = *owner.request;
  ChoiceState& choice = r.choices[static_cast<size_t>(owner.choice)];
  const Clock::time_point now = Clock::now();
  if (!choice.first_token) {
    choice.first_token = now;
    metrics_.time_to_first_token.observe(seconds_between(r.submitted, now));
  } else {
    metrics_.inter_token_latency.observe(seconds_between(choice.last_token, now));
  }
  choice.last_token = now;
  metrics_.generation_tokens.inc();
  choice.usage.n_completion_tokens = out.n_generated;
  choice.usage.n_cached_prompt_tokens = out.n_cached_prompt_tokens;

  const std::string piece = choice.detokenizer ? choice.detokenizer->push(out.token) : std::string();
  StopStep stop = choice.stop->on_token(out.token, piece);
  Event event;
  event.request = r.id;
  event.choice = choice.index;
  event.tokens.push_back(out.token);
  event.text = std::move(stop.text);
  if (r.params.logprobs || r.params.top_logprobs > 0) {
    event.logprobs.push_back(choice.last.logprob);
    event.top_logprobs.push_back(std::move(choice.last.top));
  }
  std::optional<FinishReason> finish = stop.finish;
  if (!finish && out.finished_by_length) {
    finish = FinishReason::length;
    event.text += choice.stop->flush();
  }
  if (!finish) {
    r.stream->push(std::move(event));
    return;
  }
  if (*finish == FinishReason::length && choice.detokenizer) event.text += choice.detokenizer->flush();
  if (!out.finished_by_length) scheduler_.finish(out.seq);  // at the length limit it already is
  finish_choice(r, choice, *finish, std::move(event));
}

void Engine::finish_choice(RequestState& r, ChoiceState& choice, FinishReason reason, Event event,
                           const std::string& message) {
  const Clock::time_point now = Clock::now();
  choice.finished = true;
  event.request = r.id;
  event.choice = choice.index;
  event.finished = true;
  event.finish_reason = reason;
  event.message = message;
  event.usage = choice.usage;
  event.timings.queue_ms = r.first_scheduled ? ms_between(r.submitted, *r.first_scheduled) : 0.0;
  event.timings.ttft_ms = choice.first_token ? ms_between(r.submitted, *choice.first_token) : 0.0;
  event.timings.total_ms = ms_between(r.submitted, now);
  owners_.erase(choice.seq);
  r.stream->push(std::move(event));
  if (--r.n_open > 0) {
    // n > 1: if choice 0 ended before its first token, the others must not wait for it
    // (they start from the prefix cache instead of a fork).
    if (choice.index == 0 && !r.siblings_started) {
      r.siblings_started = true;
      for (ChoiceState& other : r.choices) {
        if (!other.in_scheduler && !other.finished) add_to_scheduler(r, other);
      }
    }
    return;
  }
  metrics_.on_finished(reason);
  metrics_.request_duration.observe(seconds_between(r.submitted, now));
  requests_.erase(r.id);  // destroys r
}

void Engine::cancel_request(RequestId id, FinishReason reason, const std::string& message) {
  const auto it = requests_.find(id);
  if (it == requests_.end()) return;  // finished already, or never known
  RequestState& r = *it->second;
  r.siblings_started = true;  // finishing choice 0 must not start the others
  std::vector<ChoiceState*> open;
  for (ChoiceState& choice : r.choices) {
    if (choice.finished) continue;
    if (choice.in_scheduler) scheduler_.cancel(choice.seq);
    open.push_back(&choice);
  }
  for (ChoiceState* choice : open) {
    Event event;
    event.text = choice->stop->flush();
    finish_choice(r, *choice, reason, std::move(event), message);  // the last one erases r
  }
}

void Engine::abandon_all(const std::string& message) {
  // Last resort: tell every caller, touching neither the scheduler nor the KV manager.
  for (auto& [id, request] : requests_) {
    for (ChoiceState& choice : request->choices) {
      if (choice.finished) continue;
      Event event;
      event.request = id;
      event.choice = choice.index;
      event.finished = true;
      event.finish_reason = FinishReason::error;
      event.message = message;
      event.usage = choice.usage;
      request->stream->push(std::move(event));
    }
  }
  requests_.clear();
  owners_.clear();
  inbox_->stop();
}

void Engine::fail_all(FinishReason reason, const std::string& message) {
  std::vector<RequestId> ids;
  ids.reserve(requests_.size());
  for (const auto& [id, request] : requests_) ids.push_back(id);
  for (const RequestId id : ids) cancel_request(id, reason, message);
}

}  // namespace ingot::engine
