// Writer -> reader round trips: every metadata type (scalars at their limits, empty and unicode
// strings, empty and nested arrays), tensors of every type in the type table, custom
// alignment, streamed (producer) tensors, files on disk, and copying a file through set_value.
#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace ingot::gguf {
namespace {

template <typename T>
using lim = std::numeric_limits<T>;

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed + i * 7);
  return out;
}

Writer every_metadata_type() {
  Writer w;
  w.set_u8("u8", lim<uint8_t>::max());
  w.set_i8("i8", lim<int8_t>::min());
  w.set_u16("u16", lim<uint16_t>::max());
  w.set_i16("i16", lim<int16_t>::min());
  w.set_u32("u32", lim<uint32_t>::max());
  w.set_i32("i32", lim<int32_t>::min());
  w.set_f32("f32", 3.25f);
  w.set_bool("bool.true", true);
  w.set_bool("bool.false", false);
  w.set_string("string", "hello");
  w.set_string("string.empty", "");
  w.set_string("string.unicode", "héllo wörld ✓ 日本語 🦙");
  w.set_u64("u64", lim<uint64_t>::max());
  w.set_i64("i64", lim<int64_t>::min());
  w.set_f64("f64", -1.0e300);
  const std::vector<uint8_t> u8s{0, 1, 255};
  const std::vector<int8_t> i8s{-128, 0, 127};
  const std::vector<uint16_t> u16s{0, 65535};
  const std::vector<int16_t> i16s{-32768, 32767};
  const std::vector<uint32_t> u32s{0, 1, lim<uint32_t>::max()};
  const std::vector<int32_t> i32s{-1, 0, 1, lim<int32_t>::max()};
  const std::vector<float> f32s{0.5f, -0.0f, lim<float>::infinity()};
  const std::vector<uint64_t> u64s{lim<uint64_t>::max(), 0};
  const std::vector<int64_t> i64s{lim<int64_t>::min(), 5};
  const std::vector<double> f64s{1.5, -2.25};
  const bool bools[] = {true, false, true};
  w.set_array("a.u8", Array::of<uint8_t>(u8s));
  w.set_array("a.i8", Array::of<int8_t>(i8s));
  w.set_array("a.u16", Array::of<uint16_t>(u16s));
  w.set_array("a.i16", Array::of<int16_t>(i16s));
  w.set_array("a.u32", Array::of<uint32_t>(u32s));
  w.set_array("a.i32", Array::of<int32_t>(i32s));
  w.set_array("a.f32", Array::of<float>(f32s));
  w.set_array("a.u64", Array::of<uint64_t>(u64s));
  w.set_array("a.i64", Array::of<int64_t>(i64s));
  w.set_array("a.f64", Array::of<double>(f64s));
  w.set_array("a.bool", Array::of_bools(bools));
  w.set_array("a.empty", Array::of<int32_t>({}));
  const std::vector<std::string> strings{"a", "", "ünïcödé", std::string("nul\0inside", 10)};
  w.set_string_array("a.string", strings);
  w.set_string_array("a.string.empty", {});
  const std::vector<std::string> inner{"x", "yz"};
  const std::vector<Array> nested{Array::of<uint32_t>(u32s), Array::of_strings(inner), Array::of<float>({}),
                                  Array::of_arrays(std::vector<Array>{Array::of<int8_t>(i8s)})};
  w.set_array("a.nested", Array::of_arrays(nested));
  w.set_array("a.nested.empty", Array::of_arrays({}));
  return w;
}

