// The vocabulary of a tokenizer, as stored under the GGUF `tokenizer.ggml.*` keys: token
// texts, scores, types, BPE merges, the special ids and the add-BOS/EOS flags. A plain value
// type (no file views), filled from a GGUF file, from a Hugging Face tokenizer.json, or by hand
// in tests. validate() checks every id and size once; after it, the tokenizer trusts the data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::tokenizer {

using TokenId = int32_t;
inline constexpr TokenId no_token = -1;

// The GGUF token types (`tokenizer.ggml.token_type`), a public fact of the format.
enum class TokenType : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6,
};

// `tokenizer.ggml.model`: "llama" is SentencePiece-style (scores or merges over ▁-text with
// byte fallback), "gpt2" is byte-level BPE with ranks from merges and a regex pre-tokenizer,
// "t5" is a Unigram model (scores are log-probabilities; Viterbi over ▁-text).
enum class VocabModel { spm, bpe, ugm };

// Text normalization before pre-tokenization. GGUF has no standard key for it; ingot writes
// `tokenizer.ggml.normalizer` = "nfc" when the Hugging Face tokenizer normalizes to NFC.
enum class Normalizer { none, nfc };

std::string_view to_string(VocabModel model);
// Parses a `tokenizer.ggml.model` value; throws Error(unsupported) naming any other value.
VocabModel parse_vocab_model(std::string_view name);

struct Vocab {
  VocabModel model = VocabModel::spm;
  std::string pre = "default";       // tokenizer.ggml.pre (BPE only)
  Normalizer normalizer = Normalizer::none;
  std::vector<std::string> tokens;   // id -> text (byte-level encoded for BPE)
  std::vector<float> scores;         // empty, or one per token
  std::vector<TokenType> types;      // empty (all normal), or one per token
  std::vector<std::string> merges;   // "left right", rank = index (BPE; optional for SPM)

  TokenId bos = no_token;
  TokenId eos = no_token;
  TokenId eot = no_token;
  TokenId eom = no_token;
  TokenId pad = no_token;
  TokenId unk = no_token;
  TokenId sep = no_token;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: prepend ▁ to text that starts the input or follows a special token
  // Unigram: prepend ▁ only to text at the very start of the input (Hugging Face Metaspace
  // prepend_scheme "first"; ingot's key tokenizer.ggml.prepend_scheme = "first").
  bool space_prefix_first_only = false;

  size_t n_tokens() const noexcept { return tokens.size(); }
  TokenType type_of(TokenId id) const noexcept {
    return types.empty() ? TokenType::normal : types[static_cast<size_t>(id)];
  }
};

// Checks sizes (scores/types empty or n_tokens), every special id in range, merges of the form
// "a b", no empty token text and no duplicate text among normal tokens. Throws
// Error(invalid_file) naming the first problem.
void validate(const Vocab& vocab);

// The end-of-generation set: eos, eot, eom, and control tokens whose text is a known
// end-of-turn marker (<|eot_id|>, <|im_end|>, <end_of_turn>, <|endoftext|>, ...). Sorted, unique.
std::vector<TokenId> end_of_generation_ids(const Vocab& vocab);

}  // namespace ingot::tokenizer
