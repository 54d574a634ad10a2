// The engine core: one loop thread owns the model runner (model + backend + KV pool), the KV
// block manager and the scheduler; no other thread touches them. Callers submit and cancel
// through the Inbox and read per-request RequestStreams. Each step: take queued work, schedule,
// run the model, sample each logit row, then stop checks, detokenize and emit events. The loop
// sleeps on a condition variable when there is nothing to do. The public ingot::Engine wraps it.
#pragma once

#include "engine/engine_metrics.h"
#include "engine/inbox.h"
#include "engine/metrics.h"
#include "engine/model_runner.h"
#include "engine/request_limits.h"
#include "engine/request_state.h"
#include "engine/scheduler.h"
#include "ingot/engine.h"
#include "kv/block_manager.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ingot::tokenizer {
class Tokenizer;
}

namespace ingot::engine {

struct EngineConfig {
  int32_t n_ctx = 4096;
  int32_t max_seqs = 64;
  int32_t max_batch_tokens = 512;
  int32_t kv_blocks = 0;  // required
  int32_t kv_block_size = 16;
  bool prefix_cache = true;
  std::vector<int32_t> eog_tokens;  // used when there is no tokenizer
  uint64_t seed = 0;                // base of per-request seeds when a request has none; 0: random
};

// A copy of the loop's state, published after every loop iteration (for tests and status).
struct EngineSnapshot {
  kv::KvStats kv;
  size_t n_waiting = 0;
  size_t n_running = 0;
  size_t n_requests = 0;  // requests with an open choice, queued ones included
  SchedulerStats scheduler;
  uint64_t n_loop_iterations = 0;
};

class Engine {
 public:
  // Prepares the runner (KV pool, workspace) on this thread, then starts the loop thread.
  // `tokenizer` may be null (token ids only: no text pieces, no stop strings). `info` is
  // completed with the limits actually used. Throws Error(invalid_argument) for bad limits.
  Engine(std::unique_ptr<ModelRunner> runner, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
         const EngineConfig& config, EngineInfo info = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe. See ingot::Engine::submit.
  std::shared_ptr<RequestStream> submit(Request request);
  void cancel(RequestId id) { inbox_->cancel(id); }
  void shutdown(std::chrono::milliseconds drain_timeout);
  void stop();

  const EngineInfo& info() const noexcept { return info_; }
  const tokenizer::Tokenizer* tokenizer() const noexcept { return tokenizer_.get(); }
  MetricsRegistry& metrics() noexcept { return registry_; }
  const std::shared_ptr<Inbox>& inbox() const noexcept { return inbox_; }
  EngineSnapshot snapshot() const;

 private:
  std::shared_ptr<RequestStream> reject(RequestId id, int32_t n_choices, FinishReason reason,
                                        const std::string& message);
  // Loop thread only:
  void loop();
  void admit(PendingRequest&& pending);
  void add_to_scheduler(RequestState& request, ChoiceState& choice);
  void step();
  void deliver(const StepOutput& out);
  void finish_choice(RequestState& request, ChoiceState& choice, FinishReason reason, Event event,
                     const std::string& message = {});
  void cancel_request(RequestId id, FinishReason reason, const std::string& message);
  void fail_all(FinishReason reason, const std::string& message);
  void abandon_all(const std::string& message);
  void publish();
  bool has_work() const { return !requests_.empty(); }

  EngineConfig config_;
  EngineInfo info_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  std::vector<int32_t> eog_tokens_;
  int32_t n_vocab_ = 0;
  RequestLimits limits_;  // n_ctx and the KV pool's size, for checks on caller threads
  std::shared_ptr<Inbox> inbox_;
  std::atomic<RequestId> next_request_id_{1};
  std::atomic<uint64_t> next_seed_{0};
  MetricsRegistry registry_;
  EngineMetrics metrics_;

  // --- owned by the loop thread ---
  std::unique_ptr<ModelRunner> runner_;
  kv::KvBlockManager kv_;
  Scheduler scheduler_;
  std::unordered_map<RequestId, std::unique_ptr<RequestState>> requests_;
  struct Owner {
    RequestState* request;
    int32_t choice;
  };
  std::unordered_map<kv::SeqId, Owner> owners_;
  kv::SeqId next_seq_ = 1;
  std::vector<float> logits_;
  std::vector<int32_t> sampled_;
  // Device sampling (runner_->samples_on_device()): the step's rows, their picks, and which
  // choice each belongs to (choice.seq).
  backend::SampleBatch device_rows_;
  std::vector<backend::SampledToken> device_picks_;
  std::vector<std::pair<kv::SeqId, int32_t>> device_targets_;  // (seq, logits_index or -1)
  uint64_t n_loop_iterations_ = 0;

  mutable std::mutex snapshot_mutex_;
  EngineSnapshot snapshot_;

  std::mutex lifecycle_mutex_;  // serializes shutdown/stop/join
  std::thread thread_;
};

}  // namespace ingot::engine
