// The streaming detokenizer: never half a UTF-8 character, the SentencePiece leading space,
// U+FFFD for bytes that cannot complete, and the same text as a one-shot decode.
#include "tokenizer/detokenizer.h"
#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

namespace ingot::tokenizer {
namespace {

Vocab byte_vocab(bool add_space_prefix) {
  Vocab v;
  v.model = VocabModel::spm;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {TokenType::unknown, TokenType::control, TokenType::control};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    v.tokens.push_back(name);
    v.types.push_back(TokenType::byte);
  }
  v.tokens.push_back("▁Hello");
  v.types.push_back(TokenType::normal);
  v.bos = 1;
  v.eos = 2;
  v.add_space_prefix = add_space_prefix;
  return v;
}

TokenId byte(uint8_t b) { return 3 + b; }

TEST(Detokenizer, HoldsIncompleteCharacters) {
  const Tokenizer t(byte_vocab(false));
  Detokenizer d(t);
  // 🦙 = F0 9F A6 99
  EXPECT_EQ(d.push(byte(0xF0)), "");
  EXPECT_EQ(d.push(byte(0x9F)), "");
  EXPECT_EQ(d.push(byte(0xA6)), "");
  EXPECT_EQ(d.push(byte(0x99)), "🦙");
  EXPECT_EQ(d.push(byte('a')), "a");
  EXPECT_EQ(d.flush(), "");
}

TEST(Detokenizer, ReplacesBytesThatCannotComplete) {
  const Tokenizer t(byte_vocab(false));
  Detokenizer d(t);
  EXPECT_EQ(d.push(byte(0xE2)), "");
  EXPECT_EQ(d.push(byte('x')), "\xEF\xBF\xBDx");  // E2 followed by ASCII can never complete
  EXPECT_EQ(d.push(byte(0xFF)), "\xEF\xBF\xBD");
  EXPECT_EQ(d.push(byte(0xC3)), "");
  EXPECT_EQ(d.flush(), "\xEF\xBF\xBD");  // the stream ended inside a character
}

TEST(Detokenizer, StripsTheFirstSpaceLikeDecode) {
  const Tokenizer t(byte_vocab(true));
  Detokenizer d(t);
  EXPECT_EQ(d.push(1), "");  // BOS, not rendered
  EXPECT_EQ(d.push(t.find("▁Hello")), "Hello");
  EXPECT_EQ(d.push(t.find("▁Hello")), " Hello");
  d.reset();
  EXPECT_EQ(d.push(t.find("▁Hello")), "Hello");
}

TEST(Detokenizer, StreamEqualsOneShotDecode) {
  const Tokenizer t(byte_vocab(true));
  const std::string text = "▁Hello 世界 🦙 é";
  std::vector<TokenId> ids = {1, t.find("▁Hello")};
  for (unsigned char c : std::string(" 世界 🦙 é")) ids.push_back(byte(c));
  Detokenizer d(t);
  std::string streamed;
  for (TokenId id : ids) {
    const std::string piece = d.push(id);
    EXPECT_TRUE(is_valid_utf8(piece));
    streamed += piece;
  }
  streamed += d.flush();
  EXPECT_EQ(streamed, t.decode(ids, false));
  EXPECT_EQ(streamed, "Hello 世界 🦙 é");
}

}  // namespace
}  // namespace ingot::tokenizer
