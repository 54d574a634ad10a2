// A byte trie over the texts of special, control, unknown and user-defined tokens, for
// splitting input text around them (leftmost-longest, like Hugging Face's added-token
// matcher). Lookup walks at most the longest token's length from a position; a 256-bit
// first-byte filter skips most positions at once.
#pragma once

#include "tokenizer/vocab.h"

#include <bitset>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace ingot::tokenizer {

class SpecialTrie {
 public:
  void insert(std::string_view text, TokenId id);
  bool empty() const noexcept { return nodes_.size() <= 1; }
  bool may_start(uint8_t byte) const noexcept { return first_bytes_[byte]; }

  // The longest token text starting at text[pos] for which accept(id) holds: its id and
  // length, or {no_token, 0}.
  template <typename Accept>
  std::pair<TokenId, size_t> longest_at(std::string_view text, size_t pos, Accept&& accept) const {
    std::pair<TokenId, size_t> best{no_token, 0};
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<uint8_t>(text[i]));
      if (node < 0) break;
      const TokenId id = nodes_[node].id;
      if (id != no_token && accept(id)) best = {id, i + 1 - pos};
    }
    return best;
  }

 private:
  struct Node {
    TokenId id = no_token;
    std::vector<std::pair<uint8_t, int32_t>> edges;  // sorted by byte
  };
  int32_t child(int32_t node, uint8_t byte) const noexcept;

  std::vector<Node> nodes_{Node{}};
  std::bitset<256> first_bytes_;
};

}  // namespace ingot::tokenizer
