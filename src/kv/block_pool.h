// The fixed pool of KV blocks: a reference count per block, a stack of never-cached free blocks
// and an LRU list of freed blocks that still hold cached prefix KV (oldest freed evicted first).
// Knows nothing about tokens; KvBlockManager decides what is cached. Every operation is O(1):
// the LRU list is intrusive (prev/next arrays indexed by block id).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ingot::kv {

using BlockId = int32_t;
inline constexpr BlockId kNoBlock = -1;

class BlockPool {
 public:
  explicit BlockPool(int32_t n_blocks);

  int32_t n_blocks() const noexcept { return static_cast<int32_t>(ref_counts_.size()); }
  int32_t n_free() const noexcept { return static_cast<int32_t>(free_.size()); }
  int32_t n_evictable() const noexcept { return n_lru_; }
  int32_t n_used() const noexcept { return n_blocks() - n_free() - n_evictable(); }
  // Blocks a new allocation could get: never-cached free ones plus evictable cached ones.
  int32_t n_available() const noexcept { return n_free() + n_evictable(); }

  int32_t ref_count(BlockId block) const { return ref_counts_[static_cast<size_t>(block)]; }
  bool is_evictable(BlockId block) const { return in_lru_[static_cast<size_t>(block)] != 0; }

  // Takes a never-cached free block if there is one (ref count becomes 1); kNoBlock otherwise.
  BlockId take_free();
  // Takes the least recently freed cached block out of the LRU list (ref count becomes 1); the
  // caller must drop its cache entry. kNoBlock when the list is empty.
  BlockId evict_oldest();
  // One more owner. A block with no owner leaves the LRU list (a prefix-cache hit).
  void acquire(BlockId block);
  // One owner fewer. Returns true when the count reaches zero; the caller then hands the block
  // back with push_free (not cached) or push_evictable (cached, newest end of the LRU).
  bool release(BlockId block);
  void push_free(BlockId block);
  void push_evictable(BlockId block);
  // Moves an evictable block to the plain free stack (its cache entry was dropped).
  void forget_evictable(BlockId block);

  // The LRU list from oldest to newest (for tests and debugging; O(n)).
  std::vector<BlockId> evictable_in_order() const;

 private:
  void lru_unlink(BlockId block);

  std::vector<int32_t> ref_counts_;
  std::vector<BlockId> free_;  // a stack
  std::vector<BlockId> lru_prev_, lru_next_;
  std::vector<uint8_t> in_lru_;
  BlockId lru_head_ = kNoBlock;  // oldest
  BlockId lru_tail_ = kNoBlock;  // newest
  int32_t n_lru_ = 0;
};

}  // namespace ingot::kv
