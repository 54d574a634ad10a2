// Unigram ("t5") tokenizers from hand-written tokenizer.json documents: Viterbi by score, the
// reference's tie rule, fused unknowns, byte fallback, the Metaspace prepend schemes, decode,
// the GGUF round trip, and the settings that are refused by name.
#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "tokenizer/hf_import.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ingot::tokenizer {
namespace {

using nlohmann::json;

const std::string sp = "\xE2\x96\x81";  // ▁

// ids: 0 <unk>, 1 </s>, 2 ▁, 3 a, 4 b, 5 ab, 6 ▁a, 7 c, 8 bc, 9 x, 10 y, 11 xy, then `extra`.
json unigram_json(const std::string& scheme = "always", const json& extra = json::array()) {
  json vocab = json::array({json::array({"<unk>", 0.0}), json::array({"</s>", 0.0}), json::array({sp, -2.0}),
                            json::array({"a", -3.0}), json::array({"b", -3.0}), json::array({"ab", -5.0}),
                            json::array({sp + "a", -2.5}), json::array({"c", -4.0}), json::array({"bc", -7.0}),
                            json::array({"x", -1.5}), json::array({"y", -1.5}), json::array({"xy", -3.0})});
  for (const auto& e : extra) vocab.push_back(e);
  return json{
      {"model", {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", vocab}, {"byte_fallback", false}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", sp}, {"prepend_scheme", scheme}, {"split", true}}},
      {"added_tokens", json::array({json{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                                    json{{"id", 1}, {"content", "</s>"}, {"special", true}}})},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                json{{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}})}}},
  };
}

Tokenizer tokenizer_of(const json& doc) { return Tokenizer(import_hf_json(doc, nullptr).vocab); }

using Ids = std::vector<TokenId>;

TEST(Unigram, ImportsPiecesScoresAndSpecials) {
  const Vocab v = import_hf_json(unigram_json(), nullptr).vocab;
  EXPECT_EQ(v.model, VocabModel::ugm);
  EXPECT_EQ(v.n_tokens(), 12u);
  EXPECT_EQ(v.tokens[6], sp + "a");
  EXPECT_FLOAT_EQ(v.scores[8], -7.0f);
  EXPECT_EQ(v.unk, 0);
  EXPECT_EQ(v.type_of(0), TokenType::unknown);
  EXPECT_EQ(v.type_of(1), TokenType::control);
  EXPECT_EQ(v.eos, 1);
  EXPECT_TRUE(v.add_eos);
  EXPECT_FALSE(v.add_bos);
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_FALSE(v.space_prefix_first_only);
}

TEST(Unigram, BestScoringSegmentation) {
  const Tokenizer t = tokenizer_of(unigram_json());
  EXPECT_EQ(t.encode("ab"), (Ids{6, 4}));        // ▁a + b = -5.5 beats ▁ + ab = -7
  EXPECT_EQ(t.encode(" ab"), (Ids{6, 4}));       // a leading space is the prefix itself
  EXPECT_EQ(t.encode("ab ab"), (Ids{6, 4, 6, 4}));
  EXPECT_EQ(t.encode("ab", true), (Ids{6, 4, 1}));  // add_special: </s> from the post-processor
}

TEST(Unigram, TiesKeepThePieceThatStartsFirst) {
  const Tokenizer t = tokenizer_of(unigram_json());
  EXPECT_EQ(t.encode("abc"), (Ids{6, 8}));  // ▁a+bc and ▁a+b+c both -9.5
  EXPECT_EQ(t.encode("xy"), (Ids{2, 11}));  // ▁+xy and ▁+x+y both -5
}

TEST(Unigram, UnknownRunsFuseIntoOneUnk) {
  const Tokenizer t = tokenizer_of(unigram_json());
  EXPECT_EQ(t.encode("a\xF0\x9F\xA6\x99\xF0\x9F\xA6\x99" "b"), (Ids{6, 0, 4}));
  EXPECT_EQ(t.encode("d b d"), (Ids{2, 0, 2, 4, 2, 0}));
  EXPECT_EQ(t.decode(t.encode("a\xF0\x9F\xA6\x99")), "a<unk>");
}

