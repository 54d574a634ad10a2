// The tokenizer algorithms on small hand-made vocabularies: byte-level BPE merge order and
// ties, SentencePiece scores and byte fallback, special-token splitting, invalid UTF-8,
// decoding and the SentencePiece leading-space rule, and the end-of-generation set.
#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include <random>

namespace ingot::tokenizer {
namespace {

// A byte-level vocabulary: the 256 byte characters (ids 0..255), then `extra` tokens, with
// merges in rank order.
Vocab byte_level_vocab(const std::vector<std::string>& merges, const std::string& pre = "gpt-2") {
  Vocab v;
  v.model = VocabModel::bpe;
  v.pre = pre;
  for (const auto& s : byte_to_unicode()) v.tokens.push_back(s);
  for (const auto& m : merges) {
    const size_t space = m.find(' ');
    v.tokens.push_back(m.substr(0, space) + m.substr(space + 1));
    v.merges.push_back(m);
  }
  v.types.assign(v.tokens.size(), TokenType::normal);
  return v;
}

TokenId id_of(const Tokenizer& t, std::string_view text) {
  const TokenId id = t.find(text);
  EXPECT_NE(id, no_token) << text;
  return id;
}

TEST(ByteLevelBpe, MergesByRankNotByPosition) {
  // "b c" outranks "a b", so "abc" becomes a + bc, not ab + c.
  const Tokenizer t(byte_level_vocab({"b c", "a b"}));
  EXPECT_EQ(t.encode("abc"), (std::vector<TokenId>{'a', id_of(t, "bc")}));
  const Tokenizer u(byte_level_vocab({"a b", "b c"}));
  EXPECT_EQ(u.encode("abc"), (std::vector<TokenId>{id_of(u, "ab"), 'c'}));
}

TEST(ByteLevelBpe, EqualPairsMergeLeftmostFirst) {
  const Tokenizer t(byte_level_vocab({"a a"}));
  EXPECT_EQ(t.encode("aaa"), (std::vector<TokenId>{id_of(t, "aa"), 'a'}));
  EXPECT_EQ(t.encode("aaaa"), (std::vector<TokenId>{id_of(t, "aa"), id_of(t, "aa")}));
}

TEST(ByteLevelBpe, SpaceIsTheGCharacterAndPiecesDoNotMergeAcrossWords) {
  // "Ġ h" would join the space to h; the pre-tokenizer keeps " h" together and "a" apart.
  const Tokenizer t(byte_level_vocab({"Ġ h", "a Ġh"}));
  EXPECT_EQ(t.encode("a h"), (std::vector<TokenId>{'a', id_of(t, "Ġh")}));
}

TEST(ByteLevelBpe, DecodeInvertsEncodeOnArbitraryText) {
  const Tokenizer t(byte_level_vocab({"l l", "e ll", "h ell", "Ġ w", "o r"}));
  for (std::string s : {"hello world", "  tabs\tand\nnewlines ", "ünïcödé 中文 🦙", ""}) {
    EXPECT_EQ(t.decode(t.encode(s)), s);
  }
}

TEST(ByteLevelBpe, InvalidUtf8IsEncodedAsReplacementCharacters) {
  const Tokenizer t(byte_level_vocab({"a b"}));
  EXPECT_EQ(t.encode("a\xff" "b"), t.encode("a\xEF\xBF\xBD" "b"));
  // A truncated 3-byte sequence is one maximal subpart: one U+FFFD, not two.
  EXPECT_EQ(t.encode("x\xE2\x82"), t.encode("x\xEF\xBF\xBD"));
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 40, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    const auto ids = t.encode(s);  // never throws, never crashes
    EXPECT_TRUE(is_valid_utf8(t.decode(ids)));
  }
}

TEST(ByteLevelBpe, UnknownPreTokenizerIsNamed) {
  try {
    Tokenizer t(byte_level_vocab({"a b"}, "no-such-pre"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("no-such-pre"), std::string::npos) << e.what();
  }
}

TEST(ByteLevelBpe, Llama3IgnoresMergesForWholeWords) {
  // "abc" is a token but no merge chain reaches it: llama-bpe looks whole words up first.
  Vocab v = byte_level_vocab({"a b"}, "llama-bpe");
  v.tokens.push_back("abc");
  v.types.push_back(TokenType::normal);
  const Tokenizer t(v);
  EXPECT_EQ(t.encode("abc"), (std::vector<TokenId>{id_of(t, "abc")}));
  v.pre = "qwen2";
  const Tokenizer q(v);
  EXPECT_EQ(q.encode("abc"), (std::vector<TokenId>{id_of(q, "ab"), 'c'}));
}

Vocab special_vocab() {
  Vocab v = byte_level_vocab({"h i"});
  for (auto [text, type] : {std::pair{"<|im_end|>", TokenType::control}, {"<|im", TokenType::control},
                            {"<think>", TokenType::user_defined}, {"<|eot_id|>", TokenType::normal}}) {
    v.tokens.push_back(text);
    v.types.push_back(type);
  }
  v.eos = static_cast<TokenId>(v.tokens.size() - 3);  // <|im
  return v;
}

TEST(SpecialTokens, ParsedOnlyWhenAskedExceptUserDefined) {
  const Tokenizer t(special_vocab());
  const TokenId im_end = id_of(t, "<|im_end|>");
  const TokenId think = id_of(t, "<think>");
  EXPECT_EQ(t.encode("hi<|im_end|>hi"), (std::vector<TokenId>{id_of(t, "hi"), im_end, id_of(t, "hi")}));
  const auto plain = t.encode("hi<|im_end|>", false, /*parse_special=*/false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), im_end), 0);
  EXPECT_EQ(t.decode(plain), "hi<|im_end|>");
  EXPECT_EQ(t.encode("<think>", false, false), (std::vector<TokenId>{think}));
}

