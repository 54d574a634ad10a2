#include "core/thread_pool.h"

#include <algorithm>
#include <utility>

namespace ingot {

ThreadPool::ThreadPool(size_t n_threads) {
  if (n_threads == 0) n_threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  workers_.reserve(n_threads - 1);
  for (size_t t = 1; t < n_threads; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_tasks(size_t thread) {
  for (;;) {
    const size_t i = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (i >= n_tasks_) return;
    try {
      (*task_)(i, thread);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!first_error_) first_error_ = std::current_exception();
    }
  }
}

void ThreadPool::worker_loop(size_t thread) {
  size_t seen_generation = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_;
    }
    run_tasks(thread);
    {
      std::lock_guard lock(mutex_);
      if (--n_busy_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(size_t n_tasks, const std::function<void(size_t, size_t)>& task) {
  if (n_tasks == 0) return;
  if (workers_.empty() || n_tasks == 1) {
    for (size_t i = 0; i < n_tasks; ++i) task(i, 0);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    n_tasks_ = n_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    n_busy_ = workers_.size();
    first_error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  run_tasks(0);
  std::exception_ptr error;
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return n_busy_ == 0; });
    task_ = nullptr;
    error = std::exchange(first_error_, nullptr);
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::parallel_ranges(size_t n, size_t grain,
                                 const std::function<void(size_t, size_t, size_t)>& range) {
  if (n == 0) return;
  grain = std::max<size_t>(1, grain);
  const size_t max_chunks = (n + grain - 1) / grain;
  const size_t n_chunks = std::min(max_chunks, n_threads() * 4);
  const size_t chunk = (n + n_chunks - 1) / n_chunks;
  parallel_for(n_chunks, [&](size_t c, size_t thread) {
    const size_t begin = c * chunk;
    const size_t end = std::min(n, begin + chunk);
    if (begin < end) range(begin, end, thread);
  });
}

}  // namespace ingot
