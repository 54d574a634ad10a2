// Bit-exactness with llama.cpp: the FNV-1a 64 hash of each type's quantization of the fixed test
// input (test_data.h). Every hash here was confirmed equal to the bytes ggml's own quantizer
// (ggml_quantize_chunk / quantize_row_*_ref, ggml commit d99724f) writes for the same input, by
// an out-of-tree comparison program; see docs/QUANT.md. A change that alters any byte fails here.
#include "quant/quant.h"
#include "quant/test_data.h"

#include <gtest/gtest.h>

#include <vector>

namespace ingot::quant {
namespace {

struct Pinned {
  const char* type;
  uint64_t fnv1a64;
};

constexpr Pinned kPinned[] = {
    {"F32", 0xb15ae612f91396dbull},    {"F16", 0x97d9755d7d2b5894ull},    {"BF16", 0xcca3ea1a7a0543afull},
    {"Q4_0", 0xb549f6245fcab1b2ull},   {"Q4_1", 0x8aff21ff188d302bull},   {"Q5_0", 0x0c2bc1654604e179ull},
    {"Q5_1", 0xe9b3b25324873718ull},   {"Q8_0", 0xd3995905c907922dull},   {"Q8_1", 0x2fe0d8d38760fc2cull},
    {"Q2_K", 0xae4f531f62ecb9f1ull},   {"Q3_K", 0x47ca9b91a837c537ull},   {"Q4_K", 0x3816b3f4375980d1ull},
    {"Q5_K", 0xa8ffeb9634dca824ull},   {"Q6_K", 0xea7ceca7482c4ea3ull},   {"Q8_K", 0x0c49259ed622ef17ull},
    {"IQ4_NL", 0x321793093bf806f3ull}, {"IQ4_XS", 0xe995f1deb95a89efull}, {"MXFP4", 0x0e5825f6f33470b8ull},
};

std::vector<uint8_t> quantize_with(const TypeOps& o, const std::vector<float>& x) {
  const TypeTraits& t = traits(o.type);
  std::vector<uint8_t> out(x.size() / t.block_elements * t.block_bytes);
  o.quantize_row(x.data(), out.data(), static_cast<int64_t>(x.size()));
  return out;
}

TEST(QuantChecksum, ReferenceQuantizersMatchLlamaCppBytes) {
  const std::vector<float> x = testing::make_test_data(testing::kChecksumElements, testing::kChecksumSeed);
  for (const Pinned& p : kPinned) {
    const Type type = *type_from_name(p.type);
    const std::vector<uint8_t> q = quantize_with(reference_ops(type), x);
    EXPECT_EQ(testing::fnv1a64(q.data(), q.size()), p.fnv1a64) << p.type;
  }
}

TEST(QuantChecksum, DispatchedQuantizersMatchTooIncludingSimd) {
  const std::vector<float> x = testing::make_test_data(testing::kChecksumElements, testing::kChecksumSeed);
  for (const Pinned& p : kPinned) {
    const Type type = *type_from_name(p.type);
    const std::vector<uint8_t> q = quantize_with(ops(type), x);
    EXPECT_EQ(testing::fnv1a64(q.data(), q.size()), p.fnv1a64) << p.type << " via " << simd_path();
  }
}

}  // namespace
}  // namespace ingot::quant
