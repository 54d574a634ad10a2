// BPE merge ranks as a flat open-addressing hash from a (left id, right id) pair to its rank
// and result id, and the merge loop that applies them to a word: lowest rank first, leftmost
// on ties (Hugging Face BPE semantics). Lookup is one probe on average; a word of n symbols
// costs O(n log n) with a small heap, allocation only for the heap and links.
#pragma once

#include "tokenizer/vocab.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::tokenizer {

class MergeTable {
 public:
  // `merges` are "left right" (rank = index); `find_id` maps a token text to its id or
  // no_token. Merges naming a text not in the vocabulary, or whose concatenation is not in
  // it, are skipped and counted in n_skipped().
  void build(const std::vector<std::string>& merges,
             const std::function<TokenId(std::string_view)>& find_id);

  struct Merge {
    int32_t rank;
    TokenId result;
  };
  // The merge of a pair, or nullptr.
  const Merge* find(TokenId left, TokenId right) const noexcept;

  // Whether pred(left, right) holds for any merge pair.
  template <class Pred>
  bool any_pair(Pred pred) const {
    for (const Slot& s : slots_) {
      if (s.key != ~uint64_t{0} && pred(static_cast<TokenId>(s.key >> 32), static_cast<TokenId>(s.key & 0xFFFFFFFFu))) {
        return true;
      }
    }
    return false;
  }

  size_t size() const noexcept { return n_entries_; }
  size_t n_skipped() const noexcept { return n_skipped_; }
  bool empty() const noexcept { return n_entries_ == 0; }

 private:
  struct Slot {
    uint64_t key = ~uint64_t{0};
    Merge merge{0, no_token};
  };
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t n_entries_ = 0;
  size_t n_skipped_ = 0;
};

// Merges `symbols` (token ids) in place until no adjacent pair has a merge.
void apply_merges(const MergeTable& table, std::vector<TokenId>& symbols);

}  // namespace ingot::tokenizer
