// One GGUF metadata value, as read from a file: a scalar, a string, or an array (of scalars,
// strings or further arrays). Strings are string_views into the file's bytes and scalar arrays
// point at their little-endian bytes in place, so reading a 150k-entry vocabulary allocates one
// vector of views and copies no text. A Value is valid only while its gguf::File lives.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ingot::gguf {

// The GGUF value type ids (a public fact of the format).
enum class ValueType : uint32_t {
  uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6,
  boolean = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12,
};

std::string_view to_string(ValueType type);
// Bytes of one scalar of `type` in a file (0 for string and array).
uint32_t scalar_size(ValueType type);
bool is_integer(ValueType type);
bool is_float(ValueType type);
bool is_valid(uint32_t type_id);

class Value {
 public:
  ValueType type() const noexcept { return type_; }
  bool is_array() const noexcept { return type_ == ValueType::array; }
  bool is_string() const noexcept { return type_ == ValueType::string; }

  // Scalars. Each throws Error(invalid_argument) on the wrong type; the integer forms accept
  // any integer type whose value fits (a uint32 key read as uint64, an int32 as uint32 when
  // non-negative) and name the value when it does not.
  uint64_t as_u64() const;
  int64_t as_i64() const;
  uint32_t as_u32() const;
  int32_t as_i32() const;
  double as_f64() const;  // float32 or float64
  float as_f32() const;   // float32 or float64
  bool as_bool() const;
  std::string_view as_string() const;

  // Arrays. element_type() is the type of the items; size() their count.
  ValueType element_type() const noexcept { return element_type_; }
  uint64_t size() const noexcept { return n_items_; }
  // Raw little-endian bytes of a scalar array (size() * scalar_size(element_type())); they may
  // be unaligned, so read them with memcpy or through element().
  std::span<const uint8_t> raw_items() const noexcept { return {raw_, raw_bytes_}; }
  // Items of a string array.
  std::span<const std::string_view> strings() const noexcept { return strings_; }
  // Items of an array of arrays.
  std::span<const Value> arrays() const noexcept { return arrays_; }
  // Item i of a scalar or string array, as a scalar Value (throws for arrays of arrays).
  Value element(uint64_t i) const;

  // Construction (used by the reader).
  static Value scalar(ValueType type, const uint8_t* bytes);
  static Value string(std::string_view text);
  static Value scalar_array(ValueType element_type, const uint8_t* raw, uint64_t n_items);
  static Value string_array(std::vector<std::string_view> items);
  static Value array_array(std::vector<Value> items);

 private:
  ValueType type_ = ValueType::uint8;
  ValueType element_type_ = ValueType::uint8;
  union {
    uint64_t u64 = 0;
    int64_t i64;
    double f64;
  } scalar_;
  std::string_view text_;
  const uint8_t* raw_ = nullptr;
  uint64_t raw_bytes_ = 0;
  uint64_t n_items_ = 0;
  std::vector<std::string_view> strings_;
  std::vector<Value> arrays_;
};

}  // namespace ingot::gguf