TEST(SpecialTokens, LongestMatchWins) {
  const Tokenizer t(special_vocab());
  EXPECT_EQ(t.encode("<|im_end|>"), (std::vector<TokenId>{id_of(t, "<|im_end|>")}));
  const auto ids = t.encode("<|im_start|>");
  EXPECT_EQ(ids.front(), id_of(t, "<|im"));
}

TEST(SpecialTokens, EndOfGenerationSet) {
  const Tokenizer t(special_vocab());
  EXPECT_TRUE(t.is_end_of_generation(id_of(t, "<|im_end|>")));  // a known marker, control
  EXPECT_TRUE(t.is_end_of_generation(id_of(t, "<|im")));        // eos
  EXPECT_FALSE(t.is_end_of_generation(id_of(t, "<|eot_id|>")));  // marker text, but not control
  EXPECT_FALSE(t.is_end_of_generation(id_of(t, "hi")));
}

// A SentencePiece vocabulary: <unk>, <s>, </s>, 256 byte tokens, then scored pieces.
Vocab spm_vocab() {
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
  v.scores.assign(v.tokens.size(), 0.0f);
  for (auto [text, score] : {std::pair{"▁", -1.0f}, {"h", -2.0f}, {"i", -2.0f}, {"▁h", -3.0f},
                             {"hi", -1.5f}, {"▁hi", -0.5f}, {"▁▁", -4.0f}, {"x", -2.0f}}) {
    v.tokens.push_back(text);
    v.types.push_back(TokenType::normal);
    v.scores.push_back(score);
  }
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  v.add_space_prefix = true;
  return v;
}

TEST(SentencePiece, ScoresPickTheMergeAndSpacesBecomeMetaspace) {
  const Tokenizer t(spm_vocab());
  // ▁ h i: "hi" (-1.5) beats "▁h" (-3), then "▁hi" (-0.5).
  EXPECT_EQ(t.encode("hi"), (std::vector<TokenId>{id_of(t, "▁hi")}));
  EXPECT_EQ(t.encode("hi", /*add_special=*/true), (std::vector<TokenId>{1, id_of(t, "▁hi")}));
  EXPECT_EQ(t.encode(" x"), (std::vector<TokenId>{id_of(t, "▁▁"), id_of(t, "x")}));
}

TEST(SentencePiece, UnknownCharactersFallBackToBytes) {
  const Tokenizer t(spm_vocab());
  const auto ids = t.encode("é");  // ▁ then <0xC3> <0xA9>
  EXPECT_EQ(ids, (std::vector<TokenId>{id_of(t, "▁"), id_of(t, "<0xC3>"), id_of(t, "<0xA9>")}));
  EXPECT_EQ(t.decode(ids), "é");
}

TEST(SentencePiece, DecodeDropsTheLeadingSpaceOnlyAtTheStart) {
  const Tokenizer t(spm_vocab());
  const auto ids = t.encode("hi hi", true);
  EXPECT_EQ(t.decode(ids, /*render_special=*/false), "hi hi");
  EXPECT_EQ(t.decode(ids, /*render_special=*/true), "<s> hi hi");
}

TEST(SentencePiece, PrefixSpaceAfterSpecialTokens) {
  const Tokenizer t(spm_vocab());
  EXPECT_EQ(t.encode("hi</s>hi"), (std::vector<TokenId>{id_of(t, "▁hi"), 2, id_of(t, "▁hi")}));
}

TEST(Decode, RejectsIdsOutOfRange) {
  const Tokenizer t(spm_vocab());
  const std::vector<TokenId> bad{static_cast<TokenId>(t.n_tokens())};
  EXPECT_THROW(t.decode(bad), Error);
  const std::vector<TokenId> negative{-5};
  EXPECT_THROW(t.decode(negative), Error);
}

TEST(Validate, ClearErrors) {
  auto expect_error = [](Vocab v, std::string_view needle) {
    try {
      validate(v);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Vocab v = spm_vocab();
  v.scores.pop_back();
  expect_error(v, "scores");
  v = spm_vocab();
  v.bos = 100000;
  expect_error(v, "bos id 100000");
  v = spm_vocab();
  v.tokens[5].clear();
  expect_error(v, "token 5 is empty");
  v = byte_level_vocab({"a b"});
  v.merges.clear();
  expect_error(v, "merges");
  v = byte_level_vocab({"a b"});
  v.merges.push_back("nospace");
  expect_error(v, "merge 1");
  v = spm_vocab();
  v.types[3] = static_cast<TokenType>(42);
  expect_error(v, "unknown type 42");
  expect_error(Vocab{}, "no tokens");
}

}  // namespace
}  // namespace ingot::tokenizer
