// The public C++ API of the inference engine: open a model, submit requests from any thread,
// read each request's event stream (text pieces, token ids, logprobs, then a final event with
// the finish reason, usage and timings), cancel, shut down. One loop thread owns the model,
// backend, KV cache and scheduler; submit/cancel only queue work and wake it (a few µs, one
// mutex). Rejections (never fits, invalid parameters) come back as an immediate final event.
#pragma once

#include "ingot/request.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ingot {

namespace engine {
class Engine;
class RequestStream;
class Inbox;
class MetricsRegistry;
}  // namespace engine
namespace tokenizer {
class Tokenizer;
}

// Element type of the KV cache: F16 (the default, as llama.cpp) or F32 (exact parity tests).
enum class KvCacheType { f16, f32 };

struct EngineOptions {
  int32_t n_ctx = 0;              // prompt + generated tokens per sequence; 0: the model's context length
  int32_t max_seqs = 64;          // sequences in one step (decodes + prefills)
  int32_t max_batch_tokens = 512; // token rows in one step (chunked prefill splits longer prompts)
  // KV pool size: kv_blocks when set, else as many blocks as kv_memory_bytes holds, else (0) on
  // CUDA what gpu_memory_utilization leaves after the weights and the workspace, on the CPU
  // 1 GiB; always capped at what max_seqs full-context sequences need. The capacity in tokens is
  // in EngineInfo (and logged at start).
  int32_t kv_blocks = 0;
  uint64_t kv_memory_bytes = 0;
  // CUDA: the fraction of the device's total memory ingot may use (vLLM's meaning), in (0, 1].
  double gpu_memory_utilization = 0.90;
  int32_t kv_block_size = 16;     // tokens per KV block
  KvCacheType kv_type = KvCacheType::f16;
  bool prefix_cache = true;       // reuse KV of identical prompt prefixes (full blocks)
  size_t n_threads = 0;           // CPU backend worker threads; 0: one per hardware thread
  // "cpu", "cuda", or "" (auto: cuda when built with CUDA and a device is present, else cpu).
  std::string backend;
  int32_t device = 0;             // CUDA device index
};

// What the engine was built with (fixed after construction).
struct EngineInfo {
  std::string model_name;     // general.name (may be empty)
  std::string backend;        // "cpu", "cuda"
  int32_t n_vocab = 0;
  int32_t n_ctx = 0;          // per-sequence limit actually used
  int32_t max_seqs = 0;
  int32_t max_batch_tokens = 0;
  int32_t kv_blocks = 0;
  int32_t kv_block_size = 0;
  int64_t kv_capacity_tokens = 0;  // kv_blocks x kv_block_size, shared by all sequences
  uint64_t kv_bytes = 0;
  std::string chat_template;  // tokenizer.chat_template from the model file (may be empty)
};

// The caller's end of one request: its events in order, from any one thread at a time (the
// stream itself is thread-safe; the engine writes from its loop thread). A request with n
// choices ends after n final events; each carries that choice's usage (the shared prompt is
// counted in every one: the server adds completion tokens and counts the prompt once). Move-only; destroying a handle whose stream has not ended
// cancels the request, so a caller that stops reading (a dead HTTP client) frees its KV.
class RequestHandle {
 public:
  RequestHandle() = default;
  RequestHandle(std::shared_ptr<engine::RequestStream> stream, std::shared_ptr<engine::Inbox> inbox);
  ~RequestHandle();
  RequestHandle(RequestHandle&&) noexcept = default;
  RequestHandle& operator=(RequestHandle&& other) noexcept;
  RequestHandle(const RequestHandle&) = delete;
  RequestHandle& operator=(const RequestHandle&) = delete;

  bool valid() const noexcept { return stream_ != nullptr; }
  RequestId id() const;
  int32_t n_choices() const;

  // Blocks until the next event; nullopt once every choice's final event has been taken.
  std::optional<Event> next_event();
  // Waits at most `timeout`; nullopt on timeout or at the end (tell them apart with done()).
  std::optional<Event> next_event_for(std::chrono::milliseconds timeout);
  // Never waits.
  std::optional<Event> poll();
  // Every final event has been taken.
  bool done() const;

  // Asks the engine to stop this request; its blocks are freed at the next step and each
  // unfinished choice gets a final event with FinishReason::cancelled. Idempotent.
  void cancel();

 private:
  std::shared_ptr<engine::RequestStream> stream_;
  std::shared_ptr<engine::Inbox> inbox_;
};

class Engine {
 public:
  // Loads a GGUF model and its tokenizer on the backend options.backend names (auto: CUDA when
  // built with it and a GPU is present, else CPU; said once on stderr) and starts the loop thread. Throws ingot::Error with a
  // message naming the file and the problem.
  static std::unique_ptr<Engine> open(const std::string& model_path, const EngineOptions& options = {});
  // Wraps an engine core built by the caller (tests, other backends).
  explicit Engine(std::unique_ptr<engine::Engine> core);
  ~Engine();  // stop(): running requests are cancelled
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. The prompt is `request.prompt` (token ids) or, when that is empty,
  // `request.prompt_text` tokenized with the model's tokenizer. `request.id` 0 gets a fresh id;
  // a nonzero id must not be in use. Never throws for bad input: a request that is invalid or
  // can never fit (prompt + max_tokens over n_ctx or over the whole KV cache) gets one final
  // event per choice with FinishReason::rejected and a message saying why (an HTTP 400).
  [[nodiscard]] RequestHandle submit(Request request);
  // Cancels by id (as RequestHandle::cancel). Unknown or finished ids are ignored.
  void cancel(RequestId id);

  // Stops admitting requests (new ones are rejected), lets running and queued ones finish for
  // at most `drain_timeout`, cancels what is left, then stops the loop thread. Blocks.
  void shutdown(std::chrono::milliseconds drain_timeout);
  // Cancels everything and stops the loop thread now. Blocks until it has. Idempotent.
  void stop();

  const EngineInfo& info() const noexcept;
  // The model's tokenizer (null for a model file without a vocabulary). Thread-safe.
  const tokenizer::Tokenizer* tokenizer() const noexcept;
  // Engine metrics, updated each step; the server may register its own metrics here and
  // render everything with to_prometheus(). Thread-safe.
  engine::MetricsRegistry& metrics() noexcept;

  engine::Engine& core() noexcept { return *core_; }

 private:
  std::unique_ptr<engine::Engine> core_;
};

}  // namespace ingot
