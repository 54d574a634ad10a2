#include "core/error.h"
#include "kv/block_hash.h"
#include "kv/block_manager.h"
#include "kv/kv_budget.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace ingot::kv {
namespace {

std::vector<int32_t> iota_tokens(int32_t n, int32_t start = 100) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), start);
  return t;
}

TEST(KvBudget, BytesPerBlockAndCapacity) {
  // Llama-3-8B-like: 32 layers, 8 KV heads, head dim 128, f16 -> 2*32*8*128*16*2 = 2 MiB/block.
  const KvLayout layout{32, 8, 128, 16, 2};
  EXPECT_EQ(kv_bytes_per_block(layout), 2u * 32 * 8 * 128 * 16 * 2);
  const KvCapacity c = kv_capacity_for_budget(layout, 10ull << 30);  // 10 GiB
  EXPECT_EQ(c.n_blocks, 5120);
  EXPECT_EQ(c.n_tokens, 5120 * 16);
  EXPECT_LE(c.n_bytes, 10ull << 30);
  EXPECT_EQ(kv_capacity_for_budget(layout, 10ull << 30, 100).n_blocks, 100);
  EXPECT_THROW(kv_capacity_for_budget(layout, 1000), Error);
  EXPECT_THROW(kv_bytes_per_block(KvLayout{0, 8, 128, 16, 2}), Error);
  EXPECT_THROW(kv_bytes_per_block(KvLayout{1ll << 40, 1ll << 40, 128, 16, 2}), Error);
  try {
    kv_capacity_for_budget(layout, 1000);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_range);
    EXPECT_NE(std::string(e.what()).find("smaller than one block"), std::string::npos);
  }
}

TEST(KvBlockManager, SlotsFollowTheBlockTable) {
  KvBlockManager m(8, 4);
  const auto t = iota_tokens(6);
  EXPECT_EQ(m.allocate(1, t), 0);
  ASSERT_EQ(m.block_table(1).size(), 2u);
  const auto table = m.block_table(1);
  for (int32_t p = 0; p < 6; ++p) EXPECT_EQ(m.slot(1, p), table[static_cast<size_t>(p / 4)] * 4 + p % 4);
  EXPECT_THROW(m.slot(1, 6), Error);
  m.append(1, std::vector<int32_t>{7, 8, 9});  // 9 tokens -> 3 blocks
  EXPECT_EQ(m.block_table(1).size(), 3u);
  EXPECT_EQ(m.stats().n_used, 3);
  EXPECT_EQ(m.stats().n_free, 5);
  m.free(1);
  EXPECT_EQ(m.stats().n_free, 8);
  EXPECT_FALSE(m.contains(1));
}

TEST(KvBlockManager, PrefixHitsReuseFullComputedBlocks) {
  KvBlockManager m(16, 4);
  const auto a = iota_tokens(10);  // blocks [100..103] [104..107] [108 109]
  EXPECT_EQ(m.allocate(1, a), 0);
  m.mark_computed(1, 10);
  EXPECT_EQ(m.stats().n_cache_entries, 2u);
  // A second sequence with the same prefix shares the two full blocks while the first runs.
  auto b = iota_tokens(9);
  b[8] = 7;
  EXPECT_EQ(m.allocate(2, b), 8);
  EXPECT_EQ(m.block_table(2)[0], m.block_table(1)[0]);
  EXPECT_EQ(m.block_table(2)[1], m.block_table(1)[1]);
  EXPECT_EQ(m.pool().ref_count(m.block_table(1)[0]), 2);
  // Exactly 8 tokens: only the first block may be reused (the last token must be computed).
  EXPECT_EQ(m.allocate(3, iota_tokens(8)), 4);
  // A different first block: no hit even though the second block's tokens are equal.
  auto c = iota_tokens(10);
  c[0] = 1;
  EXPECT_EQ(m.allocate(4, c), 0);
  m.free(1);
  m.free(2);
  m.free(3);
  m.free(4);
  EXPECT_EQ(m.stats().n_used, 0);
  EXPECT_EQ(m.stats().n_cached_free, 2);
  // Freed cached blocks are still found.
  EXPECT_EQ(m.allocate(5, a), 8);
  EXPECT_EQ(m.stats().n_cached_free, 0);
  EXPECT_EQ(m.stats().n_prefix_hit_tokens, 8u + 4u + 8u);
}

TEST(KvBlockManager, UncomputedBlocksAreNotShared) {
  KvBlockManager m(16, 4);
  const auto a = iota_tokens(12);
  m.allocate(1, a);
  m.mark_computed(1, 5);  // only block 0 is full and computed
  EXPECT_EQ(m.allocate(2, a), 4);
}

