#include "kv/block_manager.h"

#include "core/error.h"
#include "kv/block_hash.h"

#include <algorithm>

namespace ingot::kv {

KvBlockManager::KvBlockManager(int32_t n_blocks, int32_t block_size, bool enable_prefix_cache)
    : block_size_(block_size),
      enable_prefix_cache_(enable_prefix_cache),
      pool_(n_blocks),
      cache_(n_blocks, block_size > 0 ? block_size : 1) {
  if (block_size <= 0 || block_size > 4096) {
    fail(ErrorCode::invalid_argument, "KV block size must be in [1, 4096], got {}", block_size);
  }
}

int32_t KvBlockManager::blocks_for_tokens(int64_t n_tokens) const {
  return static_cast<int32_t>((n_tokens + block_size_ - 1) / block_size_);
}

KvBlockManager::SeqState& KvBlockManager::state(SeqId seq) {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) fail(ErrorCode::internal, "KV manager: unknown sequence {}", seq);
  return it->second;
}

const KvBlockManager::SeqState& KvBlockManager::state(SeqId seq) const {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) fail(ErrorCode::internal, "KV manager: unknown sequence {}", seq);
  return it->second;
}

KvBlockManager::PrefixHits KvBlockManager::find_prefix(std::span<const int32_t> tokens) const {
  PrefixHits hits;
  hits.chain_hash = kRootBlockHash;
  if (!enable_prefix_cache_ || tokens.empty()) return hits;
  const size_t bs = static_cast<size_t>(block_size_);
  const size_t n_candidates = (tokens.size() - 1) / bs;  // the last token is always computed
  for (size_t b = 0; b < n_candidates; ++b) {
    const auto block_tokens = tokens.subspan(b * bs, bs);
    const uint64_t h = hash_block(hits.chain_hash, block_tokens);
    const BlockId block = cache_.find(h, hits.chain_content, block_tokens);
    if (block == kNoBlock) break;
    hits.blocks.push_back(block);
    if (pool_.is_evictable(block)) ++hits.n_evictable;
    hits.chain_hash = h;
    hits.chain_content = cache_.content_of(block);
  }
  return hits;
}

bool KvBlockManager::can_allocate(std::span<const int32_t> tokens, int32_t n_reserve) const {
  const PrefixHits hits = find_prefix(tokens);
  const int64_t needed = blocks_for_tokens(static_cast<int64_t>(tokens.size())) -
                         static_cast<int64_t>(hits.blocks.size());
  const int64_t available = pool_.n_available() - hits.n_evictable;
  return needed + n_reserve <= available;
}

int32_t KvBlockManager::allocate(SeqId seq, std::span<const int32_t> tokens) {
  if (contains(seq)) fail(ErrorCode::internal, "KV manager: sequence {} is already allocated", seq);
  if (!can_allocate(tokens)) {
    fail(ErrorCode::out_of_range, "KV cache: not enough free blocks for {} tokens ({} of {} available)",
         tokens.size(), pool_.n_available(), pool_.n_blocks());
  }
  PrefixHits hits = find_prefix(tokens);
  SeqState s;
  s.tokens.assign(tokens.begin(), tokens.end());
  const auto n_table = static_cast<size_t>(blocks_for_tokens(static_cast<int64_t>(tokens.size())));
  s.table.reserve(n_table);
  for (const BlockId b : hits.blocks) {  // acquire the hits first: eviction must not take them
    pool_.acquire(b);
    s.table.push_back(b);
  }
  while (s.table.size() < n_table) s.table.push_back(take_fresh_block());
  const int32_t n_cached = static_cast<int32_t>(hits.blocks.size()) * block_size_;
  s.n_computed = n_cached;
  s.n_hashed_blocks = static_cast<int32_t>(hits.blocks.size());
  s.chain_hash = hits.chain_hash;
  s.chain_content = hits.chain_content;
  if (enable_prefix_cache_) {
    n_queried_tokens_ += tokens.size();
    n_hit_tokens_ += static_cast<uint64_t>(n_cached);
  }
  seqs_.emplace(seq, std::move(s));
  return n_cached;
}

int32_t KvBlockManager::blocks_needed_to_append(const SeqState& s, int32_t n_new) const {
  if (n_new <= 0) return 0;
  const auto n_old = static_cast<int64_t>(s.tokens.size());
  int32_t needed = blocks_for_tokens(n_old + n_new) - static_cast<int32_t>(s.table.size());
  const bool partial_last = n_old % block_size_ != 0;
  if (partial_last && pool_.ref_count(s.table.back()) > 1) ++needed;  // copy-on-write
  return needed;
}

bool KvBlockManager::can_append(SeqId seq, int32_t n_new) const {
  return blocks_needed_to_append(state(seq), n_new) <= pool_.n_available();
}

