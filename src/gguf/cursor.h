// A bounds-checked little-endian reader over untrusted bytes, used only by the GGUF reader.
// Every read checks the remaining length first and fails with Error(invalid_file) naming what
// was being read and its offset; nothing is read past the end. Cost: one compare per read.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace ingot::gguf {

class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  uint64_t position() const noexcept { return position_; }
  uint64_t remaining() const noexcept { return bytes_.size() - position_; }
  const uint8_t* here() const noexcept { return bytes_.data() + position_; }

  // Fails unless n bytes remain.
  void require(uint64_t n, std::string_view what) const {
    if (n > remaining()) {
      fail(ErrorCode::invalid_file, "truncated file: {} at offset {} needs {} bytes, {} remain", what, position_,
           n, remaining());
    }
  }

  template <typename T>
  T read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    require(sizeof(T), what);
    T value;
    std::memcpy(&value, here(), sizeof(T));
    position_ += sizeof(T);
    return value;
  }

  // Returns a view of the next n bytes (checked) and moves past them.
  const uint8_t* take(uint64_t n, std::string_view what) {
    require(n, what);
    const uint8_t* p = here();
    position_ += n;
    return p;
  }

  // A GGUF string: a uint64 length, then that many bytes (not NUL-terminated).
  std::string_view read_string(std::string_view what) {
    const uint64_t start = position_;
    const uint64_t length = read<uint64_t>(what);
    if (length > remaining()) {
      fail(ErrorCode::invalid_file, "{} at offset {}: string length {} runs past the end of the file ({} bytes remain)",
           what, start, length, remaining());
    }
    const char* p = reinterpret_cast<const char*>(here());
    position_ += length;
    return {p, static_cast<size_t>(length)};
  }

 private:
  std::span<const uint8_t> bytes_;
  uint64_t position_ = 0;
};

}  // namespace ingot::gguf
