#include "gguf/writer.h"

#include "core/checked_math.h"
#include "core/error.h"
#include "gguf/file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <unistd.h>

namespace ingot::gguf {
namespace {

template <typename T>
void append(std::vector<uint8_t>& out, T v) {
  static_assert(std::is_trivially_copyable_v<T>);
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

void append_string(std::vector<uint8_t>& out, std::string_view s) {
  append<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

template <typename T>
constexpr ValueType value_type_of() {
  if constexpr (std::is_same_v<T, uint8_t>) return ValueType::uint8;
  else if constexpr (std::is_same_v<T, int8_t>) return ValueType::int8;
  else if constexpr (std::is_same_v<T, uint16_t>) return ValueType::uint16;
  else if constexpr (std::is_same_v<T, int16_t>) return ValueType::int16;
  else if constexpr (std::is_same_v<T, uint32_t>) return ValueType::uint32;
  else if constexpr (std::is_same_v<T, int32_t>) return ValueType::int32;
  else if constexpr (std::is_same_v<T, float>) return ValueType::float32;
  else if constexpr (std::is_same_v<T, uint64_t>) return ValueType::uint64;
  else if constexpr (std::is_same_v<T, int64_t>) return ValueType::int64;
  else if constexpr (std::is_same_v<T, double>) return ValueType::float64;
  else static_assert(sizeof(T) == 0, "not a GGUF scalar type");
}

template <typename T>
std::vector<uint8_t> encode_scalar(T v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, static_cast<uint32_t>(value_type_of<T>()));
  append<T>(out, v);
  return out;
}

// The payload of a reader Value (without its type id), re-encoded.
void append_value(std::vector<uint8_t>& out, const Value& v) {
  switch (v.type()) {
    case ValueType::uint8: append<uint8_t>(out, static_cast<uint8_t>(v.as_u64())); break;
    case ValueType::int8: append<int8_t>(out, static_cast<int8_t>(v.as_i64())); break;
    case ValueType::uint16: append<uint16_t>(out, static_cast<uint16_t>(v.as_u64())); break;
    case ValueType::int16: append<int16_t>(out, static_cast<int16_t>(v.as_i64())); break;
    case ValueType::uint32: append<uint32_t>(out, static_cast<uint32_t>(v.as_u64())); break;
    case ValueType::int32: append<int32_t>(out, static_cast<int32_t>(v.as_i64())); break;
    case ValueType::float32: append<float>(out, v.as_f32()); break;
    case ValueType::boolean: append<uint8_t>(out, v.as_bool() ? 1 : 0); break;
    case ValueType::string: append_string(out, v.as_string()); break;
    case ValueType::uint64: append<uint64_t>(out, v.as_u64()); break;
    case ValueType::int64: append<int64_t>(out, v.as_i64()); break;
    case ValueType::float64: append<double>(out, v.as_f64()); break;
    case ValueType::array:
      append<uint32_t>(out, static_cast<uint32_t>(v.element_type()));
      append<uint64_t>(out, v.size());
      if (v.element_type() == ValueType::string) {
        for (std::string_view s : v.strings()) append_string(out, s);
      } else if (v.element_type() == ValueType::array) {
        for (const Value& item : v.arrays()) append_value(out, item);
      } else {
        out.insert(out.end(), v.raw_items().begin(), v.raw_items().end());
      }
      break;
  }
}

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

// --- Array ---

template <typename T>
Array Array::of(std::span<const T> items) {
  Array a;
  a.element_type_ = value_type_of<T>();
  a.n_items_ = items.size();
  a.items_.resize(items.size_bytes());
  if (!items.empty()) std::memcpy(a.items_.data(), items.data(), items.size_bytes());
  return a;
}

template Array Array::of<uint8_t>(std::span<const uint8_t>);
template Array Array::of<int8_t>(std::span<const int8_t>);
template Array Array::of<uint16_t>(std::span<const uint16_t>);
template Array Array::of<int16_t>(std::span<const int16_t>);
template Array Array::of<uint32_t>(std::span<const uint32_t>);
template Array Array::of<int32_t>(std::span<const int32_t>);
template Array Array::of<float>(std::span<const float>);
template Array Array::of<uint64_t>(std::span<const uint64_t>);
template Array Array::of<int64_t>(std::span<const int64_t>);
template Array Array::of<double>(std::span<const double>);

Array Array::of_bools(std::span<const bool> items) {
  Array a;
  a.element_type_ = ValueType::boolean;
  a.n_items_ = items.size();
  for (bool b : items) a.items_.push_back(b ? 1 : 0);
  return a;
}

Array Array::of_strings(std::span<const std::string> items) {
  Array a;
  a.element_type_ = ValueType::string;
  a.n_items_ = items.size();
  for (const auto& s : items) append_string(a.items_, s);
  return a;
}

Array Array::of_strings(std::span<const std::string_view> items) {
  Array a;
  a.element_type_ = ValueType::string;
  a.n_items_ = items.size();
  for (std::string_view s : items) append_string(a.items_, s);
  return a;
}

Array Array::of_arrays(std::span<const Array> items) {
  Array a;
  a.element_type_ = ValueType::array;
  a.n_items_ = items.size();
  for (const Array& item : items) item.append_to(a.items_);
  return a;
}

void Array::append_to(std::vector<uint8_t>& out) const {
  append<uint32_t>(out, static_cast<uint32_t>(element_type_));
  append<uint64_t>(out, n_items_);
  out.insert(out.end(), items_.begin(), items_.end());
}

// --- metadata ---

void Writer::put(std::string_view key, std::vector<uint8_t> encoded, bool internal) {
  if (key == kAlignmentKey && !internal) {
    fail(ErrorCode::invalid_argument, "set {} with Writer::set_alignment", kAlignmentKey);
  }
  const auto it = index_.find(std::string(key));
  if (it != index_.end()) {
    entries_[it->second].encoded = std::move(encoded);
    return;
  }
  index_.emplace(std::string(key), entries_.size());
  entries_.push_back(Entry{std::string(key), std::move(encoded)});
}

void Writer::set_u8(std::string_view key, uint8_t v) { put(key, encode_scalar(v)); }
void Writer::set_i8(std::string_view key, int8_t v) { put(key, encode_scalar(v)); }
void Writer::set_u16(std::string_view key, uint16_t v) { put(key, encode_scalar(v)); }
void Writer::set_i16(std::string_view key, int16_t v) { put(key, encode_scalar(v)); }
void Writer::set_u32(std::string_view key, uint32_t v) { put(key, encode_scalar(v)); }
void Writer::set_i32(std::string_view key, int32_t v) { put(key, encode_scalar(v)); }
void Writer::set_f32(std::string_view key, float v) { put(key, encode_scalar(v)); }
void Writer::set_u64(std::string_view key, uint64_t v) { put(key, encode_scalar(v)); }
void Writer::set_i64(std::string_view key, int64_t v) { put(key, encode_scalar(v)); }
void Writer::set_f64(std::string_view key, double v) { put(key, encode_scalar(v)); }

void Writer::set_bool(std::string_view key, bool v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, static_cast<uint32_t>(ValueType::boolean));
  append<uint8_t>(out, v ? 1 : 0);
  put(key, std::move(out));
}

void Writer::set_string(std::string_view key, std::string_view v) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, static_cast<uint32_t>(ValueType::string));
  append_string(out, v);
  put(key, std::move(out));
}

