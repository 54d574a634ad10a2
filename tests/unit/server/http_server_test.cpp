// The HTTP server end to end over a real loopback socket with the engine's fake model (no
// weights): 503 while loading, then routes; the JSON and SSE answers match the fake model's
// greedy text; API key, unknown routes, body limit and context errors; a client that drops a
// stream mid-way has its request cancelled and every KV block freed; draining answers 503.
#include "engine/engine_test_util.h"
#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace ingot::server {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
using engine::test::FakeEngine;
using engine::test::FakeOptions;

constexpr const char* kKey = "sk-test";

struct Fixture {
  FakeEngine fake;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<httplib::Client> client;
};

Fixture start(bool attach = true, FakeOptions fake_options = {}, std::string cors_origin = {}) {
  Fixture f;
  f.fake = engine::test::make_fake_engine(engine::test::small_config(), std::move(fake_options));
  ServerOptions options;
  options.port = 0;
  options.api_key = kKey;
  options.max_body_bytes = 64 * 1024;
  options.n_http_threads = 16;
  options.cors_origin = std::move(cors_origin);
  f.server = std::make_unique<HttpServer>(options);
  f.server->start();
  if (attach) {
    auto model = std::make_shared<ServedModel>();
    model->engine = f.fake.engine.get();
    model->id = "fake";
    model->aliases = {"fake-alias"};
    model->chat_template =
        std::make_shared<const chat::ChatTemplate>("{% for m in messages %}{{ m.content }} {% endfor %}");
    f.server->attach(model);
  }
  f.client = std::make_unique<httplib::Client>("127.0.0.1", f.server->port());
  f.client->set_bearer_token_auth(kKey);
  f.client->set_read_timeout(30, 0);
  return f;
}

httplib::Result post(Fixture& f, const std::string& path, const std::string& body) {
  return f.client->Post(path.c_str(), body, "application/json");
}

std::string expected_greedy(const std::string& prompt_letters, int32_t n) {
  const auto tok = engine::test::make_tokenizer();
  return engine::test::letters(engine::test::fake_greedy(tok->encode(prompt_letters, true, true), n));
}

TEST(HttpServer, LoadingThenHealthy) {
  Fixture f = start(/*attach=*/false);
  auto health = f.client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(Json::parse(health->body)["status"], "loading");
  auto models = f.client->Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 503);
  EXPECT_TRUE(Json::parse(models->body).contains("error"));
}

