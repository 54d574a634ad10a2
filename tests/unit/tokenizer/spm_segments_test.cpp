// SpmSegmenter: where merge-based SentencePiece text is cut (before a ▁ that follows another
// character), the cuts it refuses because a token spans them, and when it is disabled; and the
// tokenizer's ids across a refused cut.
#include "tokenizer/spm_segments.h"
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

namespace ingot::tokenizer {
namespace {

constexpr const char* sp = "\xE2\x96\x81";  // ▁

// Concatenation by append (GCC 12's -Wrestrict misfires on operator+ chains).
std::string cat(std::string_view a, std::string_view b) {
  std::string out(a);
  out.append(b);
  return out;
}

std::string esc(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == ' ') out += sp;
    else out.push_back(c);
  }
  return out;
}

// Characters, then one token per merge, in rank order.
Vocab merge_vocab(const std::vector<std::string>& chars, const std::vector<std::pair<std::string, std::string>>& merges) {
  Vocab v;
  v.model = VocabModel::spm;
  v.add_space_prefix = false;
  v.tokens = {"<unk>", "<0x41>"};
  v.types = {TokenType::unknown, TokenType::byte};
  v.unk = 0;
  for (const auto& c : chars) {
    v.tokens.push_back(c);
    v.types.push_back(TokenType::normal);
  }
  for (const auto& [left, right] : merges) {
    v.merges.push_back(cat(cat(left, " "), right));
    if (std::find(v.tokens.begin(), v.tokens.end(), cat(left, right)) == v.tokens.end()) {
      v.tokens.push_back(cat(left, right));
      v.types.push_back(TokenType::normal);
    }
  }
  v.scores.assign(v.tokens.size(), 0.0f);
  return v;
}

SpmSegmenter segmenter_for(const Vocab& v) {
  MergeTable merges;
  merges.build(v.merges, [&v](std::string_view text) {
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      if (v.tokens[i] == text) return static_cast<TokenId>(i);
    }
    return no_token;
  });
  SpmSegmenter s;
  s.build(v, merges, {0, 1});
  return s;
}

std::vector<size_t> ends_of(const SpmSegmenter& s, const std::string& text) {
  std::vector<size_t> ends;
  s.split(text, ends);
  return ends;
}

TEST(SpmSegmenter, CutsBeforeEachWordButNotInsideSpaceRuns) {
  const Vocab v = merge_vocab({sp, "a", "b", "c"}, {{sp, "a"}, {sp, sp}});
  const SpmSegmenter s = segmenter_for(v);
  ASSERT_TRUE(s.enabled());
  // a ▁b ▁▁c: offsets a@0 ▁@1 b@4 ▁@5 ▁@8 c@11
  EXPECT_EQ(ends_of(s, esc("a b  c")), (std::vector<size_t>{1, 5, 12}));
  EXPECT_EQ(ends_of(s, esc(" a")), (std::vector<size_t>{4}));  // no cut at 0
  EXPECT_EQ(ends_of(s, ""), (std::vector<size_t>{0}));
}

TEST(SpmSegmenter, RefusesACutThatATokenSpans) {
  const Vocab v = merge_vocab({sp, "a", "b", ">", "<", "/"}, {{">", sp}, {"<", "/"}, {cat(">", sp), "</"}});
  const SpmSegmenter s = segmenter_for(v);
  ASSERT_TRUE(s.enabled());
  const std::string text = esc("a> </b a");  // a>▁</b▁a: ▁@2 is spanned by ">▁</", ▁@8 is a cut
  EXPECT_EQ(ends_of(s, text), (std::vector<size_t>{8, text.size()}));
  EXPECT_EQ(ends_of(s, esc("a> <b")), (std::vector<size_t>{7}));     // ">▁" spans ▁@2 too
  EXPECT_EQ(ends_of(s, esc("a <b")), (std::vector<size_t>{1, 6}));   // no token ends "a▁"

  // The tokenizer keeps the spanning merge: a + >▁</ + b, not a > | ▁ </ b.
  const Tokenizer t(v);
  EXPECT_EQ(t.encode("a> </b"), (std::vector<TokenId>{t.find("a"), t.find(cat(cat(">", sp), "</")), t.find("b")}));
  EXPECT_EQ(t.encode("a> <b"), (std::vector<TokenId>{t.find("a"), t.find(cat(">", sp)), t.find("<"), t.find("b")}));
  EXPECT_EQ(t.encode("a <b"), (std::vector<TokenId>{t.find("a"), t.find(sp), t.find("<"), t.find("b")}));
}

TEST(SpmSegmenter, DisabledWhenAMergeUsesAFallbackToken) {
  Vocab v = merge_vocab({sp, "a"}, {{sp, "a"}});
  v.merges.push_back("<0x41> a");
  v.tokens.push_back("<0x41>a");
  v.types.push_back(TokenType::normal);
  v.scores.push_back(0.0f);
  const SpmSegmenter s = segmenter_for(v);
  EXPECT_FALSE(s.enabled());
  const std::string text = esc("a a");
  EXPECT_EQ(ends_of(s, text), (std::vector<size_t>{text.size()}));
}

TEST(SpmSegmenter, DisabledWithoutMerges) {
  const SpmSegmenter s = segmenter_for(merge_vocab({sp, "a"}, {}));
  EXPECT_FALSE(s.enabled());
}

}  // namespace
}  // namespace ingot::tokenizer
