// SentencePiece-style merging by piece scores (GGUF model "llama" without merges): the text,
// already ▁-escaped, starts as one symbol per UTF-8 character; the adjacent pair whose
// concatenation is a token with the highest score merges first (leftmost on ties); symbols
// left that are not tokens (unknown characters) become byte tokens
// <0xNN>. O(n log n) per fragment.
#pragma once

#include "tokenizer/vocab.h"

#include <array>
#include <functional>
#include <string_view>
#include <vector>

namespace ingot::tokenizer {

struct SpmContext {
  std::function<TokenId(std::string_view)> find_id;  // text -> id or no_token
  const std::vector<float>* scores = nullptr;        // one per token (may be empty: all 0)
  std::array<TokenId, 256> byte_tokens{};            // <0xNN> ids, no_token where absent
  TokenId unk = no_token;
};

// Appends the tokens of `text` to `out`.
void spm_encode(const SpmContext& ctx, std::string_view text, std::vector<TokenId>& out);

}  // namespace ingot::tokenizer
