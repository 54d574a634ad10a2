#include "server/oai_format.h"

#include "server/api_error.h"
#include "tokenizer/tokenizer.h"

#include <chrono>
#include <random>

namespace ingot::server {
namespace {

Json bytes_of(const std::string& piece) {
  Json bytes = Json::array();
  for (const char c : piece) bytes.push_back(static_cast<int>(static_cast<unsigned char>(c)));
  return bytes;
}

Json logprob_value(float logprob) { return Json(static_cast<double>(logprob)); }

}  // namespace

std::string new_response_id(Endpoint endpoint) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id = endpoint == Endpoint::chat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

ResponseMeta make_meta(Endpoint endpoint, std::string model) {
  ResponseMeta meta;
  meta.endpoint = endpoint;
  meta.id = new_response_id(endpoint);
  meta.model = std::move(model);
  meta.created = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
  return meta;
}

std::string finish_reason_name(FinishReason reason) {
  return reason == FinishReason::length ? "length" : "stop";
}

Json usage_json(const UsageTotals& usage) {
  Json u = Json::object();
  u["prompt_tokens"] = usage.n_prompt;
  u["completion_tokens"] = usage.n_completion;
  u["total_tokens"] = usage.n_prompt + usage.n_completion;
  u["prompt_tokens_details"] = Json{{"cached_tokens", usage.n_cached}};
  return u;
}

Json chat_logprob_entries(const Event& event, const tokenizer::Tokenizer& tokenizer) {
  Json entries = Json::array();
  for (size_t i = 0; i < event.logprobs.size(); ++i) {
    const TokenLogprob& chosen = event.logprobs[i];
    const std::string piece = tokenizer.token_to_piece(chosen.token);
    Json entry = Json::object();
    entry["token"] = piece;
    entry["logprob"] = logprob_value(chosen.logprob);
    entry["bytes"] = bytes_of(piece);
    Json top = Json::array();
    if (i < event.top_logprobs.size()) {
      for (const TokenLogprob& alt : event.top_logprobs[i]) {
        const std::string alt_piece = tokenizer.token_to_piece(alt.token);
        top.push_back(Json{{"token", alt_piece}, {"logprob", logprob_value(alt.logprob)}, {"bytes", bytes_of(alt_piece)}});
      }
    }
    entry["top_logprobs"] = std::move(top);
    entries.push_back(std::move(entry));
  }
  return entries;
}

Json completion_logprobs(const Event& event, const tokenizer::Tokenizer& tokenizer, int64_t& text_offset) {
  Json out = Json::object();
  out["tokens"] = Json::array();
  out["token_logprobs"] = Json::array();
  out["top_logprobs"] = Json::array();
  out["text_offset"] = Json::array();
  for (size_t i = 0; i < event.logprobs.size(); ++i) {
    const TokenLogprob& chosen = event.logprobs[i];
    const std::string piece = tokenizer.token_to_piece(chosen.token);
    out["tokens"].push_back(piece);
    out["token_logprobs"].push_back(logprob_value(chosen.logprob));
    Json top = Json::object();
    if (i < event.top_logprobs.size()) {
      for (const TokenLogprob& alt : event.top_logprobs[i]) top[tokenizer.token_to_piece(alt.token)] = logprob_value(alt.logprob);
    }
    out["top_logprobs"].push_back(std::move(top));
    out["text_offset"].push_back(text_offset);
    text_offset += static_cast<int64_t>(piece.size());
  }
  return out;
}

void accumulate(ChoiceResult& choice, const Event& event, Endpoint endpoint, bool want_logprobs,
                const tokenizer::Tokenizer& tokenizer) {
  choice.text += event.text;
  if (want_logprobs && !event.logprobs.empty()) {
    if (endpoint == Endpoint::chat) {
      if (choice.logprobs.is_null()) choice.logprobs = Json::array();
      for (Json& entry : chat_logprob_entries(event, tokenizer)) choice.logprobs.push_back(std::move(entry));
    } else {
      Json part = completion_logprobs(event, tokenizer, choice.text_offset);
      if (choice.logprobs.is_null()) {
        choice.logprobs = std::move(part);
      } else {
        for (const char* key : {"tokens", "token_logprobs", "top_logprobs", "text_offset"}) {
          for (Json& v : part[key]) choice.logprobs[key].push_back(std::move(v));
        }
      }
    }
  }
  if (event.finished) {
    choice.finished = true;
    choice.finish_reason = event.finish_reason;
  }
}

Json response_body(const ResponseMeta& meta, const std::vector<ChoiceResult>& choices, bool want_logprobs,
                   const UsageTotals& usage) {
  Json body = Json::object();
  body["id"] = meta.id;
  body["object"] = meta.endpoint == Endpoint::chat ? "chat.completion" : "text_completion";
  body["created"] = meta.created;
  body["model"] = meta.model;
  Json list = Json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceResult& c = choices[i];
    Json choice = Json::object();
    choice["index"] = i;
    if (meta.endpoint == Endpoint::chat) {
      choice["message"] = Json{{"role", "assistant"}, {"content", c.text}, {"refusal", nullptr}};
      if (want_logprobs) {
        choice["logprobs"] = Json{{"content", c.logprobs.is_null() ? Json::array() : c.logprobs}, {"refusal", nullptr}};
      } else {
        choice["logprobs"] = nullptr;
      }
    } else {
      choice["text"] = c.text;
      if (want_logprobs && c.logprobs.is_null()) {
        choice["logprobs"] = Json{{"tokens", Json::array()}, {"token_logprobs", Json::array()},
                                  {"top_logprobs", Json::array()}, {"text_offset", Json::array()}};
      } else {
        choice["logprobs"] = want_logprobs ? c.logprobs : Json(nullptr);
      }
    }
    choice["finish_reason"] = finish_reason_name(c.finish_reason);
    list.push_back(std::move(choice));
  }
  body["choices"] = std::move(list);
  body["usage"] = usage_json(usage);
  body["system_fingerprint"] = nullptr;
  return body;
}

