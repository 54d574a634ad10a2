// The regex pre-tokenizers split like their Hugging Face definitions.
#include "core/error.h"
#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

namespace ingot::tokenizer {
namespace {

std::vector<std::string> pieces(std::string_view pre, std::string_view text) {
  const PreTokenizer p(pre);
  std::vector<Span> spans;
  p.split(text, spans);
  std::vector<std::string> out;
  size_t expected_begin = 0;
  for (auto [b, e] : spans) {
    EXPECT_EQ(b, expected_begin);  // pieces cover the text in order
    expected_begin = e;
    out.emplace_back(text.substr(b, e - b));
  }
  EXPECT_EQ(expected_begin, text.size());
  return out;
}

using V = std::vector<std::string>;

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(pieces("gpt-2", "Hello world's 12345  x\n"),
            (V{"Hello", " world", "'s", " 12345", " ", " x", "\n"}));
}

TEST(PreTokenizer, Llama3SplitsDigitsByThreeAndKeepsNewlines) {
  EXPECT_EQ(pieces("llama-bpe", "I'M 1234567 ok\n\n  x"),
            (V{"I", "'M", " ", "123", "456", "7", " ok", "\n\n", " ", " x"}));
}

TEST(PreTokenizer, Qwen2SplitsEveryDigit) {
  EXPECT_EQ(pieces("qwen2", "x 123"), (V{"x", " ", "1", "2", "3"}));
}

TEST(PreTokenizer, Gpt4oSplitsCamelCase) {
  EXPECT_EQ(pieces("gpt-4o", "camelCase word"), (V{"camel", "Case", " word"}));
}

TEST(PreTokenizer, EveryKnownNameCompilesAndCoversText) {
  const std::string text = "Hello, Wörld! 1234 你好 🦙\t\n  end's";
  for (std::string_view name : PreTokenizer::known_names()) {
    SCOPED_TRACE(std::string(name));
    pieces(name, text);
  }
}

TEST(PreTokenizer, UnknownNameFails) {
  EXPECT_THROW(PreTokenizer("no-such"), Error);
}

}  // namespace
}  // namespace ingot::tokenizer
