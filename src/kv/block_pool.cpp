#include "kv/block_pool.h"

#include "core/error.h"

namespace ingot::kv {

BlockPool::BlockPool(int32_t n_blocks) {
  if (n_blocks <= 0) fail(ErrorCode::invalid_argument, "KV pool needs at least one block, got {}", n_blocks);
  const auto n = static_cast<size_t>(n_blocks);
  ref_counts_.assign(n, 0);
  lru_prev_.assign(n, kNoBlock);
  lru_next_.assign(n, kNoBlock);
  in_lru_.assign(n, 0);
  free_.reserve(n);
  // Pushed in reverse so that blocks are handed out 0, 1, 2, ... (easier to read in tests).
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

BlockId BlockPool::take_free() {
  if (free_.empty()) return kNoBlock;
  const BlockId block = free_.back();
  free_.pop_back();
  ref_counts_[static_cast<size_t>(block)] = 1;
  return block;
}

BlockId BlockPool::evict_oldest() {
  const BlockId block = lru_head_;
  if (block == kNoBlock) return kNoBlock;
  lru_unlink(block);
  ref_counts_[static_cast<size_t>(block)] = 1;
  return block;
}

void BlockPool::acquire(BlockId block) {
  auto& rc = ref_counts_[static_cast<size_t>(block)];
  if (rc == 0) {
    if (!is_evictable(block)) fail(ErrorCode::internal, "KV block {} acquired while free", block);
    lru_unlink(block);
  }
  ++rc;
}

bool BlockPool::release(BlockId block) {
  auto& rc = ref_counts_[static_cast<size_t>(block)];
  if (rc <= 0) fail(ErrorCode::internal, "KV block {} released more often than acquired", block);
  return --rc == 0;
}

void BlockPool::push_free(BlockId block) { free_.push_back(block); }

void BlockPool::push_evictable(BlockId block) {
  const auto i = static_cast<size_t>(block);
  lru_prev_[i] = lru_tail_;
  lru_next_[i] = kNoBlock;
  if (lru_tail_ != kNoBlock) lru_next_[static_cast<size_t>(lru_tail_)] = block;
  lru_tail_ = block;
  if (lru_head_ == kNoBlock) lru_head_ = block;
  in_lru_[i] = 1;
  ++n_lru_;
}

void BlockPool::forget_evictable(BlockId block) {
  lru_unlink(block);
  push_free(block);
}

std::vector<BlockId> BlockPool::evictable_in_order() const {
  std::vector<BlockId> out;
  for (BlockId b = lru_head_; b != kNoBlock; b = lru_next_[static_cast<size_t>(b)]) out.push_back(b);
  return out;
}

void BlockPool::lru_unlink(BlockId block) {
  const auto i = static_cast<size_t>(block);
  const BlockId prev = lru_prev_[i], next = lru_next_[i];
  if (prev != kNoBlock) lru_next_[static_cast<size_t>(prev)] = next; else lru_head_ = next;
  if (next != kNoBlock) lru_prev_[static_cast<size_t>(next)] = prev; else lru_tail_ = prev;
  lru_prev_[i] = lru_next_[i] = kNoBlock;
  in_lru_[i] = 0;
  --n_lru_;
}

}  // namespace ingot::kv
