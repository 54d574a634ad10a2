// The 64-bit key of a full KV block in the prefix cache: a hash of the block's token ids chained
// with the hash of the block before it, so equal keys mean (almost surely) equal prefixes. The
// cache still compares tokens and parent identity on every hit, so a collision costs a miss,
// never wrong KV. Cost: a few multiplies per token.
#pragma once

#include <cstdint>
#include <span>

namespace ingot::kv {

// The parent hash of a sequence's first block.
inline constexpr uint64_t kRootBlockHash = 0x6a09e667f3bcc908ull;

namespace detail {
inline constexpr uint64_t mix64(uint64_t x) {  // a bijective avalanche finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}
inline constexpr uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
}  // namespace detail

// Hash of `tokens` given the hash of the previous block (kRootBlockHash for the first).
inline uint64_t hash_block(uint64_t parent_hash, std::span<const int32_t> tokens) {
  uint64_t h = detail::mix64(parent_hash ^ (0x9e3779b97f4a7c15ull * (tokens.size() + 1)));
  for (const int32_t token : tokens) {
    h ^= static_cast<uint32_t>(token);
    h = detail::rotl64(h * 0xff51afd7ed558ccdull, 29) + 0xc4ceb9fe1a85ec53ull;
  }
  return detail::mix64(h);
}

}  // namespace ingot::kv