void KvBlockManager::append(SeqId seq, std::span<const int32_t> tokens) {
  SeqState& s = state(seq);
  const auto n_new = static_cast<int32_t>(tokens.size());
  if (n_new == 0) return;
  const int32_t needed = blocks_needed_to_append(s, n_new);
  if (needed > pool_.n_available()) {
    fail(ErrorCode::out_of_range, "KV cache: sequence {} needs {} more blocks, {} available", seq,
         needed, pool_.n_available());
  }
  if (s.tokens.size() % static_cast<size_t>(block_size_) != 0 && pool_.ref_count(s.table.back()) > 1) {
    const BlockId shared = s.table.back();
    const BlockId copy = take_fresh_block();
    copies_.push_back({shared, copy});
    release_block(shared);  // still owned by the other sequence(s)
    s.table.back() = copy;
  }
  s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
  const int32_t n_total = blocks_for_tokens(static_cast<int64_t>(s.tokens.size()));
  while (static_cast<int32_t>(s.table.size()) < n_total) s.table.push_back(take_fresh_block());
}

void KvBlockManager::fork(SeqId parent, SeqId child) {
  if (contains(child)) fail(ErrorCode::internal, "KV manager: fork target {} already exists", child);
  SeqState copy = state(parent);
  for (const BlockId b : copy.table) pool_.acquire(b);
  seqs_.emplace(child, std::move(copy));
}

void KvBlockManager::free(SeqId seq) {
  const auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  // Last block first: the LRU then evicts a prefix's tail before its head, which is the part
  // other requests are most likely to share.
  const auto& table = it->second.table;
  for (auto b = table.rbegin(); b != table.rend(); ++b) release_block(*b);
  seqs_.erase(it);
}

void KvBlockManager::mark_computed(SeqId seq, int32_t n_computed) {
  SeqState& s = state(seq);
  if (n_computed < 0 || static_cast<size_t>(n_computed) > s.tokens.size()) {
    fail(ErrorCode::internal, "KV manager: sequence {} computed {} of {} tokens", seq, n_computed,
         s.tokens.size());
  }
  s.n_computed = std::max(s.n_computed, n_computed);
  if (!enable_prefix_cache_) return;
  const size_t bs = static_cast<size_t>(block_size_);
  while (!s.chain_broken && static_cast<size_t>(s.n_hashed_blocks + 1) * bs <= static_cast<size_t>(s.n_computed)) {
    const auto b = static_cast<size_t>(s.n_hashed_blocks);
    const std::span<const int32_t> block_tokens(s.tokens.data() + b * bs, bs);
    const uint64_t h = hash_block(s.chain_hash, block_tokens);
    const ContentId id = cache_.insert(s.table[b], h, s.chain_content, block_tokens);
    if (id == kNoContent) {
      s.chain_broken = true;  // a hash collision: later blocks of this sequence stay uncached
      break;
    }
    s.chain_hash = h;
    s.chain_content = id;
    ++s.n_hashed_blocks;
  }
}

std::vector<BlockCopy> KvBlockManager::take_copies() {
  std::vector<BlockCopy> out;
  out.swap(copies_);
  return out;
}

int32_t KvBlockManager::n_tokens(SeqId seq) const { return static_cast<int32_t>(state(seq).tokens.size()); }

std::span<const BlockId> KvBlockManager::block_table(SeqId seq) const { return state(seq).table; }

std::span<const int32_t> KvBlockManager::tokens(SeqId seq) const { return state(seq).tokens; }

int64_t KvBlockManager::slot(SeqId seq, int32_t position) const {
  const SeqState& s = state(seq);
  if (position < 0 || static_cast<size_t>(position) >= s.tokens.size()) {
    fail(ErrorCode::internal, "KV manager: position {} outside sequence {} of {} tokens", position,
         seq, s.tokens.size());
  }
  return static_cast<int64_t>(s.table[static_cast<size_t>(position / block_size_)]) * block_size_ +
         position % block_size_;
}

std::vector<SeqId> KvBlockManager::sequences() const {
  std::vector<SeqId> out;
  out.reserve(seqs_.size());
  for (const auto& [id, s] : seqs_) out.push_back(id);
  return out;
}

KvStats KvBlockManager::stats() const {
  KvStats st;
  st.n_total = pool_.n_blocks();
  st.n_used = pool_.n_used();
  st.n_cached_free = pool_.n_evictable();
  st.n_free = pool_.n_free();
  st.n_cache_entries = cache_.n_entries();
  st.n_prefix_queried_tokens = n_queried_tokens_;
  st.n_prefix_hit_tokens = n_hit_tokens_;
  return st;
}

BlockId KvBlockManager::take_fresh_block() {
  BlockId b = pool_.take_free();
  if (b != kNoBlock) return b;
  b = pool_.evict_oldest();
  if (b == kNoBlock) fail(ErrorCode::internal, "KV manager: pool exhausted after a capacity check");
  cache_.erase(b);
  return b;
}

void KvBlockManager::release_block(BlockId block) {
  if (!pool_.release(block)) return;
  if (cache_.contains(block)) {
    pool_.push_evictable(block);
  } else {
    pool_.push_free(block);
  }
}

}  // namespace ingot::kv
