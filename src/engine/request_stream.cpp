#include "engine/request_stream.h"

namespace ingot::engine {

void RequestStream::push(Event event) {
  {
    std::lock_guard lock(mutex_);
    if (n_final_pushed_ >= n_choices_) return;
    if (event.finished) ++n_final_pushed_;
    events_.push_back(std::move(event));
  }
  ready_.notify_all();
}

bool RequestStream::closed() const {
  std::lock_guard lock(mutex_);
  return n_final_pushed_ >= n_choices_;
}

bool RequestStream::done() const {
  std::lock_guard lock(mutex_);
  return n_final_popped_ >= n_choices_;
}

std::optional<Event> RequestStream::take_locked() {
  if (events_.empty()) return std::nullopt;
  Event event = std::move(events_.front());
  events_.pop_front();
  if (event.finished) ++n_final_popped_;
  return event;
}

std::optional<Event> RequestStream::pop() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !events_.empty() || n_final_popped_ >= n_choices_; });
  return take_locked();
}

std::optional<Event> RequestStream::pop_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !events_.empty() || n_final_popped_ >= n_choices_; });
  return take_locked();
}

std::optional<Event> RequestStream::try_pop() {
  std::lock_guard lock(mutex_);
  return take_locked();
}

}  // namespace ingot::engine
