#include "server/generate_route.h"

#include "server/api_error.h"
#include "server/http_server.h"
#include "server/oai_format.h"
#include "server/prompt_builder.h"
#include "tokenizer/tokenizer.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace ingot::server {
namespace {

using namespace std::chrono_literals;

constexpr auto kKeepAliveInterval = 2s;  // an SSE comment when a stream is silent this long

// How a final event that is not stop/length becomes an error.
ApiError event_error(const Event& e) {
  switch (e.finish_reason) {
    case FinishReason::rejected: return ApiError(400, e.message.empty() ? "the request was rejected" : e.message);
    case FinishReason::cancelled:
      return ApiError(503, e.message.empty() ? "the request was cancelled (the server is shutting down)" : e.message,
                      "unavailable_error");
    default: return ApiError(500, e.message.empty() ? "the engine failed" : e.message, "server_error");
  }
}

bool is_failure(const Event& e) {
  return e.finished && e.finish_reason != FinishReason::stop && e.finish_reason != FinishReason::length;
}

void add_usage(UsageTotals& totals, const Event& e) {
  if (e.choice == 0 || totals.n_prompt == 0) {
    totals.n_prompt = e.usage.n_prompt_tokens;
    totals.n_cached = e.usage.n_cached_prompt_tokens;
  }
  totals.n_completion += e.usage.n_completion_tokens;
}

struct StreamState {
  ResponseMeta meta;
  RequestHandle handle;
  std::shared_ptr<const ServedModel> model;  // keeps the tokenizer alive
  bool want_logprobs = false;
  bool include_usage = false;
  int32_t n = 1;
  std::optional<Event> first;  // taken by poll() before the stream started
};

// Writes the whole stream; returns false (and cancels) when the client is gone.
bool write_stream(StreamState& s, httplib::DataSink& sink) {
  const tokenizer::Tokenizer& tok = *s.model->engine->tokenizer();
  auto write = [&](const std::string& data) { return sink.write(data.data(), data.size()); };
  const bool chat = s.meta.endpoint == Endpoint::chat;
  if (chat) {
    for (int32_t i = 0; i < s.n; ++i) {
      if (!write(sse_data(chat_chunk(s.meta, i, Json{{"role", "assistant"}, {"content", ""}}, nullptr, std::nullopt,
                                     s.include_usage)))) {
        return false;
      }
    }
  }
  UsageTotals usage;
  std::vector<int64_t> offsets(static_cast<size_t>(s.n), 0);
  while (s.first || !s.handle.done()) {
    std::optional<Event> got;
    if (s.first) {
      got = std::move(s.first);
      s.first.reset();
    } else {
      got = s.handle.next_event_for(kKeepAliveInterval);
    }
    if (!got) {
      if (s.handle.done()) break;
      if (!write(": keep-alive\n\n")) return false;
      continue;
    }
    const Event& e = *got;
    if (e.choice < 0 || e.choice >= s.n) continue;
    const bool has_logprobs = s.want_logprobs && !e.logprobs.empty();
    if (is_failure(e)) {
      const ApiError error = event_error(e);
      if (!write(sse_data(error.to_json()))) return false;
      continue;
    }
    std::optional<FinishReason> finish;
    if (e.finished) {
      finish = e.finish_reason;
      add_usage(usage, e);
    }
    std::string out;
    if (chat) {
      if (!e.text.empty() || has_logprobs) {
        Json logprobs = has_logprobs ? chat_logprob_entries(e, tok) : Json(nullptr);
        out += sse_data(chat_chunk(s.meta, e.choice, Json{{"content", e.text}}, std::move(logprobs), std::nullopt,
                                   s.include_usage));
      }
      if (finish) out += sse_data(chat_chunk(s.meta, e.choice, Json::object(), nullptr, finish, s.include_usage));
    } else if (!e.text.empty() || has_logprobs || finish) {
      Json logprobs = has_logprobs ? completion_logprobs(e, tok, offsets[static_cast<size_t>(e.choice)]) : Json(nullptr);
      out += sse_data(completion_chunk(s.meta, e.choice, e.text, std::move(logprobs), finish, s.include_usage));
    }
    if (!out.empty() && !write(out)) return false;
  }
  if (s.include_usage && !write(sse_data(usage_chunk(s.meta, usage)))) return false;
  if (!write(kSseDone)) return false;
  sink.done();
  return true;
}

}  // namespace

