#include "tokenizer/vocab.h"

#include "core/error.h"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace ingot::tokenizer {

std::string_view to_string(VocabModel model) {
  switch (model) {
    case VocabModel::spm: return "llama";
    case VocabModel::bpe: return "gpt2";
    case VocabModel::ugm: return "t5";
  }
  return "?";
}

VocabModel parse_vocab_model(std::string_view name) {
  if (name == "llama") return VocabModel::spm;
  if (name == "gpt2") return VocabModel::bpe;
  if (name == "t5") return VocabModel::ugm;
  fail(ErrorCode::unsupported,
       "tokenizer model '{}' is not supported (supported: 'llama' = SentencePiece, 'gpt2' = "
       "byte-level BPE, 't5' = Unigram)",
       name);
}

namespace {

void check_id(const Vocab& vocab, TokenId id, std::string_view name) {
  if (id == no_token) return;
  if (id < 0 || static_cast<size_t>(id) >= vocab.n_tokens()) {
    fail(ErrorCode::invalid_file, "tokenizer: {} id {} is out of range (vocabulary has {} tokens)",
         name, id, vocab.n_tokens());
  }
}

}  // namespace

void validate(const Vocab& vocab) {
  const size_t n = vocab.n_tokens();
  if (n == 0) fail(ErrorCode::invalid_file, "tokenizer: the vocabulary has no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) {
    fail(ErrorCode::invalid_file, "tokenizer: {} tokens exceed the int32 id range", n);
  }
  if (!vocab.scores.empty() && vocab.scores.size() != n) {
    fail(ErrorCode::invalid_file, "tokenizer: {} scores for {} tokens", vocab.scores.size(), n);
  }
  if (!vocab.types.empty() && vocab.types.size() != n) {
    fail(ErrorCode::invalid_file, "tokenizer: {} token types for {} tokens", vocab.types.size(), n);
  }
  for (size_t i = 0; i < vocab.types.size(); ++i) {
    const auto t = static_cast<int32_t>(vocab.types[i]);
    if (t < 0 || t > static_cast<int32_t>(TokenType::byte)) {
      fail(ErrorCode::invalid_file, "tokenizer: token {} has unknown type {}", i, t);
    }
  }
  std::unordered_map<std::string_view, size_t> seen;
  seen.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (vocab.tokens[i].empty()) fail(ErrorCode::invalid_file, "tokenizer: token {} is empty", i);
    // Duplicates happen in real vocabularies among unused/control tokens; only the first id of a
    // text is reachable by encoding, which is what the reference tokenizers do too.
    seen.emplace(vocab.tokens[i], i);
  }
  check_id(vocab, vocab.bos, "bos");
  check_id(vocab, vocab.eos, "eos");
  check_id(vocab, vocab.eot, "eot");
  check_id(vocab, vocab.eom, "eom");
  check_id(vocab, vocab.pad, "pad");
  check_id(vocab, vocab.unk, "unk");
  check_id(vocab, vocab.sep, "sep");
  if (vocab.add_bos && vocab.bos == no_token) {
    fail(ErrorCode::invalid_file, "tokenizer: add_bos_token is set but there is no bos token id");
  }
  if (vocab.add_eos && vocab.eos == no_token) {
    fail(ErrorCode::invalid_file, "tokenizer: add_eos_token is set but there is no eos token id");
  }
  for (size_t i = 0; i < vocab.merges.size(); ++i) {
    const std::string& m = vocab.merges[i];
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos || space + 1 >= m.size()) {
      fail(ErrorCode::invalid_file, "tokenizer: merge {} ('{}') is not of the form 'left right'", i, m);
    }
  }
  if (vocab.model == VocabModel::bpe && vocab.merges.empty()) {
    fail(ErrorCode::invalid_file, "tokenizer: a 'gpt2' (BPE) vocabulary needs tokenizer.ggml.merges");
  }
}

std::vector<TokenId> end_of_generation_ids(const Vocab& vocab) {
  static constexpr std::array<std::string_view, 12> markers = {
      "<|eot_id|>", "<|im_end|>",  "<|end|>",  "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
      "<EOT>",      "_<EOT>",      "<|return|>", "<|call|>",    "<｜end▁of▁sentence｜>", "<|end_of_text|>"};
  std::vector<TokenId> ids;
  for (TokenId id : {vocab.eos, vocab.eot, vocab.eom}) {
    if (id != no_token) ids.push_back(id);
  }
  for (size_t i = 0; i < vocab.n_tokens(); ++i) {
    const TokenType t = vocab.type_of(static_cast<TokenId>(i));
    if (t != TokenType::control && t != TokenType::user_defined) continue;
    if (std::find(markers.begin(), markers.end(), vocab.tokens[i]) != markers.end()) {
      ids.push_back(static_cast<TokenId>(i));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace ingot::tokenizer