void Writer::set_array(std::string_view key, const Array& array) {
  std::vector<uint8_t> out;
  append<uint32_t>(out, static_cast<uint32_t>(ValueType::array));
  array.append_to(out);
  put(key, std::move(out));
}

void Writer::set_string_array(std::string_view key, std::span<const std::string> items) {
  set_array(key, Array::of_strings(items));
}

void Writer::set_value(std::string_view key, const Value& value) {
  if (key == kAlignmentKey) {
    set_alignment(value.as_u32());
    return;
  }
  std::vector<uint8_t> out;
  append<uint32_t>(out, static_cast<uint32_t>(value.type()));
  append_value(out, value);
  put(key, std::move(out));
}

void Writer::set_alignment(uint32_t alignment) {
  if (!is_power_of_two(alignment)) {
    fail(ErrorCode::invalid_argument, "alignment {} is not a nonzero power of two", alignment);
  }
  alignment_ = alignment;
  put(kAlignmentKey, encode_scalar(alignment), true);
}

bool Writer::remove(std::string_view key) {
  const auto it = index_.find(std::string(key));
  if (it == index_.end()) return false;
  const size_t at = it->second;
  index_.erase(it);
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(at));
  for (auto& [name, i] : index_) {
    if (i > at) --i;
  }
  if (key == kAlignmentKey) alignment_ = kDefaultAlignment;
  return true;
}

// --- tensors ---

