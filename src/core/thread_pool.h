// A fixed pool of worker threads for data-parallel loops (CPU matmul, quantization). The
// calling thread takes part, so a pool of N runs N-way parallel with N-1 workers. One loop at a
// time per pool: `parallel_for` is not re-entrant and is meant to be called from one owner
// thread (the engine thread, or a CLI command). Cost per call: one wake-up of the workers and
// one atomic increment per task; tasks are claimed dynamically, so uneven tasks balance.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ingot {

class ThreadPool {
 public:
  // n_threads counts the caller: 0 means one per hardware thread.
  explicit ThreadPool(size_t n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t n_threads() const noexcept { return workers_.size() + 1; }

  // Runs task(i, thread) for every i in [0, n_tasks), thread in [0, n_threads()), and returns
  // when all have finished. The first exception a task throws is rethrown here (the other
  // tasks still run to completion).
  void parallel_for(size_t n_tasks, const std::function<void(size_t task, size_t thread)>& task);

  // Splits [0, n) into contiguous ranges of at least `grain` items and runs
  // range(begin, end, thread) on each.
  void parallel_ranges(size_t n, size_t grain,
                       const std::function<void(size_t begin, size_t end, size_t thread)>& range);

 private:
  void worker_loop(size_t thread);
  void run_tasks(size_t thread);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(size_t, size_t)>* task_ = nullptr;
  size_t n_tasks_ = 0;
  std::atomic<size_t> next_task_{0};
  size_t generation_ = 0;
  size_t n_busy_ = 0;
  bool stopping_ = false;
  std::exception_ptr first_error_;
};

}  // namespace ingot
