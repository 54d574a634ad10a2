#include "engine/stop_checker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ingot::engine {
namespace {

constexpr int32_t kEos = 2;

// Streams `pieces` (token ids 100, 101, ...) and returns the emitted text and how it ended.
struct Streamed {
  std::string text;
  std::vector<std::string> chunks;
  std::optional<FinishReason> finish;
  std::string matched;
};

Streamed stream(const SamplingParams& p, const std::vector<std::string>& pieces, std::vector<int32_t> tokens = {}) {
  StopChecker c(p, {kEos});
  Streamed s;
  for (size_t i = 0; i < pieces.size() && !s.finish; ++i) {
    const int32_t token = i < tokens.size() ? tokens[i] : 100 + static_cast<int32_t>(i);
    StopStep step = c.on_token(token, pieces[i]);
    s.chunks.push_back(step.text);
    s.text += step.text;
    s.finish = step.finish;
    s.matched = step.matched_stop;
  }
  if (!s.finish) s.text += c.flush();
  return s;
}

SamplingParams with_stops(std::vector<std::string> stops) {
  SamplingParams p;
  p.stop = std::move(stops);
  return p;
}

TEST(StopChecker, StopStringSplitOverTokensIsHeldThenDropped) {
  const Streamed s = stream(with_stops({"Hello World"}), {"Say ", "Hel", "lo", " Wor", "ld!", "more"});
  EXPECT_EQ(s.chunks, (std::vector<std::string>{"Say ", "", "", "", ""}));
  EXPECT_EQ(s.text, "Say ");
  EXPECT_EQ(s.finish, FinishReason::stop);
  EXPECT_EQ(s.matched, "Hello World");
}

TEST(StopChecker, PartialMatchThenMismatchReleasesHeldText) {
  const Streamed s = stream(with_stops({"Hello World"}), {"Hel", "lo", " Wo", "w", "!"});
  EXPECT_EQ(s.chunks, (std::vector<std::string>{"", "", "", "Hello Wow", "!"}));
  EXPECT_FALSE(s.finish);
  // A mismatch that leaves a new possible start holds only that start.
  StopChecker c(with_stops({"abc"}), {});
  EXPECT_EQ(c.on_token(1, "xab").text, "x");
  EXPECT_EQ(c.on_token(2, "ab").text, "ab");  // "abab": "ab" may still start "abc"
  EXPECT_EQ(c.held(), "ab");
  const StopStep last = c.on_token(3, "cd");
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(last.finish, FinishReason::stop);
}

TEST(StopChecker, MultipleStopStringsEarliestMatchWins) {
  const Streamed s = stream(with_stops({"bcd", "abc", "x"}), {"zab", "cd"});
  EXPECT_EQ(s.chunks, (std::vector<std::string>{"z", ""}));
  EXPECT_EQ(s.matched, "abc");
  const Streamed t = stream(with_stops({"bcd", "END"}), {"foo E", "ND bar"});
  EXPECT_EQ(t.text, "foo ");
  EXPECT_EQ(t.matched, "END");
  const Streamed u = stream(with_stops({"aab"}), {"aaa", "c"});
  EXPECT_EQ(u.chunks, (std::vector<std::string>{"a", "aac"}));
  const Streamed mid = stream(with_stops({"STOP"}), {"one STOP two"});
  EXPECT_EQ(mid.text, "one ");
}

TEST(StopChecker, EndOfGenerationReleasesHeldTextWithoutItsOwnPiece) {
  const Streamed s = stream(with_stops({"Hello"}), {"Hi ", "Hel", "</s>"}, {100, 101, kEos});
  EXPECT_EQ(s.text, "Hi Hel");
  EXPECT_EQ(s.finish, FinishReason::stop);
  SamplingParams ignore;
  ignore.ignore_eos = true;
  const Streamed t = stream(ignore, {"a", "<eos>", "b"}, {100, kEos, 101});
  EXPECT_EQ(t.text, "a<eos>b");
  EXPECT_FALSE(t.finish);
  SamplingParams ids;
  ids.stop_token_ids = {55};
  ids.ignore_eos = true;
  EXPECT_EQ(stream(ids, {"a", "b"}, {100, 55}).finish, FinishReason::stop);
}

TEST(StopChecker, MaxTokensEndsWithLengthAndFlushes) {
  SamplingParams p = with_stops({"World"});
  p.max_tokens = 2;
  const Streamed s = stream(p, {"x ", "Wor", "ld"});
  EXPECT_EQ(s.chunks, (std::vector<std::string>{"x ", "Wor"}));
  EXPECT_EQ(s.finish, FinishReason::length);
}

TEST(StopChecker, MinTokensDelaysEveryStop) {
  SamplingParams p = with_stops({"S"});
  p.min_tokens = 2;
  const Streamed s = stream(p, {"S", "<e>", "a", "<e>"}, {100, kEos, 102, kEos});
  EXPECT_EQ(s.text, "S<e>a");  // token 1 "S" and token 2 EOS come before min_tokens
  EXPECT_EQ(s.finish, FinishReason::stop);
}

TEST(StopChecker, Utf8StopStringsHoldWholeCharacters) {
  const Streamed s = stream(with_stops({"é!"}), {"caf", "é", "?"});
  EXPECT_EQ(s.chunks, (std::vector<std::string>{"caf", "", "é?"}));
}

}  // namespace
}  // namespace ingot::engine
