#include "kv/prefix_cache.h"

#include "core/error.h"

#include <algorithm>

namespace ingot::kv {

PrefixCache::PrefixCache(int32_t n_blocks, int32_t block_size) : block_size_(block_size) {
  const auto n = static_cast<size_t>(n_blocks);
  content_.assign(n, kNoContent);
  parent_.assign(n, kNoContent);
  hash_.assign(n, 0);
  tokens_.assign(n * static_cast<size_t>(block_size), 0);
  by_hash_.reserve(n);
}

bool PrefixCache::matches(BlockId block, ContentId parent, std::span<const int32_t> tokens) const {
  const auto i = static_cast<size_t>(block);
  if (parent_[i] != parent || tokens.size() != static_cast<size_t>(block_size_)) return false;
  return std::equal(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<ptrdiff_t>(i * tokens.size()));
}

BlockId PrefixCache::find(uint64_t hash, ContentId parent, std::span<const int32_t> tokens) const {
  const auto it = by_hash_.find(hash);
  if (it == by_hash_.end() || !matches(it->second, parent, tokens)) return kNoBlock;
  return it->second;
}

ContentId PrefixCache::insert(BlockId block, uint64_t hash, ContentId parent,
                              std::span<const int32_t> tokens) {
  if (tokens.size() != static_cast<size_t>(block_size_)) {
    fail(ErrorCode::internal, "prefix cache: block {} has {} tokens, expected {}", block, tokens.size(), block_size_);
  }
  const auto i = static_cast<size_t>(block);
  if (content_[i] != kNoContent) {  // already cached (a block shared by forked sequences)
    return matches(block, parent, tokens) ? content_[i] : kNoContent;
  }
  const auto [it, inserted] = by_hash_.try_emplace(hash, block);
  if (!inserted) return matches(it->second, parent, tokens) ? content_[static_cast<size_t>(it->second)] : kNoContent;
  content_[i] = next_content_++;
  parent_[i] = parent;
  hash_[i] = hash;
  std::copy(tokens.begin(), tokens.end(), tokens_.begin() + static_cast<ptrdiff_t>(i * tokens.size()));
  return content_[i];
}

void PrefixCache::erase(BlockId block) {
  const auto i = static_cast<size_t>(block);
  if (content_[i] == kNoContent) return;
  by_hash_.erase(hash_[i]);
  content_[i] = kNoContent;
  parent_[i] = kNoContent;
}

}  // namespace ingot::kv
