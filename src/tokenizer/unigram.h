// The Unigram (SentencePiece "unigram", GGUF model "t5", llama.cpp's UGM) encoder: the best-
// scoring segmentation of ▁-escaped text into vocabulary pieces by Viterbi over a lattice of
// every piece starting at every character. A character with no one-character piece becomes an
// unknown node scored min(score) - 10; runs of unknowns fuse into one unk (or byte tokens when
// the vocabulary has <0xNN> pieces of type byte). Ties and rounding follow Hugging Face's
// lattice (tokenizers.js), node by node. O(n_chars x piece length) per text; the piece prefix
// index costs one hash entry per character prefix of every piece.
#pragma once

#include "tokenizer/vocab.h"

#include <array>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ingot::tokenizer {

class Unigram {
 public:
  // Indexes the pieces of a validated vocabulary (normal, user-defined, unused and byte
  // tokens; control and unknown ones are matched only as special tokens). Keeps views into
  // vocab.tokens: the vocabulary must outlive this object and not move its strings.
  void build(const Vocab& vocab);

  // Appends the ids of `text` (already normalized and ▁-escaped).
  void encode(std::string_view text, std::vector<TokenId>& out) const;

 private:
  struct Node {
    TokenId id;        // no_token: unknown character
    int32_t begin;     // character index
    int32_t end;
    double score;
    double backtrace;  // best score of a path ending with this node
    int32_t prev;      // best predecessor node, -1 for the start
  };

  void append_unknown(std::string_view text, std::vector<TokenId>& out) const;

  // Every character prefix of every piece -> the piece's id when the prefix is a piece itself,
  // else no_token (the prefix only continues).
  std::unordered_map<std::string_view, TokenId> prefixes_;
  std::vector<double> scores_;
  double unk_score_ = -10.0;
  TokenId unk_ = no_token;
  std::array<TokenId, 256> byte_tokens_{};  // <0xNN> tokens of type byte, or no_token
};

}  // namespace ingot::tokenizer