TEST(WriterRoundTrip, EveryMetadataType) {
  const File f = File::from_buffer(every_metadata_type().to_bytes());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 31u);
  EXPECT_EQ(f.get("u8").type(), ValueType::uint8);
  EXPECT_EQ(f.get_u32("u8"), 255u);
  EXPECT_EQ(f.get_i32("i8"), -128);
  EXPECT_EQ(f.get_u32("u16"), 65535u);
  EXPECT_EQ(f.get_i32("i16"), -32768);
  EXPECT_EQ(f.get_u32("u32"), lim<uint32_t>::max());
  EXPECT_EQ(f.get_i32("i32"), lim<int32_t>::min());
  EXPECT_EQ(f.get_f32("f32"), 3.25f);
  EXPECT_TRUE(f.get_bool("bool.true"));
  EXPECT_FALSE(f.get_bool("bool.false"));
  EXPECT_EQ(f.get_string("string"), "hello");
  EXPECT_EQ(f.get_string("string.empty"), "");
  EXPECT_EQ(f.get_string("string.unicode"), "héllo wörld ✓ 日本語 🦙");
  EXPECT_EQ(f.get_u64("u64"), lim<uint64_t>::max());
  EXPECT_EQ(f.get_i64("i64"), lim<int64_t>::min());
  EXPECT_EQ(f.get("f64").as_f64(), -1.0e300);
  EXPECT_EQ(f.get("f64").type(), ValueType::float64);

  EXPECT_EQ(f.get_u32_array("a.u8"), (std::vector<uint32_t>{0, 1, 255}));
  EXPECT_EQ(f.get_i32_array("a.i8"), (std::vector<int32_t>{-128, 0, 127}));
  EXPECT_EQ(f.get_u32_array("a.u16"), (std::vector<uint32_t>{0, 65535}));
  EXPECT_EQ(f.get_i32_array("a.i16"), (std::vector<int32_t>{-32768, 32767}));
  EXPECT_EQ(f.get_u32_array("a.u32"), (std::vector<uint32_t>{0, 1, lim<uint32_t>::max()}));
  EXPECT_EQ(f.get_i32_array("a.i32"), (std::vector<int32_t>{-1, 0, 1, lim<int32_t>::max()}));
  const auto f32s = f.get_f32_array("a.f32");
  ASSERT_EQ(f32s.size(), 3u);
  EXPECT_EQ(f32s[0], 0.5f);
  EXPECT_TRUE(std::signbit(f32s[1]));
  EXPECT_TRUE(std::isinf(f32s[2]));
  EXPECT_EQ(f.get("a.u64").element(0).as_u64(), lim<uint64_t>::max());
  EXPECT_EQ(f.get_i64_array("a.i64"), (std::vector<int64_t>{lim<int64_t>::min(), 5}));
  EXPECT_EQ(f.get_f32_array("a.f64"), (std::vector<float>{1.5f, -2.25f}));
  const Value& bools = f.get("a.bool");
  EXPECT_EQ(bools.element_type(), ValueType::boolean);
  ASSERT_EQ(bools.size(), 3u);
  EXPECT_TRUE(bools.element(0).as_bool());
  EXPECT_FALSE(bools.element(1).as_bool());
  EXPECT_EQ(f.array_size("a.empty"), 0u);
  EXPECT_TRUE(f.get_i32_array("a.empty").empty());

  const auto strings = f.get_string_array("a.string");
  ASSERT_EQ(strings.size(), 4u);
  EXPECT_EQ(strings[0], "a");
  EXPECT_EQ(strings[1], "");
  EXPECT_EQ(strings[2], "ünïcödé");
  EXPECT_EQ(strings[3], std::string_view("nul\0inside", 10));
  EXPECT_TRUE(f.get_string_array("a.string.empty").empty());

  const Value& nested = f.get("a.nested");
  ASSERT_EQ(nested.element_type(), ValueType::array);
  ASSERT_EQ(nested.arrays().size(), 4u);
  EXPECT_EQ(nested.arrays()[0].element_type(), ValueType::uint32);
  EXPECT_EQ(nested.arrays()[0].element(2).as_u32(), lim<uint32_t>::max());
  ASSERT_EQ(nested.arrays()[1].strings().size(), 2u);
  EXPECT_EQ(nested.arrays()[1].strings()[1], "yz");
  EXPECT_EQ(nested.arrays()[2].size(), 0u);
  EXPECT_EQ(nested.arrays()[2].element_type(), ValueType::float32);
  ASSERT_EQ(nested.arrays()[3].arrays().size(), 1u);
  EXPECT_EQ(nested.arrays()[3].arrays()[0].element(0).as_i32(), -128);
  EXPECT_EQ(f.get("a.nested.empty").size(), 0u);
  EXPECT_TRUE(f.tensors().empty());
}