namespace {
Json chunk_head(const ResponseMeta& meta) {
  Json chunk = Json::object();
  chunk["id"] = meta.id;
  chunk["object"] = meta.endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion";
  chunk["created"] = meta.created;
  chunk["model"] = meta.model;
  chunk["system_fingerprint"] = nullptr;
  return chunk;
}
Json finish_json(std::optional<FinishReason> finish) {
  return finish ? Json(finish_reason_name(*finish)) : Json(nullptr);
}
}  // namespace

Json chat_chunk(const ResponseMeta& meta, int32_t index, Json delta, Json logprobs,
                std::optional<FinishReason> finish, bool usage_field) {
  Json chunk = chunk_head(meta);
  Json choice = Json::object();
  choice["index"] = index;
  choice["delta"] = std::move(delta);
  choice["logprobs"] = logprobs.is_null() ? Json(nullptr) : Json{{"content", std::move(logprobs)}, {"refusal", nullptr}};
  choice["finish_reason"] = finish_json(finish);
  chunk["choices"] = Json::array({std::move(choice)});
  if (usage_field) chunk["usage"] = nullptr;
  return chunk;
}

Json completion_chunk(const ResponseMeta& meta, int32_t index, const std::string& text, Json logprobs,
                      std::optional<FinishReason> finish, bool usage_field) {
  Json chunk = chunk_head(meta);
  Json choice = Json::object();
  choice["index"] = index;
  choice["text"] = text;
  choice["logprobs"] = std::move(logprobs);
  choice["finish_reason"] = finish_json(finish);
  chunk["choices"] = Json::array({std::move(choice)});
  if (usage_field) chunk["usage"] = nullptr;
  return chunk;
}

Json usage_chunk(const ResponseMeta& meta, const UsageTotals& usage) {
  Json chunk = chunk_head(meta);
  chunk["choices"] = Json::array();
  chunk["usage"] = usage_json(usage);
  return chunk;
}

std::string sse_data(const Json& value) { return "data: " + dump_json(value) + "\n\n"; }

}  // namespace ingot::server