void check_context(int64_t n_prompt, const SamplingParams& sampling, int32_t n_ctx, Endpoint endpoint) {
  const std::string param = endpoint == Endpoint::chat ? "messages" : "prompt";
  if (sampling.max_tokens) {
    const int64_t total = n_prompt + *sampling.max_tokens;
    if (total > n_ctx) {
      throw ApiError(400,
                     fmt::format("This model's maximum context length is {} tokens. However, you requested {} tokens "
                                 "({} in the prompt, {} for the completion). Please reduce the prompt or max_tokens.",
                                 n_ctx, total, n_prompt, *sampling.max_tokens),
                     "invalid_request_error", param, "context_length_exceeded");
    }
  } else if (n_prompt >= n_ctx) {
    throw ApiError(400,
                   fmt::format("This model's maximum context length is {} tokens. However, the prompt is {} tokens, "
                               "which leaves no room for the completion. Please reduce the prompt.",
                               n_ctx, n_prompt),
                   "invalid_request_error", param, "context_length_exceeded");
  }
}

void handle_generate(const std::shared_ptr<const ServedModel>& model, const ServerOptions& options, Endpoint endpoint,
                     const httplib::Request& req, httplib::Response& res) {
  Engine& engine = *model->engine;
  const tokenizer::Tokenizer* tok = engine.tokenizer();
  if (tok == nullptr) throw ApiError(500, "the model has no tokenizer", "server_error");
  const EngineInfo& info = engine.info();

  const Json body = parse_json_body(req.body);
  ParseLimits limits;
  limits.n_vocab = info.n_vocab;
  limits.max_n = options.max_n;
  GenerateRequest parsed = endpoint == Endpoint::chat ? parse_chat_request(body, limits) : parse_completion_request(body, limits);
  if (!model->accepts(parsed.model)) {
    throw ApiError(404, fmt::format("The model '{}' does not exist; this server serves '{}'", parsed.model, model->id),
                   "invalid_request_error", "model", "model_not_found");
  }
  Request request;
  request.prompt = build_prompt(parsed, *tok, model->chat_template.get());
  check_context(static_cast<int64_t>(request.prompt.size()), parsed.sampling, info.n_ctx, endpoint);
  request.sampling = parsed.sampling;

  ResponseMeta meta = make_meta(endpoint, model->id);
  RequestHandle handle = engine.submit(std::move(request));
  if (!handle.valid()) throw ApiError(500, "the engine did not accept the request", "server_error");

  if (!parsed.stream) {
    std::vector<ChoiceResult> choices(static_cast<size_t>(handle.n_choices()));
    UsageTotals usage;
    while (std::optional<Event> e = handle.next_event()) {
      if (is_failure(*e)) throw event_error(*e);
      if (e->choice < 0 || static_cast<size_t>(e->choice) >= choices.size()) continue;
      accumulate(choices[static_cast<size_t>(e->choice)], *e, endpoint, parsed.want_logprobs, *tok);
      if (e->finished) add_usage(usage, *e);
    }
    res.status = 200;
    res.set_content(dump_json(response_body(meta, choices, parsed.want_logprobs, usage)), "application/json");
    return;
  }

  // A rejection decided at submit is already queued: answer it with a status, not a stream.
  std::optional<Event> first = handle.poll();
  if (first && is_failure(*first)) throw event_error(*first);
  auto state = std::make_shared<StreamState>();
  state->meta = std::move(meta);
  state->model = model;
  state->want_logprobs = parsed.want_logprobs;
  state->include_usage = parsed.include_usage;
  state->n = handle.n_choices();
  state->handle = std::move(handle);
  state->first = std::move(first);
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [state](size_t /*offset*/, httplib::DataSink& sink) {
        const bool ok = write_stream(*state, sink);
        if (!ok) {
          state->handle.cancel();
          spdlog::info("{} {}: client went away; request cancelled", state->meta.id, state->meta.model);
        }
        return ok;
      },
      [state](bool /*success*/) { state->handle.cancel(); });
}

}  // namespace ingot::server
