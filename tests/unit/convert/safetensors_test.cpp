// The safetensors reader on hand-made files: valid F32/F16/BF16 tensors read back, and every
// malformed header (short file, huge length, bad JSON, bad dtype, offsets past the data or not
// matching the shape) is an Error, never a crash.
#include "convert/safetensors.h"
#include "core/error.h"
#include "core/half.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace ingot::convert {
namespace {

std::vector<uint8_t> make_file(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return out;
}

std::vector<uint8_t> floats(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(Safetensors, ReadsF32F16Bf16) {
  std::vector<uint8_t> data = floats({1.0f, -2.0f, 3.5f, 0.25f});
  const uint16_t h[2] = {f32_to_f16(1.5f), f32_to_f16(-0.5f)};
  const uint16_t b[2] = {f32_to_bf16(2.0f), f32_to_bf16(-8.0f)};
  data.insert(data.end(), reinterpret_cast<const uint8_t*>(h), reinterpret_cast<const uint8_t*>(h) + 4);
  data.insert(data.end(), reinterpret_cast<const uint8_t*>(b), reinterpret_cast<const uint8_t*>(b) + 4);
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]}})";
  const auto bytes = make_file(header, data);
  const SafetensorsFile f = SafetensorsFile::from_bytes(bytes, "test");
  ASSERT_EQ(f.tensors().size(), 3u);
  float out[4];
  for (const StTensor& t : f.tensors()) {
    t.read_f32(0, t.n_elements, out);
    if (t.name == "a") {
      EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 2}));
      EXPECT_EQ(out[2], 3.5f);
    } else if (t.name == "h") {
      EXPECT_EQ(out[0], 1.5f);
      EXPECT_EQ(out[1], -0.5f);
    } else {
      EXPECT_EQ(out[0], 2.0f);
      EXPECT_EQ(out[1], -8.0f);
    }
  }
}

TEST(Safetensors, RejectsMalformedHeaders) {
  const std::vector<uint8_t> data = floats({1, 2, 3, 4});
  const std::vector<std::string> bad = {
      "not json",
      "[1,2]",
      R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,20]}})",   // past the data
      R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",   // size != shape
      R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[8,4]}})",    // begin > end
      R"({"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})",     // unsupported dtype
      R"({"a":{"dtype":"F32","shape":[-2,2],"data_offsets":[0,16]}})",  // negative dim
      R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})",
      R"({"a":{"dtype":"F32","data_offsets":[0,16]}})",                 // no shape
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}})",
  };
  for (const std::string& header : bad) {
    const auto bytes = make_file(header, data);
    EXPECT_THROW(SafetensorsFile::from_bytes(bytes, "test"), Error) << header;
  }
  std::vector<uint8_t> short_file = {1, 2, 3};
  EXPECT_THROW(SafetensorsFile::from_bytes(short_file, "test"), Error);
  std::vector<uint8_t> huge = make_file("{}", {});
  const uint64_t n = 1ull << 60;
  std::memcpy(huge.data(), &n, 8);
  EXPECT_THROW(SafetensorsFile::from_bytes(huge, "test"), Error);
  // Every truncation of a valid file is an error or a valid prefix, never a crash.
  const auto good = make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    std::vector<uint8_t> prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(SafetensorsFile::from_bytes(prefix, "test"), Error) << cut;
  }
}

}  // namespace
}  // namespace ingot::convert
