#include "server/request_parser.h"

#include "core/error.h"
#include "server/api_error.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>

namespace ingot::server {
namespace {

using Json = nlohmann::ordered_json;

const Json* field(const Json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string type_name(const Json& v) { return v.type_name(); }

std::optional<double> opt_number(const Json& body, const char* name) {
  const Json* v = field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) bad_request(name, fmt::format("'{}' must be a number, got {}", name, type_name(*v)));
  const double d = v->get<double>();
  if (!std::isfinite(d)) bad_request(name, fmt::format("'{}' must be finite", name));
  return d;
}

double number_in(const Json& body, const char* name, double lo, double hi, double fallback, bool lo_open = false) {
  const std::optional<double> v = opt_number(body, name);
  if (!v) return fallback;
  const bool low_ok = lo_open ? *v > lo : *v >= lo;
  if (!low_ok || *v > hi) {
    bad_request(name, fmt::format("'{}' must be in {}{}, {}], got {}", name, lo_open ? "(" : "[", lo, hi, *v));
  }
  return *v;
}

// An integer (a float with an integral value is accepted, as JSON does not tell them apart).
std::optional<int64_t> integer_value(const Json& v, const std::string& name) {
  if (v.is_null()) return std::nullopt;
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      bad_request(name, fmt::format("'{}' is too large", name));
    }
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
  }
  bad_request(name, fmt::format("'{}' must be an integer, got {}", name, v.is_number() ? "a fraction" : type_name(v)));
}

std::optional<int64_t> opt_integer(const Json& body, const char* name) {
  const Json* v = field(body, name);
  return v == nullptr ? std::nullopt : integer_value(*v, name);
}

std::optional<int64_t> integer_in(const Json& body, const char* name, int64_t lo, int64_t hi) {
  const std::optional<int64_t> v = opt_integer(body, name);
  if (v && (*v < lo || *v > hi)) bad_request(name, fmt::format("'{}' must be in [{}, {}], got {}", name, lo, hi, *v));
  return v;
}

std::optional<bool> opt_bool(const Json& body, const char* name) {
  const Json* v = field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) bad_request(name, fmt::format("'{}' must be a boolean, got {}", name, type_name(*v)));
  return v->get<bool>();
}

std::optional<std::string> opt_string(const Json& body, const char* name) {
  const Json* v = field(body, name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) bad_request(name, fmt::format("'{}' must be a string, got {}", name, type_name(*v)));
  return v->get<std::string>();
}

std::vector<int32_t> token_list(const Json& v, const char* name, int32_t n_vocab) {
  std::vector<int32_t> ids;
  ids.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const std::optional<int64_t> id = integer_value(v[i], fmt::format("{}[{}]", name, i));
    if (!id) bad_request(name, fmt::format("'{}[{}]' must be a token id, got null", name, i));
    if (*id < 0 || (n_vocab > 0 && *id >= n_vocab) || *id > std::numeric_limits<int32_t>::max()) {
      bad_request(name, fmt::format("'{}[{}]': token id {} is outside the vocabulary [0, {})", name, i, *id, n_vocab));
    }
    ids.push_back(static_cast<int32_t>(*id));
  }
  return ids;
}

void parse_stop(const Json& body, SamplingParams& s) {
  const Json* v = field(body, "stop");
  if (v == nullptr) return;
  auto add = [&](const Json& item) {
    if (!item.is_string()) bad_request("stop", fmt::format("'stop' must be a string or a list of strings, got {}", type_name(item)));
    std::string text = item.get<std::string>();
    if (text.size() > 1024) bad_request("stop", fmt::format("a stop string is {} bytes, over the limit of 1024", text.size()));
    if (!text.empty()) s.stop.push_back(std::move(text));  // an empty stop string matches nothing
  };
  if (v->is_array()) {
    if (v->size() > 16) bad_request("stop", fmt::format("at most 16 stop strings, got {}", v->size()));
    for (const Json& item : *v) add(item);
  } else {
    add(*v);
  }
}

void parse_logit_bias(const Json& body, SamplingParams& s, int32_t n_vocab) {
  const Json* v = field(body, "logit_bias");
  if (v == nullptr) return;
  if (!v->is_object()) bad_request("logit_bias", fmt::format("'logit_bias' must be an object, got {}", type_name(*v)));
  if (v->size() > 1024) bad_request("logit_bias", "'logit_bias' has more than 1024 entries");
  for (const auto& [key, value] : v->items()) {
    int64_t id = -1;
    const bool digits = !key.empty() && key.size() <= 10 && key.find_first_not_of("0123456789") == std::string::npos;
    if (digits) id = std::stoll(key);
    if (!digits || id > std::numeric_limits<int32_t>::max() || (n_vocab > 0 && id >= n_vocab)) {
      bad_request("logit_bias", fmt::format("'logit_bias' key '{}' is not a token id in [0, {})", key, n_vocab));
    }
    if (!value.is_number()) bad_request("logit_bias", fmt::format("'logit_bias[{}]' must be a number", key));
    const double bias = value.get<double>();
    if (!(bias >= -100.0 && bias <= 100.0)) {
      bad_request("logit_bias", fmt::format("'logit_bias[{}]' must be in [-100, 100], got {}", key, bias));
    }
    s.logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(bias));
  }
}

