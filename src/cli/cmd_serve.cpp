// `ingot serve`: the OpenAI-compatible HTTP server. Listens first (GET /health answers 503
// while the model loads), loads the model with a progress bar, prints one line saying where it
// listens and what it serves, then runs until SIGINT/SIGTERM: it stops accepting, lets running
// requests finish for up to --shutdown-timeout seconds, cancels the rest and returns (exit 0).
#include "cli/chat_template_source.h"
#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress_bar.h"
#include "ingot/engine.h"
#include "server/http_server.h"
#include "server/served_model.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

namespace ingot::cli {
namespace {

struct ServeOptions {
  server::ServerOptions http;
  std::string model;
  int32_t n_ctx = 0;
  int32_t max_seqs = 64;
  int32_t max_batch_tokens = 512;
  std::string kv_memory;  // "": 1 GiB on the CPU, --gpu-memory-utilization on CUDA
  double gpu_memory_utilization = 0.90;
  size_t n_threads = 0;
  std::string backend;  // "" (auto), "cpu", "cuda"
  int32_t device = 0;
  ChatTemplateSource chat_template;
  std::string log_format = "text";
  double shutdown_timeout_s = 30.0;
  std::string max_body = "8MiB";
};

// "1073741824", "512M", "512MiB", "1G", "1.5GB" -> bytes (K/M/G/T are powers of 1024).
uint64_t parse_bytes(const std::string& text, const char* flag) {
  size_t used = 0;
  double value = 0.0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    fail(ErrorCode::invalid_argument, "{} '{}' is not a size (e.g. 512MiB, 2G)", flag, text);
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 1.0;
  if (unit.empty() || unit == "B") scale = 1.0;
  else if (unit == "K" || unit == "KB" || unit == "KIB") scale = 1024.0;
  else if (unit == "M" || unit == "MB" || unit == "MIB") scale = 1024.0 * 1024.0;
  else if (unit == "G" || unit == "GB" || unit == "GIB") scale = 1024.0 * 1024.0 * 1024.0;
  else if (unit == "T" || unit == "TB" || unit == "TIB") scale = 1024.0 * 1024.0 * 1024.0 * 1024.0;
  else fail(ErrorCode::invalid_argument, "{} '{}': unknown unit '{}' (use K, M, G or T)", flag, text, unit);
  const double bytes = value * scale;
  if (!(bytes >= 1.0 && bytes < 1.8e19)) fail(ErrorCode::invalid_argument, "{} '{}' is out of range", flag, text);
  return static_cast<uint64_t>(bytes);
}

// Reads the model file once with a progress bar, so the OS has it cached when the engine maps it
// (the slow part of a cold load is this I/O).
void read_with_progress(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(ErrorCode::not_found, "cannot open the model {}: {}", path, ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::not_found, "cannot open the model {}: {}", path, std::strerror(errno));
  ProgressBar bar("loading model", size);
  std::vector<char> buffer(8u << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n <= 0) break;
    bar.advance(static_cast<uint64_t>(n));
  }
  bar.finish();
}

// Waits for SIGINT/SIGTERM on its own thread (the signals are blocked everywhere else).
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);  // before any other thread starts: they inherit it
    thread_ = std::thread([this] { run(); });
  }
  ~SignalWatcher() {
    quit_.store(true);
    thread_.join();
    pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Waits until the n-th signal arrived.
  void wait_for(int n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return n_signals_.load() >= n; });
  }

 private:
  void run() {
    while (!quit_.load()) {
      timespec timeout{0, 100'000'000};
      const int sig = sigtimedwait(&set_, nullptr, &timeout);
      if (sig == SIGINT || sig == SIGTERM) {
        {
          std::lock_guard lock(mutex_);
          n_signals_.fetch_add(1);
        }
        cv_.notify_all();
      }
    }
  }

  sigset_t set_;
  std::atomic<bool> quit_{false};
  std::atomic<int> n_signals_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

std::string model_id_of(const std::string& path) {
  std::string stem = std::filesystem::path(path).stem().string();
  return stem.empty() ? std::string("ingot") : stem;
}

