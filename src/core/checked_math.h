// Overflow-safe size arithmetic for everything computed from untrusted input (file headers,
// request fields). Each helper throws Error(invalid_file or the given code) naming `what`
// instead of wrapping around. Cost: one compiler builtin per operation.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <string_view>

namespace ingot {

inline uint64_t checked_add(uint64_t a, uint64_t b, std::string_view what,
                            ErrorCode code = ErrorCode::invalid_file) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail(code, "{}: {} + {} overflows 64 bits", what, a, b);
  return r;
}

inline uint64_t checked_mul(uint64_t a, uint64_t b, std::string_view what,
                            ErrorCode code = ErrorCode::invalid_file) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail(code, "{}: {} * {} overflows 64 bits", what, a, b);
  return r;
}

// Rounds `value` up to a multiple of `alignment` (> 0), failing instead of overflowing.
inline uint64_t checked_align_up(uint64_t value, uint64_t alignment, std::string_view what,
                                 ErrorCode code = ErrorCode::invalid_file) {
  if (alignment == 0) fail(code, "{}: alignment is zero", what);
  const uint64_t rem = value % alignment;
  return rem == 0 ? value : checked_add(value, alignment - rem, what, code);
}

}  // namespace ingot