TEST(Unigram, ByteFallbackReplacesUnknowns) {
  json doc = unigram_json("always", json::array({json::array({"<0xF0>", -9.0}), json::array({"<0x9F>", -9.0}),
                                                 json::array({"<0xA6>", -9.0}), json::array({"<0x99>", -9.0})}));
  doc["model"]["byte_fallback"] = true;
  const Tokenizer t = tokenizer_of(doc);
  EXPECT_EQ(t.vocab().type_of(12), TokenType::byte);
  EXPECT_EQ(t.encode("a\xF0\x9F\xA6\x99" "b"), (Ids{6, 12, 13, 14, 15, 4}));
  EXPECT_EQ(t.decode(t.encode("a\xF0\x9F\xA6\x99" "b")), "a\xF0\x9F\xA6\x99" "b");
  EXPECT_EQ(t.encode("ad"), (Ids{6, 0}));  // 'd' (0x64) has no byte piece: unk
}

TEST(Unigram, PrependSchemes) {
  const Tokenizer always = tokenizer_of(unigram_json("always"));
  EXPECT_EQ(always.encode("a</s>a"), (Ids{6, 1, 6}));
  EXPECT_EQ(always.decode(Ids{6, 8}), "abc");
  const Tokenizer first = tokenizer_of(unigram_json("first"));
  EXPECT_TRUE(first.vocab().space_prefix_first_only);
  EXPECT_EQ(first.encode("a</s>a"), (Ids{6, 1, 3}));
  EXPECT_EQ(first.encode("</s>a"), (Ids{1, 3}));
  const Tokenizer never = tokenizer_of(unigram_json("never"));
  EXPECT_FALSE(never.vocab().add_space_prefix);
  EXPECT_EQ(never.encode("a"), (Ids{3}));
  EXPECT_EQ(never.encode(" a"), (Ids{6}));
  EXPECT_EQ(never.decode(Ids{6, 8}), " abc");
}

TEST(Unigram, RoundTripsThroughGguf) {
  const HfVocab hf = import_hf_json(unigram_json("first"), nullptr);
  gguf::Writer writer;
  writer.set_string("general.architecture", "vocab-only");
  write_vocab(hf, writer);
  const gguf::File file = gguf::File::from_buffer(writer.to_bytes());
  EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "t5");
  const Vocab back = load_vocab(file);
  EXPECT_EQ(back.model, VocabModel::ugm);
  EXPECT_EQ(back.tokens, hf.vocab.tokens);
  EXPECT_EQ(back.scores, hf.vocab.scores);
  EXPECT_EQ(back.types, hf.vocab.types);
  EXPECT_TRUE(back.space_prefix_first_only);
  EXPECT_EQ(back.unk, 0);
  const Tokenizer a(hf.vocab);
  const Tokenizer b(back);
  EXPECT_EQ(a.encode("abc xy</s>ab"), b.encode("abc xy</s>ab"));
}

TEST(Unigram, CharsmapInGgufIsRefused) {
  const HfVocab hf = import_hf_json(unigram_json(), nullptr);
  gguf::Writer writer;
  write_vocab(hf, writer);
  writer.set_array("tokenizer.ggml.precompiled_charsmap", gguf::Array::of<int32_t>(std::vector<int32_t>{1, 2}));
  const gguf::File file = gguf::File::from_buffer(writer.to_bytes());
  try {
    load_vocab(file);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("precompiled_charsmap"), std::string::npos) << e.what();
  }
}

void expect_refused(const json& doc, const std::string& named) {
  try {
    import_hf_json(doc, nullptr);
    FAIL() << "expected an error naming " << named;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
  }
}

TEST(Unigram, UnsupportedSettingsAreNamed) {
  json precompiled = unigram_json();
  precompiled["normalizer"] = {{"type", "Sequence"},
                               {"normalizers", json::array({json{{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}}})}};
  expect_refused(precompiled, "Precompiled");
  json charsmap = unigram_json();
  charsmap["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
  expect_refused(charsmap, "Precompiled");
  json whitespace = unigram_json();
  whitespace["pre_tokenizer"] = {{"type", "Sequence"},
                                 {"pretokenizers", json::array({json{{"type", "WhitespaceSplit"}}, whitespace["pre_tokenizer"]})}};
  expect_refused(whitespace, "WhitespaceSplit");
  json none = unigram_json();
  none["pre_tokenizer"] = nullptr;
  expect_refused(none, "none");
  json inner = unigram_json("always", json::array({json::array({"a" + sp + "b", -1.0})}));
  expect_refused(inner, "a" + sp + "b");
  inner["pre_tokenizer"]["split"] = false;  // without split, an inner ▁ is fine
  EXPECT_NO_THROW(import_hf_json(inner, nullptr));
  json replacement = unigram_json();
  replacement["pre_tokenizer"]["replacement"] = "_";
  expect_refused(replacement, "replacement");
}

}  // namespace
}  // namespace ingot::tokenizer