void serve(const ServeOptions& o) {
  configure_logging(parse_log_format(o.log_format));
  if (o.shutdown_timeout_s < 0.0) fail(ErrorCode::invalid_argument, "--shutdown-timeout must not be negative");
  const std::string model_path = resolve_model_path(o.model);

  server::ServerOptions http = o.http;
  if (http.api_key.empty()) {
    if (const char* key = std::getenv("INGOT_API_KEY"); key != nullptr) http.api_key = key;
  }
  http.max_body_bytes = parse_bytes(o.max_body, "--max-body");
  if (http.n_http_threads == 0) http.n_http_threads = 2 * static_cast<size_t>(std::max(o.max_seqs, 1)) + 16;

  std::signal(SIGPIPE, SIG_IGN);  // a client that went away is a failed write, not a dead server
  std::unique_ptr<Engine> engine;  // declared first: destroyed after the server's handlers end
  SignalWatcher signals;
  server::HttpServer server(http);
  server.start();
  spdlog::info("listening on http://{}:{} (loading {})", http.host, server.port(), model_path);

  EngineOptions engine_options;
  engine_options.n_ctx = o.n_ctx;
  engine_options.max_seqs = o.max_seqs;
  engine_options.max_batch_tokens = o.max_batch_tokens;
  engine_options.kv_memory_bytes = o.kv_memory.empty() ? 0 : parse_bytes(o.kv_memory, "--kv-memory");
  engine_options.gpu_memory_utilization = o.gpu_memory_utilization;
  engine_options.n_threads = o.n_threads;
  engine_options.backend = o.backend;
  engine_options.device = o.device;
  read_with_progress(model_path);
  engine = Engine::open(model_path, engine_options);
  if (engine->tokenizer() == nullptr) fail(ErrorCode::unsupported, "{}: the model has no tokenizer; it cannot be served", model_path);

  auto served = std::make_shared<server::ServedModel>();
  served->engine = engine.get();
  served->id = model_id_of(model_path);
  const EngineInfo& info = engine->info();
  if (!info.model_name.empty() && info.model_name != served->id) served->aliases.push_back(info.model_name);
  served->aliases.push_back(model_path);
  served->created = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  ChatTemplateSource template_source = o.chat_template;
  template_source.model_path = model_path;
  try {
    served->chat_template = std::make_shared<const chat::ChatTemplate>(load_chat_template(template_source));
  } catch (const Error& e) {
    if (!o.chat_template.template_path.empty()) throw;  // an explicit --chat-template must work
    spdlog::warn("no chat template ({}); /v1/chat/completions answers 400 until one is given with --chat-template", e.what());
  }
  server.attach(served);
  const std::string line = fmt::format(
      "ingot serve: listening on http://{}:{} | model {} ({}) | backend {} | KV cache {} tokens ({} blocks of {}) | "
      "context {} | max {} sequences{}",
      http.host, server.port(), served->id, model_path, info.backend, info.kv_capacity_tokens, info.kv_blocks,
      info.kv_block_size, info.n_ctx, info.max_seqs, http.api_key.empty() ? "" : " | API key required");
  fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);

  signals.wait_for(1);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(o.shutdown_timeout_s * 1000.0));
  spdlog::info("shutting down: no new requests; running ones have {:.0f} s to finish", o.shutdown_timeout_s);
  server.begin_drain();
  std::thread closer([&server] { server.stop(); });  // closes the listener now, returns when handlers end
  engine->shutdown(timeout);  // running requests finish or are cancelled; their streams then end
  closer.join();
  engine.reset();
  spdlog::info("stopped");
}

}  // namespace

void register_serve(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "serve a model over an OpenAI-compatible HTTP API");
  cmd->add_option("--host", o->http.host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", o->http.port, "port to listen on (0: any free port)")->capture_default_str();
  cmd->add_option("-m,--model", o->model,
                  "GGUF model file (default: $INGOT_MODEL, else the shipped models/ingot-tiny/ingot-tiny-q8_0.gguf)");
  cmd->add_option("-c,--ctx-size", o->n_ctx, "tokens per sequence, prompt + completion (0: the model's context length)")
      ->capture_default_str();
  cmd->add_option("--max-seqs", o->max_seqs, "sequences generated together in one step")->capture_default_str();
  cmd->add_option("--max-batch-tokens", o->max_batch_tokens, "tokens per engine step (longer prompts are chunked)")
      ->capture_default_str();
  cmd->add_option("--kv-memory", o->kv_memory,
                  "memory for the KV cache, e.g. 512MiB, 2G (default: 1GiB on the CPU; on CUDA what "
                  "--gpu-memory-utilization leaves after the weights)");
  cmd->add_option("--gpu-memory-utilization", o->gpu_memory_utilization,
                  "CUDA: fraction of the device's memory ingot may use (weights, workspace, KV cache), in (0, 1]")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->n_threads, "CPU threads (0: one per core)")->capture_default_str();
  cmd->add_option("--backend", o->backend, "compute backend: cpu or cuda (default: cuda when built with it and a GPU is present)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--device", o->device, "CUDA device index")->capture_default_str();
  cmd->add_option("--api-key", o->http.api_key, "require 'Authorization: Bearer KEY' (default: $INGOT_API_KEY)");
  cmd->add_option("--cors-origin", o->http.cors_origin, "allow browser requests from this origin ('*' for any)");
  add_chat_template_option(cmd, o->chat_template);
  cmd->add_option("--log-format", o->log_format, "log lines as 'text' or 'json'")->capture_default_str();
  cmd->add_option("--shutdown-timeout", o->shutdown_timeout_s,
                  "seconds running requests may take to finish after SIGINT/SIGTERM")
      ->capture_default_str();
  cmd->add_option("--max-body", o->max_body, "largest request body (bigger ones get 413)")->capture_default_str();
  cmd->add_option("--max-n", o->http.max_n, "largest 'n' (choices per request)")->capture_default_str();
  cmd->add_option("--http-threads", o->http.n_http_threads, "HTTP worker threads (0: 2 x max-seqs + 16)")
      ->capture_default_str();
  cmd->callback([o] { serve(*o); });
}

}  // namespace ingot::cli
