// The OpenAI response shapes built from engine events: chat and completion bodies, streamed
// chunks (role first, then content, then the finish chunk), usage arithmetic, both logprobs
// forms, SSE framing, error bodies, and JSON output that survives invalid UTF-8 in token pieces.
#include "server/api_error.h"
#include "server/oai_format.h"
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <memory>

namespace ingot::server {
namespace {

// Vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3 "He", 4 "llo", 5 "▁world", 6 <0xC3> (half a character).
std::unique_ptr<tokenizer::Tokenizer> small_tokenizer() {
  tokenizer::Vocab v;
  v.model = tokenizer::VocabModel::spm;
  auto add = [&](std::string text, tokenizer::TokenType type) {
    v.tokens.push_back(std::move(text));
    v.types.push_back(type);
    v.scores.push_back(0.0f);
  };
  add("<unk>", tokenizer::TokenType::unknown);
  add("<s>", tokenizer::TokenType::control);
  add("</s>", tokenizer::TokenType::control);
  add("He", tokenizer::TokenType::normal);
  add("llo", tokenizer::TokenType::normal);
  add("\xE2\x96\x81world", tokenizer::TokenType::normal);
  add("<0xC3>", tokenizer::TokenType::byte);
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  return std::make_unique<tokenizer::Tokenizer>(std::move(v));
}

Event token_event(int32_t choice, std::vector<int32_t> tokens, std::string text, bool with_logprobs) {
  Event e;
  e.choice = choice;
  e.tokens = tokens;
  e.text = std::move(text);
  if (with_logprobs) {
    for (const int32_t t : tokens) {
      e.logprobs.push_back({t, -0.25f});
      e.top_logprobs.push_back({{t, -0.25f}, {5, -2.0f}});
    }
  }
  return e;
}

TEST(OaiFormat, IdsAndMeta) {
  const ResponseMeta chat = make_meta(Endpoint::chat, "tiny");
  EXPECT_EQ(chat.id.rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(chat.id.size(), 9u + 24u);
  EXPECT_GT(chat.created, 1700000000);
  EXPECT_EQ(make_meta(Endpoint::completions, "tiny").id.rfind("cmpl-", 0), 0u);
  EXPECT_NE(new_response_id(Endpoint::chat), new_response_id(Endpoint::chat));
}

TEST(OaiFormat, UsageArithmetic) {
  const Json u = usage_json({.n_prompt = 12, .n_completion = 30, .n_cached = 8});
  EXPECT_EQ(u["prompt_tokens"], 12);
  EXPECT_EQ(u["completion_tokens"], 30);
  EXPECT_EQ(u["total_tokens"], 42);
  EXPECT_EQ(u["prompt_tokens_details"]["cached_tokens"], 8);
}

TEST(OaiFormat, ChatBodyWithLogprobs) {
  auto tok = small_tokenizer();
  const ResponseMeta meta = make_meta(Endpoint::chat, "tiny");
  std::vector<ChoiceResult> choices(2);
  accumulate(choices[0], token_event(0, {3, 4}, "Hello", true), Endpoint::chat, true, *tok);
  Event last = token_event(0, {5}, " world", true);
  last.finished = true;
  last.finish_reason = FinishReason::length;
  accumulate(choices[0], last, Endpoint::chat, true, *tok);
  Event other = token_event(1, {3}, "He", true);
  other.finished = true;
  accumulate(choices[1], other, Endpoint::chat, true, *tok);
  const Json body = response_body(meta, choices, true, {.n_prompt = 5, .n_completion = 4});
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["id"], meta.id);
  EXPECT_EQ(body["model"], "tiny");
  ASSERT_EQ(body["choices"].size(), 2u);
  const Json& c0 = body["choices"][0];
  EXPECT_EQ(c0["index"], 0);
  EXPECT_EQ(c0["message"]["role"], "assistant");
  EXPECT_EQ(c0["message"]["content"], "Hello world");
  EXPECT_EQ(c0["finish_reason"], "length");
  EXPECT_EQ(body["choices"][1]["index"], 1);
  EXPECT_EQ(body["choices"][1]["finish_reason"], "stop");
  const Json& content = c0["logprobs"]["content"];
  ASSERT_EQ(content.size(), 3u);
  EXPECT_EQ(content[0]["token"], "He");
  EXPECT_DOUBLE_EQ(content[0]["logprob"].get<double>(), -0.25);
  EXPECT_EQ(content[0]["bytes"], Json::array({72, 101}));
  ASSERT_EQ(content[0]["top_logprobs"].size(), 2u);
  EXPECT_EQ(content[0]["top_logprobs"][1]["token"], " world");
  EXPECT_EQ(content[2]["token"], " world");
  EXPECT_EQ(body["usage"]["total_tokens"], 9);
}

TEST(OaiFormat, CompletionBodyWithLogprobsAndOffsets) {
  auto tok = small_tokenizer();
  const ResponseMeta meta = make_meta(Endpoint::completions, "tiny");
  std::vector<ChoiceResult> choices(1);
  accumulate(choices[0], token_event(0, {3, 4}, "Hello", true), Endpoint::completions, true, *tok);
  Event last = token_event(0, {5}, " world", true);
  last.finished = true;
  accumulate(choices[0], last, Endpoint::completions, true, *tok);
  const Json body = response_body(meta, choices, true, {.n_prompt = 2, .n_completion = 3});
  EXPECT_EQ(body["object"], "text_completion");
  const Json& c = body["choices"][0];
  EXPECT_EQ(c["text"], "Hello world");
  EXPECT_EQ(c["finish_reason"], "stop");
  const Json& lp = c["logprobs"];
  EXPECT_EQ(lp["tokens"], Json::array({"He", "llo", " world"}));
  EXPECT_EQ(lp["token_logprobs"].size(), 3u);
  EXPECT_EQ(lp["text_offset"], Json::array({0, 2, 5}));
  ASSERT_EQ(lp["top_logprobs"].size(), 3u);
  EXPECT_TRUE(lp["top_logprobs"][0].contains(" world"));
  // Without logprobs the field is null.
  std::vector<ChoiceResult> plain(1);
  accumulate(plain[0], token_event(0, {3}, "He", false), Endpoint::completions, false, *tok);
  EXPECT_TRUE(response_body(meta, plain, false, {})["choices"][0]["logprobs"].is_null());
}

TEST(OaiFormat, ChatChunksShapes) {
  const ResponseMeta meta = make_meta(Endpoint::chat, "tiny");
  const Json role = chat_chunk(meta, 0, Json{{"role", "assistant"}, {"content", ""}}, nullptr, std::nullopt, false);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(role["choices"][0]["delta"].begin().key(), "role");  // role first
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  EXPECT_FALSE(role.contains("usage"));
  const Json done = chat_chunk(meta, 1, Json::object(), nullptr, FinishReason::stop, true);
  EXPECT_EQ(done["choices"][0]["index"], 1);
  EXPECT_TRUE(done["choices"][0]["delta"].empty());
  EXPECT_EQ(done["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(done.contains("usage") && done["usage"].is_null());
  const Json usage = usage_chunk(meta, {.n_prompt = 3, .n_completion = 4});
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 7);
  const Json text = completion_chunk(make_meta(Endpoint::completions, "tiny"), 0, "abc", nullptr, FinishReason::length, false);
  EXPECT_EQ(text["object"], "text_completion");
  EXPECT_EQ(text["choices"][0]["text"], "abc");
  EXPECT_EQ(text["choices"][0]["finish_reason"], "length");
}

TEST(OaiFormat, SseFramingAndInvalidUtf8) {
  EXPECT_EQ(sse_data(Json{{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_STREQ(kSseDone, "data: [DONE]\n\n");
  // A token piece that is half a character still makes valid JSON (U+FFFD) and exact bytes.
  auto tok = small_tokenizer();
  const Json entries = chat_logprob_entries(token_event(0, {6}, "", true), *tok);
  EXPECT_EQ(entries[0]["bytes"], Json::array({0xC3}));
  const std::string wire = dump_json(entries);
  EXPECT_NE(wire.find("\xEF\xBF\xBD"), std::string::npos) << wire;
  EXPECT_TRUE(Json::accept(wire));
}

TEST(OaiFormat, ErrorShape) {
  const ApiError e(404, "no such model", "invalid_request_error", "model", "model_not_found");
  const Json j = e.to_json();
  EXPECT_EQ(j["error"]["message"], "no such model");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["param"], "model");
  EXPECT_EQ(j["error"]["code"], "model_not_found");
  const Json k = ApiError(500, "x", "server_error").to_json();
  EXPECT_TRUE(k["error"]["param"].is_null());
  EXPECT_TRUE(k["error"]["code"].is_null());
  EXPECT_EQ(error_type_for_status(401), "authentication_error");
  EXPECT_EQ(error_type_for_status(413), "invalid_request_error");
}

}  // namespace
}  // namespace ingot::server
