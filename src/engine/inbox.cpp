#include "engine/inbox.h"

#include <algorithm>

namespace ingot::engine {

bool Inbox::submit(PendingRequest&& request) {
  {
    std::lock_guard lock(mutex_);
    if (mode_ != LoopMode::run) return false;
    submitted_.push_back(std::move(request));
  }
  wake_.notify_one();
  return true;
}

void Inbox::cancel(RequestId id) {
  {
    std::lock_guard lock(mutex_);
    cancelled_.push_back(id);
  }
  wake_.notify_one();
}

void Inbox::drain(Clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    if (mode_ == LoopMode::stop) return;
    deadline_ = mode_ == LoopMode::drain ? std::min(deadline_, deadline) : deadline;
    mode_ = LoopMode::drain;
  }
  wake_.notify_one();
}

void Inbox::stop() {
  {
    std::lock_guard lock(mutex_);
    mode_ = LoopMode::stop;
  }
  wake_.notify_one();
}

Inbox::Work Inbox::take(bool wait, std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mutex_);
  if (wait) {
    wake_.wait_for(lock, max_wait,
                   [&] { return !submitted_.empty() || !cancelled_.empty() || mode_ != LoopMode::run; });
  }
  Work work;
  work.submitted.swap(submitted_);
  work.cancelled.swap(cancelled_);
  work.mode = mode_;
  work.deadline = deadline_;
  return work;
}

}  // namespace ingot::engine
