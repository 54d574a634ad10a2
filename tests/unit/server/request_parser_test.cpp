// The JSON -> request mapping of /v1/completions and /v1/chat/completions, and every request
// error that needs no model: malformed JSON, invalid UTF-8, wrong types, out-of-range values,
// bad messages, bad stop lists, bad logit_bias; and the context-length check.
#include "server/api_error.h"
#include "server/generate_route.h"
#include "server/request_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace ingot::server {
namespace {

using Json = nlohmann::ordered_json;

ParseLimits limits() {
  ParseLimits l;
  l.n_vocab = 1000;
  return l;
}

GenerateRequest chat(const std::string& text) { return parse_chat_request(parse_json_body(text), limits()); }
GenerateRequest completion(const std::string& text) {
  return parse_completion_request(parse_json_body(text), limits());
}

// Runs fn, expects an ApiError with `status`, and returns it.
template <typename Fn>
ApiError expect_error(Fn&& fn, int status = 400) {
  try {
    fn();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    return e;
  }
  ADD_FAILURE() << "no ApiError";
  return ApiError(0, "none");
}

TEST(RequestParser, ChatMapsEveryField) {
  const GenerateRequest r = chat(R"({
    "model": "m", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    "temperature": 0.7, "top_p": 0.9, "seed": 42, "stop": ["\n\n", "END"], "max_completion_tokens": 33,
    "presence_penalty": 0.5, "frequency_penalty": -0.5, "logit_bias": {"12": -100, "7": 5.5},
    "logprobs": true, "top_logprobs": 3, "n": 2, "user": "u1", "stream": true,
    "stream_options": {"include_usage": true}, "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1,
    "ignore_eos": true, "min_tokens": 2, "some_unknown_field": {"x": 1}})");
  EXPECT_EQ(r.endpoint, Endpoint::chat);
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.messages.size(), 2u);
  const SamplingParams& s = r.sampling;
  EXPECT_FLOAT_EQ(s.temperature, 0.7f);
  EXPECT_FLOAT_EQ(s.top_p, 0.9f);
  ASSERT_TRUE(s.seed.has_value());
  EXPECT_EQ(*s.seed, 42u);
  EXPECT_EQ(s.stop, (std::vector<std::string>{"\n\n", "END"}));
  ASSERT_TRUE(s.max_tokens.has_value());
  EXPECT_EQ(*s.max_tokens, 33);
  EXPECT_FLOAT_EQ(s.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(s.frequency_penalty, -0.5f);
  ASSERT_EQ(s.logit_bias.size(), 2u);
  EXPECT_EQ(s.logit_bias[0].first, 12);
  EXPECT_FLOAT_EQ(s.logit_bias[0].second, -100.0f);
  EXPECT_TRUE(s.logprobs);
  EXPECT_EQ(s.top_logprobs, 3);
  EXPECT_TRUE(r.want_logprobs);
  EXPECT_EQ(s.n, 2);
  EXPECT_EQ(r.user, "u1");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(s.top_k, 40);
  EXPECT_FLOAT_EQ(s.min_p, 0.05f);
  EXPECT_FLOAT_EQ(s.repetition_penalty, 1.1f);
  EXPECT_TRUE(s.ignore_eos);
  EXPECT_EQ(s.min_tokens, 2);
}

TEST(RequestParser, DefaultsAndNullsMeanAbsent) {
  const GenerateRequest r = chat(R"({"messages": [{"role": "user", "content": "hi"}], "temperature": null, "stop": null,
                                     "max_tokens": null, "seed": null})");
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_FALSE(r.sampling.max_tokens.has_value());
  EXPECT_FALSE(r.sampling.seed.has_value());
  EXPECT_TRUE(r.sampling.stop.empty());
  EXPECT_EQ(r.sampling.n, 1);
  EXPECT_FALSE(r.stream);
  EXPECT_FALSE(r.want_logprobs);
  EXPECT_TRUE(r.model.empty());
}

