#include "tokenizer/special_trie.h"

#include <algorithm>

namespace ingot::tokenizer {

int32_t SpecialTrie::child(int32_t node, uint8_t byte) const noexcept {
  const auto& edges = nodes_[node].edges;
  const auto it = std::lower_bound(edges.begin(), edges.end(), byte,
                                   [](const auto& e, uint8_t b) { return e.first < b; });
  return it != edges.end() && it->first == byte ? it->second : -1;
}

void SpecialTrie::insert(std::string_view text, TokenId id) {
  if (text.empty()) return;
  first_bytes_.set(static_cast<uint8_t>(text[0]));
  int32_t node = 0;
  for (char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& edges = nodes_[node].edges;
      const auto it = std::lower_bound(edges.begin(), edges.end(), byte,
                                       [](const auto& e, uint8_t b) { return e.first < b; });
      edges.insert(it, {byte, next});
    }
    node = next;
  }
  if (nodes_[node].id == no_token) nodes_[node].id = id;  // the first id of a text wins
}

}  // namespace ingot::tokenizer