// The fields chat and completions share.
GenerateRequest parse_common(const Json& body, const ParseLimits& limits, Endpoint endpoint) {
  GenerateRequest r;
  r.endpoint = endpoint;
  if (auto model = opt_string(body, "model")) r.model = *model;
  SamplingParams& s = r.sampling;
  s.temperature = static_cast<float>(number_in(body, "temperature", 0.0, 2.0, 1.0));
  s.top_p = static_cast<float>(number_in(body, "top_p", 0.0, 1.0, 1.0, /*lo_open=*/true));
  s.presence_penalty = static_cast<float>(number_in(body, "presence_penalty", -2.0, 2.0, 0.0));
  s.frequency_penalty = static_cast<float>(number_in(body, "frequency_penalty", -2.0, 2.0, 0.0));
  s.min_p = static_cast<float>(number_in(body, "min_p", 0.0, 1.0, 0.0));
  s.repetition_penalty = static_cast<float>(number_in(body, "repetition_penalty", 0.0, 10.0, 1.0, /*lo_open=*/true));
  if (auto k = integer_in(body, "top_k", -1, std::numeric_limits<int32_t>::max())) s.top_k = *k < 0 ? 0 : static_cast<int32_t>(*k);
  if (auto n = opt_integer(body, "n")) {
    if (*n < 1 || *n > limits.max_n) bad_request("n", fmt::format("'n' must be in [1, {}], got {}", limits.max_n, *n));
    s.n = static_cast<int32_t>(*n);
  }
  // max_completion_tokens (the newer chat name) wins over max_tokens.
  const char* max_name = field(body, "max_completion_tokens") != nullptr ? "max_completion_tokens" : "max_tokens";
  if (auto m = opt_integer(body, max_name)) {
    if (*m < 1 || *m > limits.max_tokens) {
      bad_request(max_name, fmt::format("'{}' must be in [1, {}], got {}", max_name, limits.max_tokens, *m));
    }
    s.max_tokens = static_cast<int32_t>(*m);
  }
  if (auto m = integer_in(body, "min_tokens", 0, limits.max_tokens)) s.min_tokens = static_cast<int32_t>(*m);
  if (s.max_tokens && s.min_tokens > *s.max_tokens) {
    bad_request("min_tokens", fmt::format("'min_tokens' ({}) is larger than max_tokens ({})", s.min_tokens, *s.max_tokens));
  }
  if (const Json* seed = field(body, "seed")) {
    const std::optional<int64_t> v = integer_value(*seed, "seed");
    s.seed = static_cast<uint64_t>(*v);
  }
  if (auto ignore = opt_bool(body, "ignore_eos")) s.ignore_eos = *ignore;
  parse_stop(body, s);
  parse_logit_bias(body, s, limits.n_vocab);
  if (auto user = opt_string(body, "user")) r.user = *user;
  if (auto stream = opt_bool(body, "stream")) r.stream = *stream;
  if (const Json* options = field(body, "stream_options")) {
    if (!options->is_object()) bad_request("stream_options", "'stream_options' must be an object");
    if (!r.stream) bad_request("stream_options", "'stream_options' is only allowed when 'stream' is true");
    if (auto usage = opt_bool(*options, "include_usage")) r.include_usage = *usage;
  }
  if (auto best_of = opt_integer(body, "best_of"); best_of && *best_of != 1 && *best_of != s.n) {
    bad_request("best_of", "'best_of' is not supported");
  }
  return r;
}

void check_sampling(const GenerateRequest& r, const ParseLimits& limits) {
  try {
    validate(r.sampling, limits.n_vocab);
  } catch (const Error& e) {
    bad_request({}, e.what());
  }
}

void check_content(const Json& content, size_t i) {
  const std::string param = fmt::format("messages[{}].content", i);
  if (content.is_string()) return;
  if (!content.is_array()) bad_request(param, fmt::format("'{}' must be a string or a list of content parts", param));
  for (const Json& part : content) {
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      bad_request(param, fmt::format("'{}' parts must be objects with a 'type'", param));
    }
    const std::string type = part["type"].get<std::string>();
    if (type != "text") bad_request(param, fmt::format("'{}': content part type '{}' is not supported (text only)", param, type));
    if (!part.contains("text") || !part["text"].is_string()) {
      bad_request(param, fmt::format("'{}': a text part needs a string 'text'", param));
    }
  }
}