TEST(RequestParser, MaxTokensAndStopForms) {
  GenerateRequest r = completion(R"({"prompt": "x", "max_tokens": 16, "stop": "\n"})");
  EXPECT_EQ(*r.sampling.max_tokens, 16);
  EXPECT_EQ(r.sampling.stop, std::vector<std::string>{"\n"});
  r = completion(R"({"prompt": "x", "max_tokens": 8.0, "stop": ["a", ""]})");  // integral float; empty stop dropped
  EXPECT_EQ(*r.sampling.max_tokens, 8);
  EXPECT_EQ(r.sampling.stop, std::vector<std::string>{"a"});
  r = chat(R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 5, "max_completion_tokens": 9})");
  EXPECT_EQ(*r.sampling.max_tokens, 9);
}

TEST(RequestParser, CompletionPromptForms) {
  GenerateRequest r = completion(R"({"prompt": "In the beginning"})");
  EXPECT_FALSE(r.prompt_is_tokens);
  EXPECT_EQ(r.prompt_text, "In the beginning");
  r = completion(R"({"prompt": [1, 2, 3]})");
  EXPECT_TRUE(r.prompt_is_tokens);
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  r = completion(R"({"prompt": ["only one"]})");
  EXPECT_EQ(r.prompt_text, "only one");
  r = completion(R"({"prompt": [[5, 6]]})");
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{5, 6}));
  r = completion(R"({"prompt": "x", "logprobs": 2})");
  EXPECT_TRUE(r.want_logprobs);
  EXPECT_EQ(r.sampling.top_logprobs, 2);
  r = completion(R"({"prompt": "x", "logprobs": 0})");
  EXPECT_TRUE(r.want_logprobs);
  EXPECT_EQ(r.sampling.top_logprobs, 0);
}

TEST(RequestParser, MalformedBodies) {
  expect_error([] { parse_json_body("{"); });
  expect_error([] { parse_json_body(""); });
  expect_error([] { parse_json_body("[1, 2]"); });
  expect_error([] { parse_json_body("\"just a string\""); });
  expect_error([] { parse_json_body("{\"prompt\": \"a\xff\xfe b\"}"); });   // invalid UTF-8
  expect_error([] { parse_json_body("{\"prompt\": \"\xc3\"}"); });          // truncated sequence
  expect_error([] { parse_json_body("{\"prompt\": \"\xed\xa0\x80\"}"); });   // a surrogate
  expect_error([] { parse_json_body("{\"a\": 1} trailing"); });
}

TEST(RequestParser, FieldTypesAndRanges) {
  const std::string m = R"("messages": [{"role": "user", "content": "hi"}])";
  struct Case {
    std::string fields;
    std::string param;
  };
  const std::vector<Case> cases = {
      {R"("temperature": -0.1)", "temperature"},
      {R"("temperature": 2.5)", "temperature"},
      {R"("temperature": "hot")", "temperature"},
      {R"("temperature": true)", "temperature"},
      {R"("top_p": 0)", "top_p"},
      {R"("top_p": 1.5)", "top_p"},
      {R"("n": 0)", "n"},
      {R"("n": 100000)", "n"},
      {R"("n": 1.5)", "n"},
      {R"("max_tokens": -1)", "max_tokens"},
      {R"("max_tokens": 0)", "max_tokens"},
      {R"("max_tokens": 1e12)", "max_tokens"},
      {R"("max_tokens": 99999999999999999999)", "max_tokens"},
      {R"("max_tokens": "10")", "max_tokens"},
      {R"("max_completion_tokens": -5)", "max_completion_tokens"},
      {R"("stop": 5)", "stop"},
      {R"("stop": ["a", 1])", "stop"},
      {R"("stop": {"a": 1})", "stop"},
      {R"("stop": ["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"])", "stop"},
      {R"("presence_penalty": 3)", "presence_penalty"},
      {R"("frequency_penalty": -2.5)", "frequency_penalty"},
      {R"("logit_bias": {"abc": 1})", "logit_bias"},
      {R"("logit_bias": {"5000": 1})", "logit_bias"},
      {R"("logit_bias": {"5": 101})", "logit_bias"},
      {R"("logit_bias": {"5": "x"})", "logit_bias"},
      {R"("logit_bias": [1])", "logit_bias"},
      {R"("logprobs": "yes")", "logprobs"},
      {R"("top_logprobs": 3)", "top_logprobs"},
      {R"("logprobs": true, "top_logprobs": 21)", "top_logprobs"},
      {R"("seed": "x")", "seed"},
      {R"("seed": 1.5)", "seed"},
      {R"("stream": "yes")", "stream"},
      {R"("stream_options": {"include_usage": true})", "stream_options"},
      {R"("stream": true, "stream_options": 1)", "stream_options"},
      {R"("model": 5)", "model"},
      {R"("user": 5)", "user"},
      {R"("top_k": -2)", "top_k"},
      {R"("min_p": 2)", "min_p"},
      {R"("repetition_penalty": 0)", "repetition_penalty"},
      {R"("ignore_eos": 1)", "ignore_eos"},
      {R"("min_tokens": -1)", "min_tokens"},
      {R"("min_tokens": 10, "max_tokens": 5)", "min_tokens"},
      {R"("response_format": {"type": "json_schema"})", "response_format"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fields);
    const ApiError e = expect_error([&] { chat("{" + m + ", " + c.fields + "}"); });
    EXPECT_EQ(e.param(), c.param);
    EXPECT_EQ(e.type(), "invalid_request_error");
    const Json body = e.to_json();
    ASSERT_TRUE(body.contains("error"));
    for (const char* key : {"message", "type", "param", "code"}) EXPECT_TRUE(body["error"].contains(key)) << key;
  }
}

