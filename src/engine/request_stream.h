// The event channel of one request: the engine's loop thread pushes events, the caller's thread
// pops them (blocking, with a timeout, or not at all). A request with n choices ends after n
// final events. One mutex and one condition variable per request; push and pop are O(1).
#pragma once

#include "ingot/request.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace ingot::engine {

class RequestStream {
 public:
  RequestStream(RequestId id, int32_t n_choices) : id_(id), n_choices_(n_choices) {}

  RequestId id() const noexcept { return id_; }
  int32_t n_choices() const noexcept { return n_choices_; }

  // Engine side. Events after a choice's final event are a bug of the caller (ignored).
  void push(Event event);
  // Final events of every choice have been pushed (nothing more will come).
  bool closed() const;

  // Caller side. nullopt: no event in time, or the stream has ended (see done()).
  std::optional<Event> pop();  // waits as long as it takes
  std::optional<Event> pop_for(std::chrono::milliseconds timeout);
  std::optional<Event> try_pop();
  // Every final event has been popped.
  bool done() const;

 private:
  std::optional<Event> take_locked();

  const RequestId id_;
  const int32_t n_choices_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Event> events_;
  int32_t n_final_pushed_ = 0;
  int32_t n_final_popped_ = 0;
};

}  // namespace ingot::engine
