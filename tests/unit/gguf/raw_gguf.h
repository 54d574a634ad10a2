// Test helpers: RawGguf builds GGUF bytes field by field (to write files our Writer refuses to
// produce), and expect_gguf_error checks that opening bytes fails with a given code and message.
#pragma once

#include "core/error.h"
#include "gguf/file.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::gguf::testing {

struct RawGguf {
  std::vector<uint8_t> bytes;

  template <typename T>
  RawGguf& put(T v) {
    const size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &v, sizeof(T));
    return *this;
  }
  RawGguf& u32(uint32_t v) { return put(v); }
  RawGguf& u64(uint64_t v) { return put(v); }
  RawGguf& str(std::string_view s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return u32(kMagic).u32(version).u64(n_tensors).u64(n_kv);
  }
  // A metadata entry with a uint32 value.
  RawGguf& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  RawGguf& tensor(std::string_view name, std::initializer_list<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  // Pads to `alignment`, then appends n zero bytes of tensor data.
  RawGguf& data(size_t n, size_t alignment = 32) {
    bytes.resize((bytes.size() + alignment - 1) / alignment * alignment + n, 0);
    return *this;
  }
};

// Opening `bytes` must throw Error with `code` and a message containing each of `parts`.
inline void expect_gguf_error(const std::vector<uint8_t>& bytes, ErrorCode code,
                              std::initializer_list<std::string_view> parts) {
  try {
    File::from_bytes(bytes);
    ADD_FAILURE() << "opened without an error";
  } catch (const Error& e) {
    EXPECT_EQ(to_string(e.code()), to_string(code)) << e.what();
    for (std::string_view part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "'" << part << "' not in: " << e.what();
    }
  }
}

}  // namespace ingot::gguf::testing