void check_messages(const Json& body, GenerateRequest& r, const ParseLimits& limits) {
  const Json* messages = field(body, "messages");
  if (messages == nullptr) bad_request("messages", "'messages' is required");
  if (!messages->is_array()) bad_request("messages", fmt::format("'messages' must be an array, got {}", type_name(*messages)));
  if (messages->empty()) bad_request("messages", "'messages' must not be empty");
  if (messages->size() > limits.max_messages) {
    bad_request("messages", fmt::format("'messages' has {} entries, over the limit of {}", messages->size(), limits.max_messages));
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    const std::string param = fmt::format("messages[{}]", i);
    if (!m.is_object()) bad_request(param, fmt::format("'{}' must be an object", param));
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string()) bad_request(param + ".role", fmt::format("'{}.role' must be a string", param));
    const std::string name = role->get<std::string>();
    if (name != "system" && name != "user" && name != "assistant" && name != "tool" && name != "developer") {
      bad_request(param + ".role", fmt::format("'{}.role' must be one of system, developer, user, assistant, tool; got '{}'", param, name));
    }
    const auto content = m.find("content");
    const bool has_content = content != m.end() && !content->is_null();
    if (has_content) {
      check_content(*content, i);
    } else if (!(name == "assistant" && m.contains("tool_calls"))) {
      bad_request(param + ".content", fmt::format("'{}.content' is required for role '{}'", param, name));
    }
  }
  r.messages = *messages;
}

}  // namespace

nlohmann::ordered_json parse_json_body(std::string_view body) {
  Json json;
  try {
    json = Json::parse(body);
  } catch (const Json::parse_error& e) {
    throw ApiError(400, fmt::format("the request body is not valid JSON: {}", e.what()));
  }
  if (!json.is_object()) throw ApiError(400, fmt::format("the request body must be a JSON object, got {}", type_name(json)));
  return json;
}

GenerateRequest parse_completion_request(const nlohmann::ordered_json& body, const ParseLimits& limits) {
  GenerateRequest r = parse_common(body, limits, Endpoint::completions);
  const Json* prompt = field(body, "prompt");
  if (prompt == nullptr) bad_request("prompt", "'prompt' is required");
  if (prompt->is_string()) {
    r.prompt_text = prompt->get<std::string>();
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number()) {
    r.prompt_is_tokens = true;
    r.prompt_tokens = token_list(*prompt, "prompt", limits.n_vocab);
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    r.prompt_text = (*prompt)[0].get<std::string>();
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_array()) {
    r.prompt_is_tokens = true;
    r.prompt_tokens = token_list((*prompt)[0], "prompt", limits.n_vocab);
  } else if (prompt->is_array() && prompt->size() > 1) {
    bad_request("prompt", "several prompts in one request are not supported; send one request per prompt");
  } else {
    bad_request("prompt", "'prompt' must be a string, a list of token ids or a list of one string");
  }
  if (r.prompt_is_tokens && r.prompt_tokens.empty()) bad_request("prompt", "'prompt' must not be empty");
  if (auto echo = opt_bool(body, "echo"); echo && *echo) bad_request("echo", "'echo' is not supported");
  if (opt_string(body, "suffix")) bad_request("suffix", "'suffix' is not supported");
  if (auto n = integer_in(body, "logprobs", 0, 20)) {
    r.want_logprobs = true;
    r.sampling.logprobs = true;
    r.sampling.top_logprobs = static_cast<int32_t>(*n);
  }
  check_sampling(r, limits);
  return r;
}

GenerateRequest parse_chat_request(const nlohmann::ordered_json& body, const ParseLimits& limits) {
  GenerateRequest r = parse_common(body, limits, Endpoint::chat);
  check_messages(body, r, limits);
  const bool logprobs = opt_bool(body, "logprobs").value_or(false);
  const std::optional<int64_t> top = integer_in(body, "top_logprobs", 0, 20);
  if (top && !logprobs) bad_request("top_logprobs", "'top_logprobs' requires 'logprobs': true");
  r.want_logprobs = logprobs;
  r.sampling.logprobs = logprobs;
  r.sampling.top_logprobs = static_cast<int32_t>(top.value_or(0));
  if (const Json* format = field(body, "response_format")) {
    const bool text = format->is_object() && format->value("type", std::string()) == "text";
    if (!text) bad_request("response_format", "only 'response_format' {\"type\": \"text\"} is supported");
  }
  check_sampling(r, limits);
  return r;
}

}  // namespace ingot::server
