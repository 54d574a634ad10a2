#include "tokenizer/vocab_gguf.h"

#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "tokenizer/pretokenizer.h"

namespace ingot::tokenizer {

namespace {

struct SpecialKey {
  std::string_view key;
  TokenId Vocab::*field;
};

constexpr SpecialKey special_keys[] = {
    {"tokenizer.ggml.bos_token_id", &Vocab::bos},
    {"tokenizer.ggml.eos_token_id", &Vocab::eos},
    {"tokenizer.ggml.eot_token_id", &Vocab::eot},
    {"tokenizer.ggml.eom_token_id", &Vocab::eom},
    {"tokenizer.ggml.padding_token_id", &Vocab::pad},
    {"tokenizer.ggml.unknown_token_id", &Vocab::unk},
    {"tokenizer.ggml.seperator_token_id", &Vocab::sep},  // sic: the key as the format spells it
};

}  // namespace

Vocab load_vocab(const gguf::File& file) {
  Vocab v;
  v.model = parse_vocab_model(file.get_string_or("tokenizer.ggml.model", "llama"));
  const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  v.tokens.assign(tokens.begin(), tokens.end());
  const size_t n = v.tokens.size();
  if (file.find("tokenizer.ggml.scores")) v.scores = file.get_f32_array("tokenizer.ggml.scores");
  if (file.find("tokenizer.ggml.token_type")) {
    const auto types = file.get_i32_array("tokenizer.ggml.token_type");
    v.types.reserve(types.size());
    for (int32_t t : types) v.types.push_back(static_cast<TokenType>(t));
  }
  if (file.find("tokenizer.ggml.merges")) {
    const auto merges = file.get_string_array("tokenizer.ggml.merges");
    v.merges.assign(merges.begin(), merges.end());
  }
  if (v.model == VocabModel::bpe) {
    v.pre = std::string(file.get_string_or("tokenizer.ggml.pre", "default"));
    if (PreTokenizer::patterns_for(v.pre).empty()) {
      PreTokenizer check(v.pre);  // throws the message that names it
    }
    v.add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token", false);
    v.add_space_prefix = file.get_bool_or("tokenizer.ggml.add_space_prefix", false);
  } else if (v.model == VocabModel::ugm) {
    v.add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token", false);
    v.add_space_prefix = file.get_bool_or("tokenizer.ggml.add_space_prefix", true);
    if (const auto scheme = file.find_string("tokenizer.ggml.prepend_scheme")) {
      if (*scheme == "first") v.space_prefix_first_only = true;
      else if (*scheme != "always") {
        fail(ErrorCode::unsupported, "tokenizer: prepend_scheme '{}' is not supported (always, first)", *scheme);
      }
    }
    // SentencePiece normalization (NFKC-like rules compiled into a charsmap) is not implemented:
    // refuse rather than tokenize differently from the model's own tokenizer.
    if (file.find("tokenizer.ggml.precompiled_charsmap")) {
      fail(ErrorCode::unsupported, "tokenizer: 't5' (Unigram) vocabulary with a precompiled_charsmap "
           "normalizer is not supported (SentencePiece charsmap normalization is not implemented)");
    }
    if (file.get_bool_or("tokenizer.ggml.remove_extra_whitespaces", false)) {
      fail(ErrorCode::unsupported, "tokenizer: 't5' (Unigram) vocabulary with remove_extra_whitespaces is "
           "not supported");
    }
  } else {
    v.add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token", true);
    v.add_space_prefix = file.get_bool_or("tokenizer.ggml.add_space_prefix", true);
    if (n > 2) {
      v.unk = 0;
      v.bos = 1;
      v.eos = 2;
    }
  }
  v.add_eos = file.get_bool_or("tokenizer.ggml.add_eos_token", false);
  if (const auto norm = file.find_string("tokenizer.ggml.normalizer")) {
    if (*norm == "nfc") {
      v.normalizer = Normalizer::nfc;
    } else if (!norm->empty() && *norm != "none") {
      fail(ErrorCode::unsupported, "tokenizer: normalizer '{}' (tokenizer.ggml.normalizer) is not supported", *norm);
    }
  }
  for (const auto& [key, field] : special_keys) {
    if (const auto id = file.find_u32(key)) {
      if (*id >= n) {
        fail(ErrorCode::invalid_file, "tokenizer: {} = {} is out of range (vocabulary has {} tokens)",
             key, *id, n);
      }
      v.*field = static_cast<TokenId>(*id);
    }
  }
  if (v.add_bos && v.bos == no_token) v.add_bos = false;  // nothing to add; not worth refusing the file
  validate(v);
  return v;
}

void write_vocab(const Vocab& v, gguf::Writer& w) {
  validate(v);
  w.set_string("tokenizer.ggml.model", to_string(v.model));
  if (v.model == VocabModel::bpe) w.set_string("tokenizer.ggml.pre", v.pre);
  w.set_string_array("tokenizer.ggml.tokens", v.tokens);
  if (!v.scores.empty()) w.set_array("tokenizer.ggml.scores", gguf::Array::of<float>(v.scores));
  if (!v.types.empty()) {
    std::vector<int32_t> types;
    types.reserve(v.types.size());
    for (TokenType t : v.types) types.push_back(static_cast<int32_t>(t));
    w.set_array("tokenizer.ggml.token_type", gguf::Array::of<int32_t>(types));
  }
  if (!v.merges.empty()) w.set_string_array("tokenizer.ggml.merges", v.merges);
  for (const auto& [key, field] : special_keys) {
    if (v.*field != no_token) w.set_u32(key, static_cast<uint32_t>(v.*field));
  }
  w.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  w.set_bool("tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (v.model == VocabModel::ugm) {
    w.set_bool("tokenizer.ggml.remove_extra_whitespaces", false);
    if (v.space_prefix_first_only) w.set_string("tokenizer.ggml.prepend_scheme", "first");
  }
  if (v.normalizer == Normalizer::nfc) w.set_string("tokenizer.ggml.normalizer", "nfc");
}

}  // namespace ingot::tokenizer