TEST(RequestParser, BadMessages) {
  const std::vector<std::string> bodies = {
      R"({})",
      R"({"messages": null})",
      R"({"messages": []})",
      R"({"messages": "hi"})",
      R"({"messages": [1]})",
      R"({"messages": [{"content": "hi"}]})",
      R"({"messages": [{"role": "wizard", "content": "hi"}]})",
      R"({"messages": [{"role": 3, "content": "hi"}]})",
      R"({"messages": [{"role": "user"}]})",
      R"({"messages": [{"role": "user", "content": 5}]})",
      R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})",
      R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})",
      R"({"messages": [{"role": "user", "content": [7]}]})",
  };
  for (const std::string& b : bodies) {
    SCOPED_TRACE(b);
    const ApiError e = expect_error([&] { chat(b); });
    EXPECT_EQ(e.param().rfind("messages", 0), 0u) << e.param();
  }
  // Accepted: text parts, an assistant turn with tool calls and no content, developer role.
  const GenerateRequest r = chat(R"({"messages": [{"role": "developer", "content": "d"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null, "tool_calls": []}, {"role": "tool", "content": "r"}]})");
  EXPECT_EQ(r.messages.size(), 4u);
}

TEST(RequestParser, BadPrompts) {
  for (const std::string& b : {std::string(R"({})"), std::string(R"({"prompt": 5})"), std::string(R"({"prompt": []})"),
                               std::string(R"({"prompt": [1, -1]})"), std::string(R"({"prompt": [1, 1000]})"),
                               std::string(R"({"prompt": [1, "a"]})"), std::string(R"({"prompt": ["a", "b"]})"),
                               std::string(R"({"prompt": {"a": 1}})"), std::string(R"({"prompt": "x", "logprobs": 21})"),
                               std::string(R"({"prompt": "x", "logprobs": true})"),
                               std::string(R"({"prompt": "x", "echo": true})"),
                               std::string(R"({"prompt": "x", "best_of": 3})")}) {
    SCOPED_TRACE(b);
    expect_error([&] { completion(b); });
  }
}

TEST(ContextCheck, NamesBothNumbers) {
  SamplingParams s;
  s.max_tokens = 100;
  check_context(900, s, 1024, Endpoint::completions);  // fits exactly under
  const ApiError e = expect_error([&] { check_context(1000, s, 1024, Endpoint::chat); });
  const std::string message = e.what();
  EXPECT_NE(message.find("1024"), std::string::npos) << message;
  EXPECT_NE(message.find("1000"), std::string::npos) << message;
  EXPECT_NE(message.find("100 "), std::string::npos) << message;
  EXPECT_EQ(e.code(), "context_length_exceeded");
  EXPECT_EQ(e.param(), "messages");
  s.max_tokens.reset();
  check_context(1023, s, 1024, Endpoint::completions);
  expect_error([&] { check_context(1024, s, 1024, Endpoint::completions); });
}

}  // namespace
}  // namespace ingot::server
