#include "server/http_server.h"

#include "core/error.h"
#include "engine/metrics.h"
#include "server/api_error.h"
#include "server/generate_route.h"
#include "server/simple_routes.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace ingot::server {
namespace {

void send_error(httplib::Response& res, const ApiError& error) {
  res.status = error.status();
  res.set_content(dump_json(error.to_json()), "application/json");
}

// Runs a route, turning every exception into an OpenAI error body.
template <typename Fn>
void guarded(httplib::Response& res, Fn&& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const Error& e) {
    const bool client = e.code() == ErrorCode::invalid_argument || e.code() == ErrorCode::out_of_range;
    send_error(res, ApiError(client ? 400 : 500, e.what(), client ? "invalid_request_error" : "server_error"));
  } catch (const std::exception& e) {
    spdlog::error("internal error: {}", e.what());
    send_error(res, ApiError(500, fmt::format("internal error: {}", e.what()), "server_error"));
  }
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ b[i % std::max<size_t>(b.size(), 1)]);
  return diff == 0 && !b.empty();
}

// The label for request counters: known routes by name, anything else "other".
std::string route_label(const std::string& path) {
  for (const char* known : {"/health", "/v1/models", "/v1/completions", "/v1/chat/completions", "/tokenize",
                            "/detokenize", "/metrics"}) {
    if (path == known) return path;
  }
  return "other";
}

}  // namespace

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {
  const size_t n_threads = options_.n_http_threads > 0 ? options_.n_http_threads : 2 * 64 + 16;
  http_->new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
  http_->set_payload_max_length(options_.max_body_bytes);
  http_->set_keep_alive_max_count(100);
  http_->set_keep_alive_timeout(5);
  http_->set_read_timeout(30, 0);
  http_->set_write_timeout(10, 0);
  http_->set_tcp_nodelay(true);
  install_routes();
}

HttpServer::~HttpServer() { stop(); }

std::shared_ptr<const ServedModel> HttpServer::model() const {
  std::lock_guard lock(model_mutex_);
  return model_;
}

void HttpServer::attach(std::shared_ptr<const ServedModel> model) {
  std::lock_guard lock(model_mutex_);
  model_ = std::move(model);
}

void HttpServer::start() {
  if (options_.port == 0) {
    port_ = http_->bind_to_any_port(options_.host);
    if (port_ <= 0) fail(ErrorCode::io, "cannot listen on {} (any port)", options_.host);
  } else {
    if (options_.port < 0 || options_.port > 65535) fail(ErrorCode::invalid_argument, "--port {} is not a port number", options_.port);
    if (!http_->bind_to_port(options_.host, options_.port)) {
      fail(ErrorCode::io, "cannot listen on {}:{} (is the port in use, or the address not local?)", options_.host, options_.port);
    }
    port_ = options_.port;
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so an early stop()
  // (a model that fails to load) cannot leave the loop running forever.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!http_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!http_->is_running()) fail(ErrorCode::internal, "the HTTP server on {}:{} did not start", options_.host, port_);
}

void HttpServer::stop() {
  std::lock_guard lock(stop_mutex_);
  draining_.store(true);
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();
  }
}

void HttpServer::install_routes() {
  httplib::Server& http = *http_;

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", options_.cors_origin);
      if (options_.cors_origin != "*") res.set_header("Vary", "Origin");
      if (req.method == "OPTIONS") {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.set_header("Access-Control-Max-Age", "86400");
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (!options_.api_key.empty()) {
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                      constant_time_equal(auth.substr(prefix.size()), options_.api_key);
      if (!ok) {
        send_error(res, ApiError(401,
                                 auth.empty() ? "Missing API key: send it as 'Authorization: Bearer <key>'"
                                              : "Incorrect API key provided",
                                 "invalid_request_error", {}, "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (draining_.load()) {
      res.set_header("Connection", "close");
      send_error(res, ApiError(503, "the server is shutting down", "unavailable_error"));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (model() == nullptr) {
      res.set_header("Retry-After", "1");
      send_error(res, ApiError(503, "the model is still loading", "unavailable_error"));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.is_chunked_content_provider_) return httplib::Server::HandlerResponse::Unhandled;
    std::string message;
    switch (res.status) {
      case 404: message = fmt::format("unknown route: {} {}", req.method, req.path); break;
      case 413: message = fmt::format("the request body is over the limit of {} bytes", options_.max_body_bytes); break;
      case 400: message = "malformed HTTP request"; break;
      default: message = fmt::format("HTTP {}", res.status); break;
    }
    send_error(res, ApiError(res.status, message, error_type_for_status(res.status)));
    return httplib::Server::HandlerResponse::Handled;
  }));

  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, ApiError(500, fmt::format("internal error: {}", what), "server_error"));
  });

  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (req.path != "/health" && req.path != "/metrics") {
      spdlog::info("{} {} {} {}", req.remote_addr, req.method, req.path, res.status);
    }
    if (const auto m = model(); m != nullptr && m->engine != nullptr) {
      m->engine->metrics()
          .counter("ingot_http_requests_total", "HTTP requests answered, by route and status",
                   {{"route", route_label(req.path)}, {"status", std::to_string(res.status)}})
          .inc();
    }
  });

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (draining_.load()) {
      res.status = 503;
      res.set_content(R"({"status":"shutting down"})", "application/json");
    } else if (model() == nullptr) {
      res.status = 503;
      res.set_content(R"({"status":"loading"})", "application/json");
    } else {
      res.status = 200;
      res.set_content(R"({"status":"ok"})", "application/json");
    }
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] { res.set_content(dump_json(models_json(*model())), "application/json"); });
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] { res.set_content(model()->engine->metrics().to_prometheus(), "text/plain; version=0.0.4"); });
  });
  http.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] { res.set_content(dump_json(tokenize_json(*model(), req.body)), "application/json"); });
  });
  http.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] { res.set_content(dump_json(detokenize_json(*model(), req.body)), "application/json"); });
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] { handle_generate(model(), options_, Endpoint::completions, req, res); });
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] { handle_generate(model(), options_, Endpoint::chat, req, res); });
  });
}

}  // namespace ingot::server
