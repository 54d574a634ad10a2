// The tokenizer of a model: text <-> token ids for a validated Vocab. SentencePiece-style
// ("llama": scores, or merge ranks when the vocabulary carries merges, with byte fallback),
// byte-level BPE ("gpt2": regex pre-tokenizer by `pre`, merge ranks) and Unigram ("t5": Viterbi
// over piece scores). Special, control and user-defined token texts are found by a byte trie
// (leftmost-longest). BPE words and merge-SPM segments are cached (bounded, mutex-guarded), so
// repeated words cost one hash lookup. Thread-safe after construction; construction indexes the
// vocabulary and merges once (O(n_tokens + n_merges)).
#pragma once

#include "tokenizer/vocab.h"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::tokenizer {

class Tokenizer {
 public:
  // Validates the vocabulary; throws Error(invalid_file / unsupported) on a bad one or an
  // unknown pre-tokenizer name.
  explicit Tokenizer(Vocab vocab);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  const Vocab& vocab() const noexcept;
  size_t n_tokens() const noexcept { return vocab().n_tokens(); }

  // Text to ids. add_special: BOS/EOS as the vocabulary asks (add_bos/add_eos).
  // parse_special: control/unknown token texts in `text` become their ids (user-defined
  // tokens always do, as in Hugging Face and llama.cpp). Invalid UTF-8 is encoded as if each
  // ill-formed subsequence were U+FFFD (what Hugging Face sees after a lossy decode); it never
  // throws for any input bytes.
  std::vector<TokenId> encode(std::string_view text, bool add_special = false,
                              bool parse_special = true) const;

  // The bytes one token stands for (byte-level decoded, ▁ -> space, <0xNN> -> the byte).
  // Control and unknown tokens give their text when render_special, else nothing.
  std::string token_to_piece(TokenId id, bool render_special = true) const;

  // Ids to bytes. With add_space_prefix vocabularies the leading space of the first piece is
  // dropped when nothing was emitted before it (SentencePiece's rule; BOS skipped when
  // !render_special). Throws Error(invalid_argument) for an id out of range.
  std::string decode(std::span<const TokenId> ids, bool render_special = true) const;

  // Text to id for an exact token text, or no_token.
  TokenId find(std::string_view text) const noexcept;

  bool is_end_of_generation(TokenId id) const noexcept;
  const std::vector<TokenId>& end_of_generation() const noexcept;
  bool is_control(TokenId id) const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ingot::tokenizer
