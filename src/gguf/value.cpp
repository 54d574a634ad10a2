#include "gguf/value.h"

#include "core/error.h"

#include <cstring>
#include <limits>
#include <utility>

namespace ingot::gguf {

std::string_view to_string(ValueType type) {
  switch (type) {
    case ValueType::uint8: return "uint8";
    case ValueType::int8: return "int8";
    case ValueType::uint16: return "uint16";
    case ValueType::int16: return "int16";
    case ValueType::uint32: return "uint32";
    case ValueType::int32: return "int32";
    case ValueType::float32: return "float32";
    case ValueType::boolean: return "bool";
    case ValueType::string: return "string";
    case ValueType::array: return "array";
    case ValueType::uint64: return "uint64";
    case ValueType::int64: return "int64";
    case ValueType::float64: return "float64";
  }
  return "unknown";
}

uint32_t scalar_size(ValueType type) {
  switch (type) {
    case ValueType::uint8:
    case ValueType::int8:
    case ValueType::boolean: return 1;
    case ValueType::uint16:
    case ValueType::int16: return 2;
    case ValueType::uint32:
    case ValueType::int32:
    case ValueType::float32: return 4;
    case ValueType::uint64:
    case ValueType::int64:
    case ValueType::float64: return 8;
    case ValueType::string:
    case ValueType::array: return 0;
  }
  return 0;
}

bool is_integer(ValueType type) {
  switch (type) {
    case ValueType::uint8:
    case ValueType::int8:
    case ValueType::uint16:
    case ValueType::int16:
    case ValueType::uint32:
    case ValueType::int32:
    case ValueType::uint64:
    case ValueType::int64: return true;
    default: return false;
  }
}

bool is_float(ValueType type) { return type == ValueType::float32 || type == ValueType::float64; }

bool is_valid(uint32_t type_id) { return type_id <= static_cast<uint32_t>(ValueType::float64); }

namespace {

bool is_signed(ValueType type) {
  return type == ValueType::int8 || type == ValueType::int16 || type == ValueType::int32 ||
         type == ValueType::int64;
}

template <typename T>
T load(const uint8_t* bytes) {
  T v;
  std::memcpy(&v, bytes, sizeof(T));
  return v;
}

}  // namespace

Value Value::scalar(ValueType type, const uint8_t* bytes) {
  Value v;
  v.type_ = type;
  switch (type) {
    case ValueType::uint8: v.scalar_.u64 = load<uint8_t>(bytes); break;
    case ValueType::int8: v.scalar_.i64 = load<int8_t>(bytes); break;
    case ValueType::uint16: v.scalar_.u64 = load<uint16_t>(bytes); break;
    case ValueType::int16: v.scalar_.i64 = load<int16_t>(bytes); break;
    case ValueType::uint32: v.scalar_.u64 = load<uint32_t>(bytes); break;
    case ValueType::int32: v.scalar_.i64 = load<int32_t>(bytes); break;
    case ValueType::float32: v.scalar_.f64 = load<float>(bytes); break;
    case ValueType::boolean: v.scalar_.u64 = load<uint8_t>(bytes) != 0 ? 1 : 0; break;
    case ValueType::uint64: v.scalar_.u64 = load<uint64_t>(bytes); break;
    case ValueType::int64: v.scalar_.i64 = load<int64_t>(bytes); break;
    case ValueType::float64: v.scalar_.f64 = load<double>(bytes); break;
    case ValueType::string:
    case ValueType::array:
      fail(ErrorCode::internal, "Value::scalar called with type {}", to_string(type));
  }
  return v;
}

Value Value::string(std::string_view text) {
  Value v;
  v.type_ = ValueType::string;
  v.text_ = text;
  return v;
}

Value Value::scalar_array(ValueType element_type, const uint8_t* raw, uint64_t n_items) {
  Value v;
  v.type_ = ValueType::array;
  v.element_type_ = element_type;
  v.raw_ = raw;
  v.n_items_ = n_items;
  v.raw_bytes_ = n_items * scalar_size(element_type);  // checked against the file by the reader
  return v;
}

Value Value::string_array(std::vector<std::string_view> items) {
  Value v;
  v.type_ = ValueType::array;
  v.element_type_ = ValueType::string;
  v.n_items_ = items.size();
  v.strings_ = std::move(items);
  return v;
}

Value Value::array_array(std::vector<Value> items) {
  Value v;
  v.type_ = ValueType::array;
  v.element_type_ = ValueType::array;
  v.n_items_ = items.size();
  v.arrays_ = std::move(items);
  return v;
}

Value Value::element(uint64_t i) const {
  if (type_ != ValueType::array) fail(ErrorCode::invalid_argument, "element() of a {} value", to_string(type_));
  if (i >= n_items_) fail(ErrorCode::out_of_range, "array index {} past its {} items", i, n_items_);
  if (element_type_ == ValueType::string) return string(strings_[i]);
  if (element_type_ == ValueType::array) return arrays_[i];
  return scalar(element_type_, raw_ + i * scalar_size(element_type_));
}

uint64_t Value::as_u64() const {
  if (!is_integer(type_)) fail(ErrorCode::invalid_argument, "expected an integer, found a {}", to_string(type_));
  if (is_signed(type_) && scalar_.i64 < 0) {
    fail(ErrorCode::invalid_argument, "expected an unsigned integer, found {} ({})", scalar_.i64, to_string(type_));
  }
  return is_signed(type_) ? static_cast<uint64_t>(scalar_.i64) : scalar_.u64;
}

int64_t Value::as_i64() const {
  if (!is_integer(type_)) fail(ErrorCode::invalid_argument, "expected an integer, found a {}", to_string(type_));
  if (!is_signed(type_) && scalar_.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    fail(ErrorCode::invalid_argument, "value {} ({}) does not fit in int64", scalar_.u64, to_string(type_));
  }
  return is_signed(type_) ? scalar_.i64 : static_cast<int64_t>(scalar_.u64);
}

uint32_t Value::as_u32() const {
  const uint64_t v = as_u64();
  if (v > std::numeric_limits<uint32_t>::max()) {
    fail(ErrorCode::invalid_argument, "value {} ({}) does not fit in uint32", v, to_string(type_));
  }
  return static_cast<uint32_t>(v);
}

int32_t Value::as_i32() const {
  const int64_t v = as_i64();
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    fail(ErrorCode::invalid_argument, "value {} ({}) does not fit in int32", v, to_string(type_));
  }
  return static_cast<int32_t>(v);
}

double Value::as_f64() const {
  if (!is_float(type_)) fail(ErrorCode::invalid_argument, "expected a float, found a {}", to_string(type_));
  return scalar_.f64;
}

float Value::as_f32() const { return static_cast<float>(as_f64()); }

bool Value::as_bool() const {
  if (type_ != ValueType::boolean) fail(ErrorCode::invalid_argument, "expected a bool, found a {}", to_string(type_));
  return scalar_.u64 != 0;
}

std::string_view Value::as_string() const {
  if (type_ != ValueType::string) fail(ErrorCode::invalid_argument, "expected a string, found a {}", to_string(type_));
  return text_;
}

}  // namespace ingot::gguf
