// Hugging Face tokenizer.json (+ tokenizer_config.json) -> Vocab: the tokenizer half of
// `ingot convert`. Supports byte-level BPE (Llama 3, Qwen 2/3, GPT-2 style; the pre-tokenizer
// is found by comparing its regexes with the known ones), SentencePiece-style BPE with byte
// fallback (Gemma, Llama 2: written as model "llama" with merges) and Unigram with a Metaspace
// pre-tokenizer (model "t5"; no charsmap normalizer). Anything else fails with a message naming
// what is not supported. Cost: one JSON parse of the files (a 33 MB
// tokenizer.json takes about a second) and a copy of the vocabulary.
#pragma once

#include "tokenizer/vocab.h"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace ingot::gguf {
class Writer;
}

namespace ingot::tokenizer {

struct HfVocab {
  Vocab vocab;
  std::string chat_template;          // tokenizer.chat_template; empty when none
  std::vector<std::string> warnings;  // things that were imported with a caveat
};

// Reads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json.
HfVocab import_hf(const std::filesystem::path& dir);
// The same from parsed documents (config may be null).
HfVocab import_hf_json(const nlohmann::json& tokenizer, const nlohmann::json* config);

// The tokenizer.ggml.* name of a tokenizer.json pre_tokenizer, or throws Error(unsupported)
// quoting its regexes.
std::string detect_pre(const nlohmann::json& pre_tokenizer);

// Writes the tokenizer.ggml.* keys and tokenizer.chat_template.
void write_vocab(const HfVocab& hf, gguf::Writer& writer);

}  // namespace ingot::tokenizer
