// GGUF round trip of a vocabulary, and tokenizer.json import of small hand-written documents.
#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "tokenizer/hf_import.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_gguf.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ingot::tokenizer {
namespace {

using nlohmann::json;

json byte_level_json(const std::string& regex) {
  json vocab = json::object();
  int id = 0;
  for (const auto& s : byte_to_unicode()) vocab[s] = id++;
  vocab["he"] = id++;
  return json{
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"h e"})}, {"ignore_merges", true}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array({json{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
                      json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"added_tokens",
       json::array({json{{"id", 257}, {"content", "<|begin_of_text|>"}, {"special", true}},
                    json{{"id", 258}, {"content", "<|eot_id|>"}, {"special", true}},
                    json{{"id", 259}, {"content", "<tool>"}, {"special", false}}})},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({json{{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}},
                                json{{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})}}},
  };
}

const std::string llama3_regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

TEST(HfImport, ByteLevelLlama3) {
  const json config = {{"chat_template", "{{ messages }}"}, {"eos_token", "<|eot_id|>"}};
  const HfVocab hf = import_hf_json(byte_level_json(llama3_regex), &config);
  const Vocab& v = hf.vocab;
  EXPECT_EQ(v.model, VocabModel::bpe);
  EXPECT_EQ(v.pre, "llama-bpe");
  EXPECT_EQ(v.n_tokens(), 260u);
  EXPECT_EQ(v.bos, 257);
  EXPECT_TRUE(v.add_bos);
  EXPECT_EQ(v.eos, 258);
  EXPECT_EQ(v.eot, 258);
  EXPECT_EQ(v.type_of(257), TokenType::control);
  EXPECT_EQ(v.type_of(259), TokenType::user_defined);
  EXPECT_EQ(hf.chat_template, "{{ messages }}");
  const Tokenizer t(v);
  EXPECT_EQ(t.encode("he<tool>", true, false), (std::vector<TokenId>{257, 256, 259}));
}

TEST(HfImport, UnknownRegexIsQuoted) {
  try {
    import_hf_json(byte_level_json("[a-z]+"), nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("[a-z]+"), std::string::npos) << e.what();
  }
}

TEST(HfImport, LiteralControlCharactersInARegexMatchTheEscapedPattern) {
  std::string literal = llama3_regex;
  for (size_t pos; (pos = literal.find("\\r\\n")) != std::string::npos;) literal.replace(pos, 4, "\r\n");
  ASSERT_NE(literal, llama3_regex);
  EXPECT_EQ(import_hf_json(byte_level_json(literal), nullptr).vocab.pre, "llama-bpe");
}

TEST(HfImport, NormalizerSequences) {
  json doc = byte_level_json(llama3_regex);
  doc["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array()}};
  EXPECT_EQ(import_hf_json(doc, nullptr).vocab.normalizer, Normalizer::none);
  doc["normalizer"]["normalizers"] = json::array({json{{"type", "NFC"}}});
  EXPECT_EQ(import_hf_json(doc, nullptr).vocab.normalizer, Normalizer::nfc);
  doc["normalizer"]["normalizers"].push_back(json{{"type", "Lowercase"}});
  try {
    import_hf_json(doc, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NFC, Lowercase"), std::string::npos) << e.what();
  }
}

TEST(HfImport, WordPieceIsRefusedByName) {
  const json doc = {{"model", {{"type", "WordPiece"}, {"vocab", json::object()}}}};
  try {
    import_hf_json(doc, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::unsupported);
    EXPECT_NE(std::string(e.what()).find("WordPiece"), std::string::npos) << e.what();
  }
}

TEST(VocabGguf, RoundTripsThroughAWriter) {
  const json config = {{"chat_template", "T"}};
  HfVocab hf = import_hf_json(byte_level_json(llama3_regex), &config);
  hf.vocab.normalizer = Normalizer::nfc;
  gguf::Writer writer;
  writer.set_string("general.architecture", "vocab-only");
  write_vocab(hf, writer);
  const gguf::File file = gguf::File::from_buffer(writer.to_bytes());
  const Vocab back = load_vocab(file);
  EXPECT_EQ(back.tokens, hf.vocab.tokens);
  EXPECT_EQ(back.types, hf.vocab.types);
  EXPECT_EQ(back.merges, hf.vocab.merges);
  EXPECT_EQ(back.pre, "llama-bpe");
  EXPECT_EQ(back.bos, hf.vocab.bos);
  EXPECT_EQ(back.eot, hf.vocab.eot);
  EXPECT_EQ(back.add_bos, hf.vocab.add_bos);
  EXPECT_EQ(back.normalizer, Normalizer::nfc);
  EXPECT_EQ(file.get_string("tokenizer.chat_template"), "T");
}

TEST(VocabGguf, OutOfRangeSpecialIdIsAnError) {
  HfVocab hf = import_hf_json(byte_level_json(llama3_regex), nullptr);
  gguf::Writer writer;
  write_vocab(hf, writer);
  writer.set_u32("tokenizer.ggml.eos_token_id", 99999);
  const gguf::File file = gguf::File::from_buffer(writer.to_bytes());
  EXPECT_THROW(load_vocab(file), Error);
}

TEST(VocabGguf, UnknownPreIsNamed) {
  HfVocab hf = import_hf_json(byte_level_json(llama3_regex), nullptr);
  gguf::Writer writer;
  write_vocab(hf, writer);
  writer.set_string("tokenizer.ggml.pre", "mystery-pre");
  const gguf::File file = gguf::File::from_buffer(writer.to_bytes());
  try {
    load_vocab(file);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mystery-pre"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ingot::tokenizer
