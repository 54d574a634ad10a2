// Safe cut points for merge-based SentencePiece-style encoding (Gemma's BPE with byte fallback
// over ▁-escaped text, which has no pre-tokenizer): the text is cut before each "▁" that follows
// another character unless some vocabulary token spans that point. No merge can then cross a cut
// (every merged symbol is a token whose text is its span), so encoding the segments one by one
// gives exactly the ids of encoding the whole text — and short segments can be cached. Built in
// O(total token bytes); a cut test costs a few byte compares.
#pragma once

#include "tokenizer/merges.h"
#include "tokenizer/vocab.h"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::tokenizer {

class SpmSegmenter {
 public:
  // `fallback_ids` are the ids a character missing from the vocabulary may become (<0xNN> byte
  // tokens, unk): their text is not their span, so cutting is disabled when any merge uses one.
  // Also disabled when too many tokens span an inner "▁" (then the text stays one segment).
  void build(const Vocab& vocab, const MergeTable& merges, const std::vector<TokenId>& fallback_ids);

  bool enabled() const noexcept { return enabled_; }

  // Appends the end offsets of the segments of `text` (the last is text.size()).
  void split(std::string_view text, std::vector<size_t>& ends) const;

 private:
  struct Crossing {
    std::string before;  // token text before the cut
    std::string after;   // token text from the cut (starts with ▁)
  };
  bool safe_cut(std::string_view text, size_t pos) const noexcept;

  bool enabled_ = false;
  std::vector<Crossing> crossings_;
  std::array<bool, 256> last_byte_{};  // last bytes of the `before` parts, a quick filter
};

}  // namespace ingot::tokenizer