TEST(WriterRoundTrip, TypedGettersConvertIntegersWhereTheyFitAndNameTheKey) {
  Writer w;
  w.set_i32("negative", -5);
  w.set_u64("big", 1ull << 40);
  w.set_f64("double", 0.125);
  w.set_string("text", "t");
  const File f = File::from_buffer(w.to_bytes());
  EXPECT_EQ(f.get_i64("negative"), -5);
  EXPECT_EQ(f.get_u64("big"), 1ull << 40);
  EXPECT_EQ(f.get_f32("double"), 0.125f);
  for (auto get : {+[](const File& f) { f.get_u32("negative"); }, +[](const File& f) { f.get_u32("big"); },
                   +[](const File& f) { f.get_i32("big"); }, +[](const File& f) { f.get_f32("text"); },
                   +[](const File& f) { f.get_bool("text"); }, +[](const File& f) { f.get_string_array("text"); }}) {
    try {
      get(f);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("metadata key '"), std::string::npos) << e.what();
    }
  }
  try {
    f.get_u32("missing");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(std::string(e.what()).find("'missing'"), std::string::npos);
  }
  EXPECT_EQ(f.get_string_or("missing", "fallback"), "fallback");
  EXPECT_EQ(f.get_bool_or("missing", true), true);
  EXPECT_THROW(f.get_u32_or("negative", 3), Error);  // present but wrong: still an error
}

TEST(WriterRoundTrip, TensorsOfEveryTypeInTheTable) {
  Writer w;
  std::vector<std::vector<uint8_t>> payloads;
  for (const auto& t : quant::all_types()) {
    const int64_t dims[] = {static_cast<int64_t>(t.block_elements) * 2, 3};
    payloads.push_back(pattern(2 * 3 * t.block_bytes, static_cast<uint8_t>(t.type)));
    w.add_tensor(fmt::format("t.{}", t.name), t.type, dims, payloads.back());
  }
  const File f = File::from_buffer(w.to_bytes());
  ASSERT_EQ(f.tensors().size(), quant::all_types().size());
  size_t i = 0;
  for (const auto& t : quant::all_types()) {
    SCOPED_TRACE(t.name);
    const Tensor& read = f.tensor(fmt::format("t.{}", t.name));
    EXPECT_EQ(read.type, t.type);
    ASSERT_EQ(read.n_dims, 2u);
    EXPECT_EQ(read.dims[0], static_cast<int64_t>(t.block_elements) * 2);
    EXPECT_EQ(read.dims[1], 3);
    EXPECT_EQ(read.n_elements, t.block_elements * 6u);
    EXPECT_EQ(read.n_bytes, payloads[i].size());
    EXPECT_EQ((read.data_ptr - f.bytes().data()) % f.alignment(), 0);
    EXPECT_EQ(std::vector<uint8_t>(read.data().begin(), read.data().end()), payloads[i]);
    ++i;
  }
}

