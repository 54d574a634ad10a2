// The typed metadata and tensor lookups of gguf::File. Every error names the key or tensor.
#include "gguf/file.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <type_traits>

namespace ingot::gguf {
namespace {

// Runs `get` and prefixes any Error it throws with the key.
template <typename F>
auto keyed(std::string_view key, F&& get) -> decltype(get()) {
  try {
    return get();
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("metadata key '{}': {}", key, e.what()));
  }
}

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

const Value* File::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

const Value& File::get(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) fail(ErrorCode::not_found, "metadata key '{}' is missing", key);
  return *v;
}

#define INGOT_GGUF_GETTERS(T, suffix, method)                                                   \
  T File::get_##suffix(std::string_view key) const {                                            \
    const Value& v = get(key);                                                                  \
    return keyed(key, [&] { return v.method(); });                                              \
  }                                                                                             \
  std::optional<T> File::find_##suffix(std::string_view key) const {                            \
    const Value* v = find(key);                                                                 \
    if (v == nullptr) return std::nullopt;                                                      \
    return keyed(key, [&] { return v->method(); });                                             \
  }

INGOT_GGUF_GETTERS(uint32_t, u32, as_u32)
INGOT_GGUF_GETTERS(uint64_t, u64, as_u64)
INGOT_GGUF_GETTERS(int32_t, i32, as_i32)
INGOT_GGUF_GETTERS(int64_t, i64, as_i64)
INGOT_GGUF_GETTERS(float, f32, as_f32)
INGOT_GGUF_GETTERS(bool, bool, as_bool)
INGOT_GGUF_GETTERS(std::string_view, string, as_string)
#undef INGOT_GGUF_GETTERS

uint32_t File::get_u32_or(std::string_view key, uint32_t fallback) const { return find_u32(key).value_or(fallback); }
uint64_t File::get_u64_or(std::string_view key, uint64_t fallback) const { return find_u64(key).value_or(fallback); }
int32_t File::get_i32_or(std::string_view key, int32_t fallback) const { return find_i32(key).value_or(fallback); }
float File::get_f32_or(std::string_view key, float fallback) const { return find_f32(key).value_or(fallback); }
bool File::get_bool_or(std::string_view key, bool fallback) const { return find_bool(key).value_or(fallback); }
std::string_view File::get_string_or(std::string_view key, std::string_view fallback) const {
  return find_string(key).value_or(fallback);
}

const Value& File::array_of(std::string_view key) const {
  const Value& v = get(key);
  if (!v.is_array()) fail(ErrorCode::invalid_argument, "metadata key '{}' is a {}, not an array", key, to_string(v.type()));
  return v;
}

uint64_t File::array_size(std::string_view key) const { return array_of(key).size(); }

std::span<const std::string_view> File::get_string_array(std::string_view key) const {
  const Value& v = array_of(key);
  if (v.element_type() != ValueType::string) {
    fail(ErrorCode::invalid_argument, "metadata key '{}' is an array of {}, not of strings", key,
         to_string(v.element_type()));
  }
  return v.strings();
}

template <typename T>
std::vector<T> File::integer_array(std::string_view key) const {
  const Value& v = array_of(key);
  if (!is_integer(v.element_type())) {
    fail(ErrorCode::invalid_argument, "metadata key '{}' is an array of {}, not of integers", key,
         to_string(v.element_type()));
  }
  std::vector<T> out(v.size());
  const uint8_t* raw = v.raw_items().data();
  const uint32_t stride = scalar_size(v.element_type());
  const bool same_layout = stride == sizeof(T) && (v.element_type() == ValueType::int32 || v.element_type() == ValueType::uint32 ||
                                                   v.element_type() == ValueType::int64 || v.element_type() == ValueType::uint64);
  const bool same_sign = (v.element_type() == ValueType::int32 || v.element_type() == ValueType::int64) == std::is_signed_v<T>;
  if (same_layout && same_sign) {
    if (!out.empty()) std::memcpy(out.data(), raw, out.size() * sizeof(T));
    return out;
  }
  for (uint64_t i = 0; i < v.size(); ++i) {
    const Value item = Value::scalar(v.element_type(), raw + i * stride);
    out[i] = keyed(key, [&] {
      if constexpr (std::is_same_v<T, int32_t>) return item.as_i32();
      else if constexpr (std::is_same_v<T, uint32_t>) return item.as_u32();
      else return item.as_i64();
    });
  }
  return out;
}

std::vector<int32_t> File::get_i32_array(std::string_view key) const { return integer_array<int32_t>(key); }
std::vector<uint32_t> File::get_u32_array(std::string_view key) const { return integer_array<uint32_t>(key); }
std::vector<int64_t> File::get_i64_array(std::string_view key) const { return integer_array<int64_t>(key); }

std::vector<float> File::get_f32_array(std::string_view key) const {
  const Value& v = array_of(key);
  std::vector<float> out(v.size());
  const uint8_t* raw = v.raw_items().data();
  if (v.element_type() == ValueType::float32) {
    if (!out.empty()) std::memcpy(out.data(), raw, out.size() * sizeof(float));
  } else if (v.element_type() == ValueType::float64) {
    for (uint64_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(load<double>(raw + i * 8));
  } else {
    fail(ErrorCode::invalid_argument, "metadata key '{}' is an array of {}, not of floats", key,
         to_string(v.element_type()));
  }
  return out;
}

const Tensor* File::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const Tensor& File::tensor(std::string_view name) const {
  const Tensor* t = find_tensor(name);
  if (t == nullptr) fail(ErrorCode::not_found, "tensor '{}' is missing", name);
  return *t;
}

}  // namespace ingot::gguf