Writer::PendingTensor& Writer::new_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims) {
  if (dims.size() > kMaxDims) {
    fail(ErrorCode::invalid_argument, "tensor '{}': {} dimensions (at most {})", name, dims.size(), kMaxDims);
  }
  if (tensor_index_.count(std::string(name)) != 0) {
    fail(ErrorCode::invalid_argument, "tensor '{}' is added twice", name);
  }
  uint64_t n_elements = 1;
  for (int64_t d : dims) {
    if (d < 0) fail(ErrorCode::invalid_argument, "tensor '{}': negative dimension {}", name, d);
    n_elements = checked_mul(n_elements, static_cast<uint64_t>(d), "tensor element count", ErrorCode::invalid_argument);
  }
  PendingTensor t;
  t.name = std::string(name);
  t.type = type;
  t.dims.assign(dims.begin(), dims.end());
  const uint64_t row = dims.empty() ? 1 : static_cast<uint64_t>(dims[0]);
  try {
    const uint64_t n_rows = n_elements == 0 ? 0 : n_elements / row;
    t.n_bytes = checked_mul(quant::row_bytes(type, row), n_rows, "tensor size", ErrorCode::invalid_argument);
  } catch (const Error& e) {
    fail(ErrorCode::invalid_argument, "tensor '{}': {}", name, e.what());
  }
  tensor_index_.emplace(t.name, tensors_.size());
  tensors_.push_back(std::move(t));
  return tensors_.back();
}

void Writer::add_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims,
                        std::span<const uint8_t> bytes) {
  PendingTensor& t = new_tensor(name, type, dims);
  if (bytes.size() != t.n_bytes) {
    const uint64_t expected = t.n_bytes;
    tensor_index_.erase(t.name);
    tensors_.pop_back();
    fail(ErrorCode::invalid_argument, "tensor '{}': {} bytes given, its type and shape need {}", name,
         bytes.size(), expected);
  }
  t.bytes = bytes;
}

void Writer::add_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims,
                        std::vector<uint8_t>&& bytes) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  add_tensor(name, type, dims, std::span<const uint8_t>(*owned));
  tensors_.back().owned = std::move(owned);
}

void Writer::add_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims, Producer producer) {
  if (!producer) fail(ErrorCode::invalid_argument, "tensor '{}': empty producer", name);
  new_tensor(name, type, dims).producer = std::move(producer);
}

// --- output ---

void Writer::emit(const Sink& sink) const {
  std::vector<uint8_t> head;
  append<uint32_t>(head, kMagic);
  append<uint32_t>(head, 3);
  append<uint64_t>(head, tensors_.size());
  append<uint64_t>(head, entries_.size());
  for (const Entry& e : entries_) {
    append_string(head, e.key);
    head.insert(head.end(), e.encoded.begin(), e.encoded.end());
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    append_string(head, t.name);
    append<uint32_t>(head, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) append<uint64_t>(head, static_cast<uint64_t>(d));
    append<uint32_t>(head, static_cast<uint32_t>(t.type));
    append<uint64_t>(head, offset);
    offset = checked_align_up(checked_add(offset, t.n_bytes, "data size"), alignment_, "data size");
  }
  head.resize(checked_align_up(head.size(), alignment_, "header size"), 0);
  sink(head.data(), head.size());

  const std::vector<uint8_t> zeros(alignment_, 0);
  std::vector<uint8_t> buffer;
  for (const PendingTensor& t : tensors_) {
    if (t.producer) {
      buffer.resize(t.n_bytes);
      t.producer(std::span<uint8_t>(buffer.data(), buffer.size()));
      sink(buffer.data(), buffer.size());
    } else {
      sink(t.bytes.data(), t.bytes.size());
    }
    const uint64_t pad = checked_align_up(t.n_bytes, alignment_, "data size") - t.n_bytes;
    sink(zeros.data(), pad);
  }
}

std::vector<uint8_t> Writer::to_bytes() const {
  std::vector<uint8_t> out;
  emit([&](const uint8_t* data, size_t n) { out.insert(out.end(), data, data + n); });
  return out;
}

void Writer::write(const std::string& path) const {
  const std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) fail(ErrorCode::io, "cannot create '{}': {}", temp, std::strerror(errno));
  try {
    emit([&](const uint8_t* data, size_t n) {
      if (n > 0 && std::fwrite(data, 1, n, f) != n) {
        fail(ErrorCode::io, "cannot write '{}': {}", temp, std::strerror(errno));
      }
    });
    if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) {
      fail(ErrorCode::io, "cannot flush '{}': {}", temp, std::strerror(errno));
    }
    const int closed = std::fclose(f);
    f = nullptr;
    if (closed != 0) fail(ErrorCode::io, "cannot close '{}': {}", temp, std::strerror(errno));
    if (std::rename(temp.c_str(), path.c_str()) != 0) {
      fail(ErrorCode::io, "cannot rename '{}' to '{}': {}", temp, path, std::strerror(errno));
    }
  } catch (...) {
    if (f != nullptr) std::fclose(f);
    std::remove(temp.c_str());
    throw;
  }
}

}  // namespace ingot::gguf