TEST(WriterRoundTrip, AlignmentShapesAndProducersOnDisk) {
  Writer w;
  w.set_alignment(64);
  w.set_string("general.architecture", "test");
  const int64_t scalar_dims[] = {1};
  const std::vector<uint8_t> one = pattern(4, 1);
  w.add_tensor("scalar", quant::Type::F32, scalar_dims, one);
  const int64_t dims4[] = {32, 2, 3, 4};
  int calls = 0;
  w.add_tensor("streamed", quant::Type::Q8_0, dims4, [&](std::span<uint8_t> out) {
    ++calls;
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i);
  });
  w.add_tensor("no.dims", quant::Type::F16, std::span<const int64_t>{}, pattern(2, 9));
  const int64_t empty_dims[] = {0, 5};
  w.add_tensor("empty", quant::Type::F32, empty_dims, std::span<const uint8_t>{});
  const std::string path = ::testing::TempDir() + "/gguf_roundtrip.gguf";
  w.write(path);
  EXPECT_EQ(calls, 1);
  const File f = File::open(path);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.get_u32("general.alignment"), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  const Tensor& s = f.tensor("streamed");
  EXPECT_EQ(s.n_dims, 4u);
  EXPECT_EQ(s.n_elements, 32u * 24);
  EXPECT_EQ(s.n_bytes, 34u * 24);
  EXPECT_EQ(s.offset % 64, 0u);
  for (size_t i = 0; i < s.n_bytes; ++i) ASSERT_EQ(s.data()[i], static_cast<uint8_t>(i));
  EXPECT_EQ(f.tensor("no.dims").n_dims, 0u);
  EXPECT_EQ(f.tensor("no.dims").n_elements, 1u);
  EXPECT_EQ(f.tensor("empty").n_bytes, 0u);
  EXPECT_EQ(f.tensor("scalar").data()[0], one[0]);
  EXPECT_EQ(f.find_tensor("absent"), nullptr);
  EXPECT_THROW(f.tensor("absent"), Error);
  std::remove(path.c_str());
}

TEST(WriterRoundTrip, CopyingEveryValueAndTensorReproducesTheBytes) {
  Writer original = every_metadata_type();
  original.set_alignment(16);
  const int64_t dims[] = {64, 2};
  original.add_tensor("w", quant::Type::Q4_0, dims, pattern(2 * 2 * 18, 3));
  const std::vector<uint8_t> bytes = original.to_bytes();
  const File f = File::from_bytes(bytes);
  Writer copy;
  for (const KeyValue& kv : f.metadata()) copy.set_value(kv.key, kv.value);
  for (const Tensor& t : f.tensors()) copy.add_tensor(t.name, t.type, t.shape(), t.data());
  EXPECT_EQ(copy.to_bytes(), bytes);
}

TEST(WriterRoundTrip, ReplacingAndRemovingKeys) {
  Writer w;
  w.set_u32("a", 1);
  w.set_u32("b", 2);
  w.set_string("a", "again");
  EXPECT_TRUE(w.remove("b"));
  EXPECT_FALSE(w.remove("b"));
  w.set_u32("c", 3);
  const File f = File::from_buffer(w.to_bytes());
  ASSERT_EQ(f.metadata().size(), 2u);
  EXPECT_EQ(f.metadata()[0].key, "a");
  EXPECT_EQ(f.get_string("a"), "again");
  EXPECT_EQ(f.get_u32("c"), 3u);
}

TEST(WriterRoundTrip, WriterRejectsBadInput) {
  Writer w;
  EXPECT_THROW(w.set_alignment(0), Error);
  EXPECT_THROW(w.set_alignment(48), Error);
  EXPECT_THROW(w.set_u32("general.alignment", 64), Error);
  const int64_t dims[] = {32};
  w.add_tensor("x", quant::Type::F32, dims, pattern(128, 0));
  EXPECT_THROW(w.add_tensor("x", quant::Type::F32, dims, pattern(128, 0)), Error);     // duplicate
  EXPECT_THROW(w.add_tensor("y", quant::Type::F32, dims, pattern(100, 0)), Error);     // wrong size
  const int64_t odd[] = {33};
  EXPECT_THROW(w.add_tensor("z", quant::Type::Q8_0, odd, pattern(34, 0)), Error);      // not whole blocks
  const int64_t five[] = {1, 1, 1, 1, 1};
  EXPECT_THROW(w.add_tensor("v", quant::Type::F32, five, pattern(4, 0)), Error);       // too many dims
  const int64_t negative[] = {-1};
  EXPECT_THROW(w.add_tensor("n", quant::Type::F32, negative, pattern(4, 0)), Error);
  EXPECT_EQ(w.tensor_count(), 1u);
  EXPECT_THROW(w.write("/nonexistent-dir/x.gguf"), Error);
}

}  // namespace
}  // namespace ingot::gguf
