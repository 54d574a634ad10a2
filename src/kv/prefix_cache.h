// Automatic prefix caching: full, computed KV blocks indexed by their chained token hash so a
// later sequence with the same prefix reuses them. Each entry keeps the block's tokens and the
// id of its parent entry; a lookup checks both, so a 64-bit collision yields a miss, never a
// wrong block. Entry ids are never reused. O(1) average per operation (hash map + flat arrays).
#pragma once

#include "kv/block_pool.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace ingot::kv {

// Identity of cached block content; 0 means "none" (not cached, or a broken chain).
using ContentId = uint64_t;
inline constexpr ContentId kNoContent = 0;

class PrefixCache {
 public:
  PrefixCache(int32_t n_blocks, int32_t block_size);

  // The cached block holding exactly `tokens` after the block `parent` (kNoContent for the
  // first block), looked up under `hash`; kNoBlock on a miss.
  BlockId find(uint64_t hash, ContentId parent, std::span<const int32_t> tokens) const;

  // Caches `block` (full and computed) under `hash`. Returns the content id the next block of
  // the sequence chains to: the new entry's, the id of an existing entry with the same content
  // (the block itself or a duplicate computed by another sequence; then `block` stays
  // uncached), or kNoContent when another content owns `hash` (a collision: the chain stops).
  ContentId insert(BlockId block, uint64_t hash, ContentId parent, std::span<const int32_t> tokens);

  bool contains(BlockId block) const { return content_[static_cast<size_t>(block)] != kNoContent; }
  ContentId content_of(BlockId block) const { return content_[static_cast<size_t>(block)]; }
  // Drops the entry of `block` (evicted for reuse).
  void erase(BlockId block);
  size_t n_entries() const noexcept { return by_hash_.size(); }

 private:
  bool matches(BlockId block, ContentId parent, std::span<const int32_t> tokens) const;

  int32_t block_size_;
  ContentId next_content_ = 1;
  std::unordered_map<uint64_t, BlockId> by_hash_;
  std::vector<ContentId> content_;  // per block
  std::vector<ContentId> parent_;   // per block
  std::vector<uint64_t> hash_;      // per block
  std::vector<int32_t> tokens_;     // block_size per block
};

}  // namespace ingot::kv