TEST(KvBlockManager, LruEvictsOldestFreedTailFirst) {
  KvBlockManager m(5, 2);  // a, b and c fill it: no never-cached free block is left
  const auto a = iota_tokens(4, 0), b = iota_tokens(4, 10), c = iota_tokens(2, 20);
  m.allocate(1, a);
  m.allocate(2, b);
  m.allocate(3, c);
  for (SeqId s : {1, 2, 3}) m.mark_computed(s, m.n_tokens(s));
  const std::vector<BlockId> ta(m.block_table(1).begin(), m.block_table(1).end());
  const std::vector<BlockId> tb(m.block_table(2).begin(), m.block_table(2).end());
  m.free(1);
  m.free(2);
  m.free(3);
  const std::vector<BlockId> expected_lru{ta[1], ta[0], tb[1], tb[0], m.pool().evictable_in_order()[4]};
  EXPECT_EQ(m.pool().evictable_in_order(), expected_lru);
  // A prefix hit on b's first block pulls it out of the LRU; a fresh allocation of 3 blocks
  // evicts a's tail, a's head, then b's tail.
  auto b2 = iota_tokens(5, 10);
  b2[2] = 99;
  EXPECT_EQ(m.allocate(4, b2), 2);
  EXPECT_EQ(m.block_table(4)[0], tb[0]);
  EXPECT_EQ(m.block_table(4)[1], ta[1]);
  EXPECT_EQ(m.block_table(4)[2], ta[0]);
  EXPECT_EQ(m.allocate(5, std::vector<int32_t>{1}), 0);
  EXPECT_EQ(m.block_table(5)[0], tb[1]);
  // a's blocks were evicted: a is a miss now.
  m.free(4);
  m.free(5);
  EXPECT_EQ(m.allocate(6, iota_tokens(3, 0)), 0);
}

TEST(KvBlockManager, ForkCopiesSharedPartialBlockOnWrite) {
  KvBlockManager m(8, 4);
  m.allocate(1, iota_tokens(6));
  m.mark_computed(1, 6);
  m.fork(1, 2);
  EXPECT_EQ(m.pool().ref_count(m.block_table(1)[1]), 2);
  EXPECT_EQ(m.stats().n_used, 2);
  const BlockId shared = m.block_table(1)[1];
  m.append(2, std::vector<int32_t>{42});
  const auto copies = m.take_copies();
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].src, shared);
  EXPECT_EQ(copies[0].dst, m.block_table(2)[1]);
  EXPECT_NE(m.block_table(2)[1], shared);
  EXPECT_EQ(m.block_table(2)[0], m.block_table(1)[0]);  // the full block stays shared
  m.append(1, std::vector<int32_t>{43});  // now the only owner: writes in place
  EXPECT_TRUE(m.take_copies().empty());
  EXPECT_EQ(m.block_table(1)[1], shared);
  EXPECT_TRUE(m.take_copies().empty());
}

TEST(KvBlockManager, CapacityChecks) {
  KvBlockManager m(4, 4);
  EXPECT_TRUE(m.can_allocate(iota_tokens(16)));
  EXPECT_FALSE(m.can_allocate(iota_tokens(17)));
  EXPECT_FALSE(m.can_allocate(iota_tokens(16), 1));
  EXPECT_THROW(m.allocate(1, iota_tokens(17)), Error);
  m.allocate(1, iota_tokens(15));
  EXPECT_TRUE(m.can_append(1, 1));
  EXPECT_FALSE(m.can_append(1, 2));
  EXPECT_THROW(m.append(1, std::vector<int32_t>{1, 2}), Error);
  EXPECT_THROW(m.allocate(1, iota_tokens(1)), Error);  // already allocated
  EXPECT_THROW(KvBlockManager(0, 16), Error);
  EXPECT_THROW(KvBlockManager(4, 0), Error);
}

TEST(PrefixCache, HashCollisionIsAMissNeverAWrongBlock) {
  PrefixCache cache(4, 2);
  const std::vector<int32_t> x{1, 2}, y{3, 4};
  const ContentId cx = cache.insert(0, 42, kNoContent, x);
  EXPECT_NE(cx, kNoContent);
  EXPECT_EQ(cache.find(42, kNoContent, x), 0);
  EXPECT_EQ(cache.find(42, kNoContent, y), kNoBlock);   // same hash, other tokens
  EXPECT_EQ(cache.find(42, cx, x), kNoBlock);           // same tokens, other parent
  EXPECT_EQ(cache.insert(1, 42, kNoContent, y), kNoContent);  // the collision breaks the chain
  EXPECT_FALSE(cache.contains(1));
  EXPECT_EQ(cache.insert(2, 42, kNoContent, x), cx);  // a duplicate chains to the existing entry
  EXPECT_FALSE(cache.contains(2));
  cache.erase(0);
  EXPECT_EQ(cache.find(42, kNoContent, x), kNoBlock);
  EXPECT_NE(cache.insert(1, 42, kNoContent, y), kNoContent);
}

TEST(BlockHash, ChainsAndSpreads) {
  const std::vector<int32_t> a{1, 2, 3, 4}, b{1, 2, 3, 5};
  EXPECT_NE(hash_block(kRootBlockHash, a), hash_block(kRootBlockHash, b));
  EXPECT_NE(hash_block(kRootBlockHash, a), hash_block(hash_block(kRootBlockHash, b), a));
  EXPECT_EQ(hash_block(7, a), hash_block(7, a));
}

}  // namespace
}  // namespace ingot::kv
