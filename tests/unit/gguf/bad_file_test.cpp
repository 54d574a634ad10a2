// Malformed files: each must fail with an Error whose code and message say what is wrong and
// where, never crash or allocate what the file claims. Also run under the asan preset.
#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "raw_gguf.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace ingot::gguf {
namespace {

using testing::expect_gguf_error;
using testing::RawGguf;

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ8_0 = 8;

// A small valid file whose last byte is the last byte of tensor data, so every strict prefix
// is invalid.
std::vector<uint8_t> small_valid_file() {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.context_length", 4096);
  const std::vector<std::string> tokens{"<s>", "</s>", "hello", ""};
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  const std::vector<Array> nested{Array::of<int32_t>(std::vector<int32_t>{1, 2}), Array::of_strings(tokens)};
  w.set_array("nested", Array::of_arrays(nested));
  const std::vector<uint8_t> a(8 * 4, 1);
  const std::vector<uint8_t> b(32 * 4, 2);
  const int64_t dims_a[] = {8};
  const int64_t dims_b[] = {4, 8};
  w.add_tensor("a", quant::Type::F32, dims_a, a);
  w.add_tensor("b", quant::Type::F32, dims_b, b);
  return w.to_bytes();
}

TEST(BadFiles, EveryTruncationIsAnError) {
  const std::vector<uint8_t> full = small_valid_file();
  ASSERT_NO_THROW(File::from_bytes(full));
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      File::from_bytes(prefix);
      ADD_FAILURE() << "a " << n << "-byte prefix opened";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_file) << n << ": " << e.what();
      EXPECT_NE(std::string(e.what()).size(), 0u);
    }
  }
}

TEST(BadFiles, WrongMagicAndVersions) {
  std::vector<uint8_t> bytes = small_valid_file();
  bytes[0] = 'X';
  expect_gguf_error(bytes, ErrorCode::invalid_file, {"not a GGUF file", "58 47 55 46"});
  expect_gguf_error({'G', 'G'}, ErrorCode::invalid_file, {"too short"});
  expect_gguf_error(RawGguf{}.header(0, 0, 1).bytes, ErrorCode::unsupported, {"version 1"});
  expect_gguf_error(RawGguf{}.header(0, 0, 4).bytes, ErrorCode::unsupported, {"version 4", "2 and 3"});
  expect_gguf_error(RawGguf{}.header(0, 0, 0x03000000).bytes, ErrorCode::unsupported,
                    {"big-endian GGUF files are not supported"});
  // A whole big-endian file: every field byte-swapped after the magic.
  RawGguf be;
  be.u32(kMagic).u32(__builtin_bswap32(3)).u64(__builtin_bswap64(0)).u64(__builtin_bswap64(1));
  expect_gguf_error(be.bytes, ErrorCode::unsupported, {"big-endian GGUF files are not supported"});
  // Version 2 files (same layout as 3 for little-endian) are accepted.
  EXPECT_EQ(File::from_buffer(RawGguf{}.header(0, 1, 2).kv_u32("k", 1).bytes).version(), 2u);
}

TEST(BadFiles, HugeCountsFailFastWithoutAllocating) {
  const auto start = std::chrono::steady_clock::now();
  expect_gguf_error(RawGguf{}.header(0, 1ull << 62).bytes, ErrorCode::invalid_file, {"metadata count"});
  expect_gguf_error(RawGguf{}.header(1ull << 62, 0).bytes, ErrorCode::invalid_file, {"tensor count"});
  expect_gguf_error(RawGguf{}.header(~0ull, ~0ull).bytes, ErrorCode::invalid_file, {"count"});
  // An array claiming 2^62 strings.
  RawGguf strings;
  strings.header(0, 1).str("tokenizer.ggml.tokens").u32(9).u32(8).u64(1ull << 62).str("a");
  expect_gguf_error(strings.bytes, ErrorCode::invalid_file, {"tokenizer.ggml.tokens", "strings cannot fit"});
  // 2^62 uint64 items: the byte count overflows.
  RawGguf numbers;
  numbers.header(0, 1).str("n").u32(9).u32(10).u64(1ull << 62);
  expect_gguf_error(numbers.bytes, ErrorCode::invalid_file, {"'n'", "overflows"});
  RawGguf ints;
  ints.header(0, 1).str("n").u32(9).u32(4).u64(1000).u32(1);
  expect_gguf_error(ints.bytes, ErrorCode::invalid_file, {"'n'", "run past the end"});
  RawGguf arrays;
  arrays.header(0, 1).str("nested").u32(9).u32(9).u64(1ull << 61);
  expect_gguf_error(arrays.bytes, ErrorCode::invalid_file, {"'nested'", "arrays cannot fit"});
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 100.0);
}

