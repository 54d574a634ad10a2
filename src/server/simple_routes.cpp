#include "server/simple_routes.h"

#include "server/api_error.h"
#include "server/request_parser.h"
#include "tokenizer/tokenizer.h"

#include <fmt/format.h>

namespace ingot::server {
namespace {

using Json = nlohmann::ordered_json;

const tokenizer::Tokenizer& tokenizer_of(const ServedModel& model) {
  const tokenizer::Tokenizer* tok = model.engine->tokenizer();
  if (tok == nullptr) throw ApiError(400, "this model has no tokenizer");
  return *tok;
}

bool flag(const Json& body, const char* name, bool fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) bad_request(name, fmt::format("'{}' must be a boolean", name));
  return it->get<bool>();
}

}  // namespace

Json models_json(const ServedModel& model) {
  const EngineInfo& info = model.engine->info();
  Json entry = Json::object();
  entry["id"] = model.id;
  entry["object"] = "model";
  entry["created"] = model.created;
  entry["owned_by"] = "ingot";
  entry["meta"] = Json{{"name", info.model_name},
                       {"backend", info.backend},
                       {"n_vocab", info.n_vocab},
                       {"n_ctx", info.n_ctx},
                       {"kv_capacity_tokens", info.kv_capacity_tokens},
                       {"chat_template", model.chat_template != nullptr}};
  return Json{{"object", "list"}, {"data", Json::array({std::move(entry)})}};
}

Json tokenize_json(const ServedModel& model, std::string_view body_text) {
  const Json body = parse_json_body(body_text);
  const auto content = body.find("content");
  if (content == body.end() || !content->is_string()) bad_request("content", "'content' must be a string");
  const tokenizer::Tokenizer& tok = tokenizer_of(model);
  const bool add_special = flag(body, "add_special", false);
  const bool parse_special = flag(body, "parse_special", true);
  const bool with_pieces = flag(body, "with_pieces", false);
  const std::vector<int32_t> ids = tok.encode(content->get<std::string>(), add_special, parse_special);
  Json tokens = Json::array();
  for (const int32_t id : ids) {
    if (with_pieces) {
      tokens.push_back(Json{{"id", id}, {"piece", tok.token_to_piece(id)}});
    } else {
      tokens.push_back(id);
    }
  }
  return Json{{"tokens", std::move(tokens)}};
}

Json detokenize_json(const ServedModel& model, std::string_view body_text) {
  const Json body = parse_json_body(body_text);
  const auto tokens = body.find("tokens");
  if (tokens == body.end() || !tokens->is_array()) bad_request("tokens", "'tokens' must be a list of token ids");
  const tokenizer::Tokenizer& tok = tokenizer_of(model);
  const auto n_vocab = static_cast<int64_t>(tok.n_tokens());
  std::vector<int32_t> ids;
  ids.reserve(tokens->size());
  for (size_t i = 0; i < tokens->size(); ++i) {
    const Json& t = (*tokens)[i];
    if (!t.is_number_integer()) bad_request("tokens", fmt::format("'tokens[{}]' must be an integer", i));
    const int64_t id = t.is_number_unsigned() && t.get<uint64_t>() > static_cast<uint64_t>(n_vocab) ? n_vocab : t.get<int64_t>();
    if (id < 0 || id >= n_vocab) bad_request("tokens", fmt::format("'tokens[{}]': token id {} is outside the vocabulary [0, {})", i, id, n_vocab));
    ids.push_back(static_cast<int32_t>(id));
  }
  return Json{{"content", tok.decode(ids, /*render_special=*/true)}};
}

}  // namespace ingot::server
