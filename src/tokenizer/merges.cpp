#include "tokenizer/merges.h"

#include <algorithm>
#include <queue>

namespace ingot::tokenizer {

namespace {

uint64_t pair_key(TokenId left, TokenId right) noexcept {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

uint64_t hash_key(uint64_t key) noexcept {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ULL;
  key ^= key >> 33;
  return key;
}

}  // namespace

void MergeTable::build(const std::vector<std::string>& merges,
                       const std::function<TokenId(std::string_view)>& find_id) {
  size_t capacity = 16;
  while (capacity < merges.size() * 2) capacity <<= 1;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  n_entries_ = 0;
  n_skipped_ = 0;
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos) {
      ++n_skipped_;
      continue;
    }
    const std::string_view left(m.data(), space);
    const std::string_view right(m.data() + space + 1, m.size() - space - 1);
    const TokenId l = find_id(left);
    const TokenId r = find_id(right);
    joined.assign(left);
    joined.append(right);
    const TokenId result = find_id(joined);
    if (l == no_token || r == no_token || result == no_token) {
      ++n_skipped_;
      continue;
    }
    const uint64_t key = pair_key(l, r);
    uint64_t i = hash_key(key) & mask_;
    while (slots_[i].key != ~uint64_t{0} && slots_[i].key != key) i = (i + 1) & mask_;
    if (slots_[i].key == key) continue;  // a repeated pair keeps its first (lowest) rank
    slots_[i].key = key;
    slots_[i].merge = {static_cast<int32_t>(rank), result};
    ++n_entries_;
  }
}

const MergeTable::Merge* MergeTable::find(TokenId left, TokenId right) const noexcept {
  if (n_entries_ == 0) return nullptr;
  const uint64_t key = pair_key(left, right);
  uint64_t i = hash_key(key) & mask_;
  while (true) {
    const Slot& s = slots_[i];
    if (s.key == key) return &s.merge;
    if (s.key == ~uint64_t{0}) return nullptr;
    i = (i + 1) & mask_;
  }
}

void apply_merges(const MergeTable& table, std::vector<TokenId>& symbols) {
  const size_t n = symbols.size();
  if (n < 2) return;
  if (n == 2) {  // the common short case, without the heap
    if (const auto* m = table.find(symbols[0], symbols[1])) symbols = {m->result};
    return;
  }
  struct Candidate {
    int32_t rank;
    int32_t left;   // index of the left symbol
    TokenId left_id;
    TokenId right_id;
    bool operator>(const Candidate& o) const noexcept {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::vector<int32_t> next(n), prev(n);
  for (size_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    prev[i] = static_cast<int32_t>(i) - 1;
  }
  std::vector<TokenId>& ids = symbols;
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](int32_t left) {
    if (left < 0) return;
    const int32_t right = next[left];
    if (right < 0) return;
    if (const auto* m = table.find(ids[left], ids[right])) heap.push({m->rank, left, ids[left], ids[right]});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  std::vector<bool> alive(n, true);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    if (!alive[c.left]) continue;
    const int32_t right = next[c.left];
    if (right < 0 || ids[c.left] != c.left_id || ids[right] != c.right_id) continue;  // stale
    const auto* m = table.find(c.left_id, c.right_id);
    ids[c.left] = m->result;
    alive[right] = false;
    next[c.left] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.left;
    push(prev[c.left]);
    push(c.left);
  }
  size_t out = 0;
  for (int32_t i = 0; i >= 0; i = next[i]) ids[out++] = ids[i];
  ids.resize(out);
}

}  // namespace ingot::tokenizer
