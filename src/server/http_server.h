// The HTTP front of ingot: an OpenAI-compatible API over cpp-httplib. It listens before the
// model is ready (GET /health answers 503 "loading" until attach()), checks the API key, CORS
// and body size before any handler runs, renders every failure in OpenAI's error shape, and
// drains on stop(): the listening socket closes at once, running handlers finish their streams.
// One worker thread per open connection (a pool sized for the engine's sequences).
#pragma once

#include "server/served_model.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace ingot::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0: any free port (see HttpServer::port())
  std::string api_key;               // empty: no key needed
  std::string cors_origin;           // empty: no CORS headers
  size_t max_body_bytes = 8u << 20;  // larger bodies get 413
  int32_t max_n = 64;                // choices per request
  size_t n_http_threads = 0;         // 0: 2 x max_seqs + 16 (a streaming request holds one)
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port and starts serving on a background thread. Throws Error(io) naming the
  // address when it cannot bind. Until attach(), every route but /health answers 503.
  void start();
  int port() const noexcept { return port_; }

  // The model is ready: routes go live, /health answers 200. The engine must outlive stop().
  void attach(std::shared_ptr<const ServedModel> model);

  // New requests get 503 from now on (requests already running continue).
  void begin_drain() noexcept { draining_.store(true); }
  // Closes the listening socket and waits for every running handler (streams included) to end.
  // Idempotent.
  void stop();

  std::shared_ptr<const ServedModel> model() const;
  const ServerOptions& options() const noexcept { return options_; }

 private:
  void install_routes();

  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> draining_{false};
  mutable std::mutex model_mutex_;
  std::shared_ptr<const ServedModel> model_;
  std::mutex stop_mutex_;
};

}  // namespace ingot::server
