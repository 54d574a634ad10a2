// The engine's mailbox: the only state shared between caller threads and the loop thread.
// Callers queue validated requests and cancellations and ask for a drain or a stop; the loop
// takes everything queued in one swap and sleeps on the condition variable when it has no
// work. One mutex; every operation is O(1) apart from the swap of the queued vectors.
#pragma once

#include "engine/request_stream.h"
#include "ingot/request.h"
#include "ingot/sampling.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace ingot::engine {

using Clock = std::chrono::steady_clock;

// A request that passed validation on the caller's thread (tokenized, checked to fit).
struct PendingRequest {
  RequestId id = 0;
  std::vector<int32_t> prompt;
  SamplingParams params;
  int32_t max_tokens = 0;  // resolved: params.max_tokens or what the context leaves
  std::shared_ptr<RequestStream> stream;
  Clock::time_point submitted;
};

enum class LoopMode { run, drain, stop };

class Inbox {
 public:
  // False (and the request is not queued) once a drain or stop was requested.
  bool submit(PendingRequest&& request);
  void cancel(RequestId id);
  // Stop admitting; finish what is there until `deadline`, then cancel the rest.
  void drain(Clock::time_point deadline);
  void stop();

  struct Work {
    std::vector<PendingRequest> submitted;
    std::vector<RequestId> cancelled;
    LoopMode mode = LoopMode::run;
    Clock::time_point deadline{};
  };
  // Loop side: everything queued so far. With `wait`, sleeps until something is queued or the
  // mode changes (up to `max_wait`, so a drain deadline is noticed).
  Work take(bool wait, std::chrono::milliseconds max_wait = std::chrono::milliseconds(1000));

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<PendingRequest> submitted_;
  std::vector<RequestId> cancelled_;
  LoopMode mode_ = LoopMode::run;
  Clock::time_point deadline_{};
};

}  // namespace ingot::engine