TEST(HttpServer, CompletionMatchesTheFakeModel) {
  Fixture f = start();
  EXPECT_EQ(f.client->Get("/health")->status, 200);
  auto r = post(f, "/v1/completions", R"({"model": "fake", "prompt": "hello world", "max_tokens": 12, "temperature": 0})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const Json body = Json::parse(r->body);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][0]["text"], expected_greedy("hello world", 12));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(body["usage"]["completion_tokens"], 12);
  EXPECT_EQ(body["usage"]["total_tokens"].get<int>(),
            body["usage"]["prompt_tokens"].get<int>() + body["usage"]["completion_tokens"].get<int>());
  auto models = f.client->Get("/v1/models");
  EXPECT_EQ(Json::parse(models->body)["data"][0]["id"], "fake");
  auto alias = post(f, "/v1/completions", R"({"model": "fake-alias", "prompt": "abc", "max_tokens": 1})");
  EXPECT_EQ(alias->status, 200);
}

TEST(HttpServer, ChatStreamHasRoleFirstAndDone) {
  Fixture f = start();
  auto r = post(f, "/v1/chat/completions",
                R"({"messages": [{"role": "user", "content": "abc"}], "max_tokens": 6, "temperature": 0,
                    "stream": true, "stream_options": {"include_usage": true}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  std::vector<Json> chunks;
  size_t pos = 0;
  bool done = false;
  while ((pos = r->body.find("data: ", pos)) != std::string::npos) {
    const size_t end = r->body.find("\n\n", pos);
    const std::string data = r->body.substr(pos + 6, end - pos - 6);
    if (data == "[DONE]") done = true; else chunks.push_back(Json::parse(data));
    pos = end;
  }
  EXPECT_TRUE(done);
  ASSERT_GE(chunks.size(), 3u);
  EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  for (const Json& c : chunks) {
    for (const Json& ch : c["choices"]) text += ch["delta"].value("content", "");
  }
  EXPECT_EQ(text, expected_greedy("abc ", 6));
  EXPECT_TRUE(chunks.back()["choices"].empty());
  EXPECT_EQ(chunks.back()["usage"]["completion_tokens"], 6);
}

TEST(HttpServer, ErrorsHaveStatusAndShape) {
  Fixture f = start();
  auto check = [&](httplib::Result r, int status) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    const Json body = Json::parse(r->body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << r->body;
    EXPECT_TRUE(body["error"].contains("message") && body["error"].contains("type"));
  };
  check(post(f, "/v1/completions", "{not json"), 400);
  check(post(f, "/v1/completions", R"({"prompt": "a", "temperature": 9})"), 400);
  check(post(f, "/v1/completions", R"({"prompt": "a", "model": "other"})"), 404);
  check(post(f, "/v1/nowhere", "{}"), 404);
  check(post(f, "/v1/completions", std::string(100 * 1024, ' ')), 413);
  check(post(f, "/v1/completions", R"({"prompt": "abc", "max_tokens": 600})"), 400);  // n_ctx 512
  httplib::Client anonymous("127.0.0.1", f.server->port());
  check(anonymous.Post("/v1/completions", R"({"prompt": "a"})", "application/json"), 401);
  EXPECT_EQ(anonymous.Get("/health")->status, 200);
  // Nothing above reached the engine's KV.
  EXPECT_TRUE(engine::test::idle(engine::test::wait_for(f.fake.core(), engine::test::idle)));
}

TEST(HttpServer, DroppedStreamIsCancelledAndFreesItsBlocks) {
  FakeOptions slow;
  slow.step_delay = 2ms;
  Fixture f = start(true, slow);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(f.server->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string body = R"({"prompt": "abc", "max_tokens": 400, "ignore_eos": true, "stream": true})";
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n"
                              "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  char buffer[4096];
  size_t received = 0;
  while (received < 600) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    ASSERT_GT(n, 0);
    received += static_cast<size_t>(n);
  }
  EXPECT_GT(f.fake.core().snapshot().kv.n_used, 0);
  ::close(fd);
  const auto s = engine::test::wait_for(f.fake.core(), engine::test::idle, 10s);
  EXPECT_TRUE(engine::test::idle(s)) << "used blocks: " << s.kv.n_used << ", requests: " << s.n_requests;
  auto metrics = f.client->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("ingot_requests_finished_total{reason=\"cancelled\"} 1"), std::string::npos)
      << metrics->body;
}

TEST(HttpServer, CorsPreflightAndHeaders) {
  Fixture f = start(true, {}, "https://example.com");
  httplib::Client anonymous("127.0.0.1", f.server->port());
  auto preflight = anonymous.Options("/v1/chat/completions");  // no key: preflights never carry one
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"), "https://example.com");
  EXPECT_NE(preflight->get_header_value("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  auto models = f.client->Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  EXPECT_EQ(models->get_header_value("Access-Control-Allow-Origin"), "https://example.com");
  Fixture plain = start();
  EXPECT_FALSE(plain.client->Get("/v1/models")->has_header("Access-Control-Allow-Origin"));
}

TEST(HttpServer, TokenizeRoundTrip) {
  Fixture f = start();
  auto t = post(f, "/tokenize", R"({"content": "hello world"})");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->status, 200) << t->body;
  const Json tokens = Json::parse(t->body)["tokens"];
  EXPECT_GT(tokens.size(), 5u);
  auto d = post(f, "/detokenize", Json{{"tokens", tokens}}.dump());
  ASSERT_EQ(d->status, 200) << d->body;
  EXPECT_EQ(Json::parse(d->body)["content"], "hello world");
  EXPECT_EQ(post(f, "/detokenize", R"({"tokens": [99999]})")->status, 400);
  EXPECT_EQ(post(f, "/tokenize", R"({"content": 5})")->status, 400);
}

TEST(HttpServer, DrainingRefusesNewRequests) {
  Fixture f = start();
  f.server->begin_drain();
  auto r = post(f, "/v1/completions", R"({"prompt": "a"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(f.client->Get("/health")->status, 503);
  f.server->stop();
}

}  // namespace
}  // namespace ingot::server
