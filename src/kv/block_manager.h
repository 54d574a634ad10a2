// The paged KV cache's bookkeeping (pure host code; the backend owns the memory): a fixed pool
// of blocks of `block_size` tokens, a block table per sequence, reference counts, automatic
// prefix caching of full computed blocks (kept after free, evicted LRU only when a fresh block
// is needed) and copy-on-write of a shared partial block after fork. O(1) per block operation.
#pragma once

#include "kv/block_pool.h"
#include "kv/prefix_cache.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace ingot::kv {

using SeqId = uint64_t;

// The backend copies block `src` into block `dst` (all layers, K and V) before the step runs.
struct BlockCopy {
  BlockId src = kNoBlock;
  BlockId dst = kNoBlock;
  friend bool operator==(const BlockCopy&, const BlockCopy&) = default;
};

struct KvStats {
  int32_t n_total = 0;
  int32_t n_used = 0;         // owned by at least one sequence
  int32_t n_cached_free = 0;  // no owner, holding cached prefix KV (evictable, LRU)
  int32_t n_free = 0;         // no owner, nothing cached
  size_t n_cache_entries = 0; // cached blocks, owned or not
  uint64_t n_prefix_queried_tokens = 0;  // tokens looked up in the prefix cache by allocate
  uint64_t n_prefix_hit_tokens = 0;      // of those, found cached
};

class KvBlockManager {
 public:
  KvBlockManager(int32_t n_blocks, int32_t block_size = 16, bool enable_prefix_cache = true);

  int32_t block_size() const noexcept { return block_size_; }
  int32_t n_blocks() const noexcept { return pool_.n_blocks(); }
  int32_t blocks_for_tokens(int64_t n_tokens) const;

  // Whether `tokens` (a new sequence) fits, counting prefix-cache hits, with `n_reserve` blocks
  // left over. O(n_tokens / block_size).
  bool can_allocate(std::span<const int32_t> tokens, int32_t n_reserve = 0) const;
  // Gives a new sequence slots for all of `tokens`, reusing cached full blocks of its prefix
  // (never the block holding the last token: that one must be computed to give logits).
  // Returns the number of leading tokens whose KV is already there. Throws Error(out_of_range)
  // when the blocks are not there (check can_allocate first), Error(internal) for a known seq.
  int32_t allocate(SeqId seq, std::span<const int32_t> tokens);

  // Whether `n_new` more tokens fit (including a copy-on-write of a shared last block).
  bool can_append(SeqId seq, int32_t n_new) const;
  // Slots for `tokens` after the sequence's current ones. A shared partial last block is
  // copied first (see take_copies). Throws Error(out_of_range) when blocks run out.
  void append(SeqId seq, std::span<const int32_t> tokens);
  // `child` shares all of `parent`'s blocks (ref counts +1); the first append to the shared
  // partial block by either one copies it.
  void fork(SeqId parent, SeqId child);
  // Releases the sequence's blocks; cached ones stay reusable until evicted. Unknown: no-op.
  void free(SeqId seq);
  // The first `n_computed` tokens of `seq` now have KV: its newly full blocks become cached.
  void mark_computed(SeqId seq, int32_t n_computed);

  // Block copies the backend must run before the next step; clears the list.
  std::vector<BlockCopy> take_copies();

  bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
  int32_t n_tokens(SeqId seq) const;
  std::span<const BlockId> block_table(SeqId seq) const;
  std::span<const int32_t> tokens(SeqId seq) const;
  // KV slot of the token at `position`: block id x block size + offset.
  int64_t slot(SeqId seq, int32_t position) const;
  std::vector<SeqId> sequences() const;

  KvStats stats() const;
  const BlockPool& pool() const noexcept { return pool_; }
  const PrefixCache& cache() const noexcept { return cache_; }

 private:
  struct SeqState {
    std::vector<BlockId> table;
    std::vector<int32_t> tokens;
    int32_t n_computed = 0;
    int32_t n_hashed_blocks = 0;  // leading full blocks already offered to the cache
    uint64_t chain_hash = 0;
    ContentId chain_content = kNoContent;
    bool chain_broken = false;
  };
  struct PrefixHits {
    std::vector<BlockId> blocks;
    int32_t n_evictable = 0;
    uint64_t chain_hash = 0;
    ContentId chain_content = kNoContent;
  };

  PrefixHits find_prefix(std::span<const int32_t> tokens) const;
  int32_t blocks_needed_to_append(const SeqState& s, int32_t n_new) const;
  BlockId take_fresh_block();
  void release_block(BlockId block);
  SeqState& state(SeqId seq);
  const SeqState& state(SeqId seq) const;

  int32_t block_size_;
  bool enable_prefix_cache_;
  BlockPool pool_;
  PrefixCache cache_;
  std::unordered_map<SeqId, SeqState> seqs_;
  std::vector<BlockCopy> copies_;
  uint64_t n_queried_tokens_ = 0;
  uint64_t n_hit_tokens_ = 0;
};

}  // namespace ingot::kv
