// Deterministic test inputs for the quant tests (and for the out-of-tree comparison against
// llama.cpp that produced the pinned checksums): a splitmix64 stream turned into roughly
// Gaussian floats, with blocks of zeros, constants, outliers and tiny values mixed in, and the
// FNV-1a 64 hash the checksums use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ingot::quant::testing {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [-1, 1), exactly representable (24-bit grid).
inline float uniform(uint64_t& state) {
  return static_cast<float>(static_cast<int32_t>(splitmix64(state) >> 40) - (1 << 23)) / static_cast<float>(1 << 23);
}

// Approximately N(0, 1): a sum of four uniforms, scaled.
inline float gaussian(uint64_t& state) {
  return (uniform(state) + uniform(state) + uniform(state) + uniform(state)) * 0.8660254f;
}

// n floats (n a multiple of 32). Block b of 32 is: all zero when b % 11 == 5, constant when
// b % 13 == 7, tiny (1e-6 scale) when b % 17 == 3, has one outlier x 40 when b % 5 == 1, and
// is Gaussian with a per-block scale otherwise.
inline std::vector<float> make_test_data(size_t n, uint64_t seed) {
  std::vector<float> x(n);
  uint64_t state = seed;
  for (size_t b = 0; b < n / 32; ++b) {
    float* block = x.data() + 32 * b;
    const float scale = 0.02f + 0.5f * (uniform(state) + 1.0f);
    for (int j = 0; j < 32; ++j) block[j] = scale * gaussian(state);
    if (b % 11 == 5) {
      for (int j = 0; j < 32; ++j) block[j] = 0.0f;
    } else if (b % 13 == 7) {
      for (int j = 0; j < 32; ++j) block[j] = scale;
    } else if (b % 17 == 3) {
      for (int j = 0; j < 32; ++j) block[j] *= 1e-6f;
    } else if (b % 5 == 1) {
      block[splitmix64(state) % 32] *= 40.0f;
    }
  }
  return x;
}

inline uint64_t fnv1a64(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

// The input the checksum test and the llama.cpp comparison use.
inline constexpr size_t kChecksumElements = 16 * 1024;
inline constexpr uint64_t kChecksumSeed = 20261125;

}  // namespace ingot::quant::testing