TEST(BadFiles, StringLengthsPastTheEnd) {
  RawGguf key;
  key.header(0, 1).u64(1ull << 40).u32(0).data(64);
  expect_gguf_error(key.bytes, ErrorCode::invalid_file, {"key of metadata entry #0", "string length 1099511627776"});
  RawGguf value;
  value.header(0, 1).str("general.name").u32(8).u64(~0ull);
  expect_gguf_error(value.bytes, ErrorCode::invalid_file, {"general.name", "runs past the end"});
  RawGguf name;
  name.header(1, 0).u64(100).u32(1).u64(0).u64(0);
  expect_gguf_error(name.bytes, ErrorCode::invalid_file, {"name of tensor #0", "runs past the end"});
}

TEST(BadFiles, UnknownValueTypes) {
  RawGguf scalar;
  scalar.header(0, 1).str("k").u32(13).u32(0);
  expect_gguf_error(scalar.bytes, ErrorCode::invalid_file, {"'k'", "unknown value type id 13"});
  RawGguf element;
  element.header(0, 1).str("k").u32(9).u32(99).u64(0);
  expect_gguf_error(element.bytes, ErrorCode::invalid_file, {"'k'", "unknown element type id 99"});
}

TEST(BadFiles, DeeplyNestedArrays) {
  RawGguf deep;
  deep.header(0, 1).str("deep").u32(9);
  for (int i = 0; i < 100; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  expect_gguf_error(deep.bytes, ErrorCode::invalid_file, {"'deep'", "nest deeper"});
}

TEST(BadFiles, DuplicateKeysAndTensorNames) {
  expect_gguf_error(RawGguf{}.header(0, 2).kv_u32("k", 1).kv_u32("k", 2).bytes, ErrorCode::invalid_file,
                    {"'k'", "duplicate key"});
  RawGguf tensors;
  tensors.header(2, 0).tensor("w", {8}, kF32, 0).tensor("w", {8}, kF32, 32).data(64);
  expect_gguf_error(tensors.bytes, ErrorCode::invalid_file, {"'w'", "duplicate tensor name"});
}

TEST(BadFiles, BadShapes) {
  RawGguf huge;  // 2^63 elements
  huge.header(1, 0).tensor("huge", {1ull << 32, 1ull << 31}, kF32, 0).data(64);
  expect_gguf_error(huge.bytes, ErrorCode::invalid_file, {"'huge'", "elements"});
  RawGguf dim;
  dim.header(1, 0).tensor("dim", {1ull << 63}, kF32, 0).data(64);
  expect_gguf_error(dim.bytes, ErrorCode::invalid_file, {"'dim'", "dimension 0"});
  RawGguf overflow;
  overflow.header(1, 0).tensor("overflow", {1ull << 40, 1ull << 40}, kF32, 0).data(64);
  expect_gguf_error(overflow.bytes, ErrorCode::invalid_file, {"'overflow'", "overflows"});
  RawGguf bytes_overflow;  // elements fit, bytes do not
  bytes_overflow.header(1, 0).tensor("wide", {1ull << 31, 1ull << 31}, kF32, 0).data(64);
  expect_gguf_error(bytes_overflow.bytes, ErrorCode::invalid_file, {"'wide'"});
  RawGguf n_dims;
  n_dims.header(1, 0).tensor("five", {1, 1, 1, 1, 1}, kF32, 0).data(64);
  expect_gguf_error(n_dims.bytes, ErrorCode::invalid_file, {"'five'", "5 dimensions"});
  RawGguf blocks;
  blocks.header(1, 0).tensor("q", {33}, kQ8_0, 0).data(64);
  expect_gguf_error(blocks.bytes, ErrorCode::invalid_file, {"'q'", "not a multiple", "Q8_0"});
}

TEST(BadFiles, UnknownTensorTypes) {
  for (uint32_t id : {4u, 5u, 31u, 1000u, 0xffffffffu}) {
    RawGguf f;
    f.header(1, 0).tensor("blk.0.weight", {32}, id, 0).data(64);
    expect_gguf_error(f.bytes, ErrorCode::unsupported, {"'blk.0.weight'", fmt::format("type id {}", id)});
  }
}

TEST(BadFiles, BadOffsets) {
  RawGguf misaligned;
  misaligned.header(1, 0).tensor("m", {4}, kF32, 4).data(64);
  expect_gguf_error(misaligned.bytes, ErrorCode::invalid_file, {"'m'", "not a multiple of the alignment 32"});
  RawGguf past_end;
  past_end.header(1, 0).tensor("p", {32}, kF32, 64).data(64);
  expect_gguf_error(past_end.bytes, ErrorCode::invalid_file, {"'p'", "past the end"});
  RawGguf wraps;
  wraps.header(1, 0).tensor("w", {8}, kF32, ~0ull - 31).data(64);
  expect_gguf_error(wraps.bytes, ErrorCode::invalid_file, {"offset"});
  RawGguf overlap;
  overlap.header(2, 0).tensor("x", {16}, kF32, 0).tensor("y", {8}, kF32, 32).data(96);
  expect_gguf_error(overlap.bytes, ErrorCode::invalid_file, {"'x'", "'y'", "overlap"});
  RawGguf same;
  same.header(2, 0).tensor("x", {8}, kF32, 0).tensor("y", {8}, kF32, 0).data(64);
  expect_gguf_error(same.bytes, ErrorCode::invalid_file, {"overlap"});
  // Touching but not overlapping is fine, in any order.
  RawGguf touching;
  touching.header(2, 0).tensor("y", {8}, kF32, 32).tensor("x", {8}, kF32, 0).data(64);
  EXPECT_EQ(File::from_bytes(touching.bytes).tensors().size(), 2u);
}

TEST(BadFiles, BadAlignmentValues) {
  expect_gguf_error(RawGguf{}.header(0, 1).kv_u32("general.alignment", 0).bytes, ErrorCode::invalid_file,
                    {"general.alignment", "is 0", "power of two"});
  expect_gguf_error(RawGguf{}.header(0, 1).kv_u32("general.alignment", 48).bytes, ErrorCode::invalid_file,
                    {"is 48"});
  RawGguf negative;
  negative.header(0, 1).str("general.alignment").u32(5).u32(static_cast<uint32_t>(-32));
  expect_gguf_error(negative.bytes, ErrorCode::invalid_file, {"is -32"});
  RawGguf text;
  text.header(0, 1).str("general.alignment").u32(8).str("32");
  expect_gguf_error(text.bytes, ErrorCode::invalid_file, {"general.alignment", "string"});
  RawGguf big;
  big.header(0, 1).str("general.alignment").u32(10).u64(1ull << 40);
  expect_gguf_error(big.bytes, ErrorCode::invalid_file, {"general.alignment", "1099511627776"});
  // A valid custom alignment moves the data section.
  RawGguf ok;
  ok.header(1, 1).kv_u32("general.alignment", 256).tensor("t", {4}, kF32, 0).data(16, 256);
  const File f = File::from_buffer(ok.bytes);
  EXPECT_EQ(f.alignment(), 256u);
  EXPECT_EQ(f.data_offset(), 256u);
}

TEST(BadFiles, CorruptingEveryByteNeverCrashes) {
  // Each byte of the header and metadata set to a few hostile values: open either succeeds
  // or throws ingot::Error (anything else fails the test; crashes fail it under asan).
  const std::vector<uint8_t> full = small_valid_file();
  const File valid = File::from_bytes(full);
  size_t n_errors = 0;
  for (size_t i = 0; i < valid.data_offset(); ++i) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}, static_cast<uint8_t>(full[i] + 1)}) {
      std::vector<uint8_t> bytes = full;
      bytes[i] = v;
      try {
        const File f = File::from_bytes(bytes);
        for (const auto& t : f.tensors()) ASSERT_LE(t.data().data() + t.n_bytes, bytes.data() + bytes.size());
      } catch (const Error&) {
        ++n_errors;
      }
    }
  }
  EXPECT_GT(n_errors, valid.data_offset());
}

}  // namespace
}  // namespace ingot::gguf
