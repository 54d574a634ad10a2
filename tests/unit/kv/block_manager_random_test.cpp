// Thousands of random allocate / append / fork / compute / free operations on a small pool,
// with a shadow of the KV memory: after every operation the pool's counts add up, every ref
// count equals the number of block tables holding the block, and every computed token of every
// sequence reads back its own token id through its block table (so prefix hits, LRU eviction
// and copy-on-write never hand a sequence someone else's KV).
#include "core/error.h"
#include "kv/block_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <vector>

namespace ingot::kv {
namespace {

class Harness {
 public:
  Harness(int32_t n_blocks, int32_t block_size, uint32_t seed)
      : m_(n_blocks, block_size), kv_(static_cast<size_t>(n_blocks * block_size), -1), rng_(seed) {
    for (int p = 0; p < 4; ++p) {  // a few shared "system prompts"
      std::vector<int32_t> base(static_cast<size_t>(pick(3 * block_size)));
      for (auto& t : base) t = static_cast<int32_t>(pick(6));
      bases_.push_back(base);
    }
  }

  void run(int n_ops) {
    for (int op = 0; op < n_ops; ++op) {
      const uint32_t kind = pick(100);
      if (kind < 25) do_allocate();
      else if (kind < 50) do_compute();
      else if (kind < 72) do_append();
      else if (kind < 82) do_fork();
      else do_free();
      check();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  int n_hits = 0, n_copies = 0, n_evictions_seen = 0, n_allocs = 0;

 private:
  uint32_t pick(uint32_t n) { return n == 0 ? 0 : static_cast<uint32_t>(rng_() % n); }

  SeqId random_live() {
    auto it = computed_.begin();
    std::advance(it, pick(static_cast<uint32_t>(computed_.size())));
    return it->first;
  }

  void do_allocate() {
    std::vector<int32_t> t = bases_[pick(static_cast<uint32_t>(bases_.size()))];
    t.resize(t.size() * pick(2));  // half of them start with a shared base prompt
    const uint32_t n_extra = 1 + pick(static_cast<uint32_t>(3 * m_.block_size()));
    for (uint32_t i = 0; i < n_extra; ++i) t.push_back(static_cast<int32_t>(pick(3)));
    if (!m_.can_allocate(t)) {
      EXPECT_THROW(m_.allocate(next_id_, t), Error);
      return;
    }
    const std::vector<BlockId> lru_before = m_.pool().evictable_in_order();
    const int32_t n_cached = m_.allocate(next_id_, t);
    ++n_allocs;
    if (n_cached > 0) ++n_hits;
    const auto table = m_.block_table(next_id_);
    check_lru_after_taking(lru_before, std::vector<BlockId>(table.begin(), table.begin() + n_cached / m_.block_size()));
    EXPECT_EQ(n_cached % m_.block_size(), 0);
    EXPECT_LT(n_cached, static_cast<int32_t>(t.size()));
    computed_[next_id_] = n_cached;  // the cached prefix must already read back correctly
    ++next_id_;
  }

  void do_compute() {
    if (computed_.empty()) return;
    const SeqId s = random_live();
    const auto tokens = m_.tokens(s);
    int32_t& done = computed_[s];
    const int32_t n = std::min<int32_t>(static_cast<int32_t>(tokens.size()) - done,
                                        1 + static_cast<int32_t>(pick(2 * static_cast<uint32_t>(m_.block_size()))));
    for (int32_t p = done; p < done + n; ++p) kv_[static_cast<size_t>(m_.slot(s, p))] = tokens[static_cast<size_t>(p)];
    done += n;
    m_.mark_computed(s, done);
  }

  void do_append() {
    if (computed_.empty()) return;
    const SeqId s = random_live();
    std::vector<int32_t> t(1 + pick(3));
    for (auto& x : t) x = static_cast<int32_t>(pick(3));
    if (!m_.can_append(s, static_cast<int32_t>(t.size()))) {
      EXPECT_THROW(m_.append(s, t), Error);
      return;
    }
    const std::vector<BlockId> lru_before = m_.pool().evictable_in_order();
    m_.append(s, t);
    check_lru_after_taking(lru_before, {});
    for (const BlockCopy& c : m_.take_copies()) {  // what the backend does before the step
      ++n_copies;
      EXPECT_GE(m_.pool().ref_count(c.src), 1);
      for (int32_t i = 0; i < m_.block_size(); ++i) {
        kv_[static_cast<size_t>(c.dst * m_.block_size() + i)] = kv_[static_cast<size_t>(c.src * m_.block_size() + i)];
      }
    }
  }

  void do_fork() {
    if (computed_.empty()) return;
    const SeqId s = random_live();
    m_.fork(s, next_id_);
    computed_[next_id_] = computed_[s];
    ++next_id_;
  }

  void do_free() {
    if (computed_.empty()) return;
    const SeqId s = random_live();
    const std::vector<BlockId> lru_before = m_.pool().evictable_in_order();
    m_.free(s);
    computed_.erase(s);
    // Freeing only adds at the newest end, in reverse table order.
    const std::vector<BlockId> lru_after = m_.pool().evictable_in_order();
    ASSERT_GE(lru_after.size(), lru_before.size());
    ASSERT_TRUE(std::equal(lru_before.begin(), lru_before.end(), lru_after.begin()));
  }

  // An allocation or append removes from the LRU list only prefix hits (`hits`) and evicted
  // blocks, which must be the oldest ones, taken only once no never-cached block was left.
  void check_lru_after_taking(const std::vector<BlockId>& before, const std::vector<BlockId>& hits) {
    const std::vector<BlockId> after = m_.pool().evictable_in_order();
    std::vector<BlockId> candidates;  // the list minus the hits, oldest first
    for (const BlockId b : before) {
      if (std::find(hits.begin(), hits.end(), b) == hits.end()) candidates.push_back(b);
    }
    ASSERT_LE(after.size(), candidates.size());
    const size_t n_evicted = candidates.size() - after.size();
    ASSERT_TRUE(std::equal(after.begin(), after.end(), candidates.begin() + static_cast<ptrdiff_t>(n_evicted)))
        << "eviction did not take the least recently freed blocks";
    if (n_evicted > 0) {
      ++n_evictions_seen;
      ASSERT_EQ(m_.pool().n_free(), 0) << "a cached block was evicted while a free one was left";
    }
  }

  void check() {
    const KvStats st = m_.stats();
    ASSERT_EQ(st.n_free + st.n_cached_free + st.n_used, st.n_total);
    std::vector<int32_t> owners(static_cast<size_t>(st.n_total), 0);
    ASSERT_EQ(m_.sequences().size(), computed_.size());
    for (const auto& [s, done] : computed_) {
      const auto table = m_.block_table(s);
      const auto tokens = m_.tokens(s);
      ASSERT_EQ(static_cast<int32_t>(table.size()), m_.blocks_for_tokens(static_cast<int64_t>(tokens.size())));
      std::vector<BlockId> seen(table.begin(), table.end());
      std::sort(seen.begin(), seen.end());
      ASSERT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end()) << "a block twice in one table";
      for (const BlockId b : table) ++owners[static_cast<size_t>(b)];
      for (int32_t p = 0; p < done; ++p) {
        ASSERT_EQ(kv_[static_cast<size_t>(m_.slot(s, p))], tokens[static_cast<size_t>(p)])
            << "sequence " << s << " position " << p << " reads another sequence's KV";
      }
    }
    for (BlockId b = 0; b < st.n_total; ++b) {
      ASSERT_EQ(m_.pool().ref_count(b), owners[static_cast<size_t>(b)]) << "block " << b;
      if (owners[static_cast<size_t>(b)] == 0) {
        ASSERT_EQ(m_.pool().is_evictable(b), m_.cache().contains(b)) << "block " << b;
      } else {
        ASSERT_FALSE(m_.pool().is_evictable(b));
      }
    }
  }

  KvBlockManager m_;
  std::vector<int32_t> kv_;  // shadow KV memory: the token id written at each slot
  std::mt19937 rng_;
  std::vector<std::vector<int32_t>> bases_;
  std::map<SeqId, int32_t> computed_;  // live sequence -> tokens whose KV was written
  SeqId next_id_ = 1;
};

TEST(KvBlockManagerRandom, InvariantsHoldOverThousandsOfOps) {
  int total_hits = 0, total_copies = 0, total_evictions = 0;
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    Harness h(/*n_blocks=*/48, /*block_size=*/seed % 2 ? 4 : 3, seed);
    h.run(5000);
    if (HasFatalFailure()) return;
    total_hits += h.n_hits;
    total_copies += h.n_copies;
    total_evictions += h.n_evictions_seen;
  }
  // The operations really exercised prefix hits, copy-on-write and LRU eviction.
  EXPECT_GT(total_hits, 100);
  EXPECT_GT(total_copies, 100);
  EXPECT_GT(total_evictions, 100);
  std::printf("prefix hits %d, copies %d, evicting allocations %d\n", total_hits, total_copies, total_evictions);
}

}  // namespace
}  // namespace ingot::kv
