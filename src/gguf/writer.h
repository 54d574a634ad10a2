// gguf::Writer: builds a GGUF v3 file. Metadata is encoded when set (setting a key again replaces
// it, keeping its place); tensors are either byte spans the caller keeps alive or callbacks that
// produce their bytes at write time, so `quantize`/`convert` hold one tensor in memory at a time.
// write() goes to a temporary file next to the target and renames it, so a failed write never
// leaves a half-written model under the final name.
#pragma once

#include "gguf/value.h"
#include "quant/types.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ingot::gguf {

// An array value under construction: its element type, item count and encoded items. Arrays
// of arrays nest (each item may have its own element type, as the format allows).
class Array {
 public:
  template <typename T>
  static Array of(std::span<const T> items);
  static Array of_bools(std::span<const bool> items);
  static Array of_strings(std::span<const std::string> items);
  static Array of_strings(std::span<const std::string_view> items);
  static Array of_arrays(std::span<const Array> items);

  ValueType element_type() const noexcept { return element_type_; }
  uint64_t size() const noexcept { return n_items_; }
  // The encoded value after its type id: element type, count, items.
  void append_to(std::vector<uint8_t>& out) const;

 private:
  ValueType element_type_ = ValueType::uint8;
  uint64_t n_items_ = 0;
  std::vector<uint8_t> items_;
};

class Writer {
 public:
  // Fills `out` (exactly the tensor's byte size) with the tensor's data.
  using Producer = std::function<void(std::span<uint8_t> out)>;

  void set_u8(std::string_view key, uint8_t v);
  void set_i8(std::string_view key, int8_t v);
  void set_u16(std::string_view key, uint16_t v);
  void set_i16(std::string_view key, int16_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_f32(std::string_view key, float v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_u64(std::string_view key, uint64_t v);
  void set_i64(std::string_view key, int64_t v);
  void set_f64(std::string_view key, double v);
  void set_array(std::string_view key, const Array& array);
  void set_string_array(std::string_view key, std::span<const std::string> items);
  // Copies a value read from another file (for quantize and tools that rewrite a file).
  void set_value(std::string_view key, const Value& value);
  // Sets general.alignment (a nonzero power of two; default 32). Setting that key any other
  // way throws Error(invalid_argument), except set_value, which goes through here.
  void set_alignment(uint32_t alignment);
  bool remove(std::string_view key);
  bool has(std::string_view key) const { return index_.count(std::string(key)) != 0; }
  uint32_t alignment() const noexcept { return alignment_; }

  // dims in ggml order (dims[0] is the row length), at most 4; checked like the reader checks
  // them. Duplicate names throw Error(invalid_argument). The span version keeps a view: the
  // bytes must outlive write().
  void add_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims,
                  std::span<const uint8_t> bytes);
  // Owns the bytes (an rvalue vector picks this, so a temporary never dangles).
  void add_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims,
                  std::vector<uint8_t>&& bytes);
  void add_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims, Producer producer);
  size_t tensor_count() const noexcept { return tensors_.size(); }

  // Writes the file (temp file + rename). Errors: Error(io) naming the path.
  void write(const std::string& path) const;
  // The whole file in memory (tests, fuzz seeds).
  std::vector<uint8_t> to_bytes() const;

 private:
  struct Entry {
    std::string key;
    std::vector<uint8_t> encoded;  // type id + value
  };
  struct PendingTensor {
    std::string name;
    quant::Type type;
    std::vector<int64_t> dims;
    uint64_t n_bytes = 0;
    std::span<const uint8_t> bytes;
    std::shared_ptr<const std::vector<uint8_t>> owned;  // keeps `bytes` alive when we own them
    Producer producer;
  };
  using Sink = std::function<void(const uint8_t* data, size_t n)>;

  void put(std::string_view key, std::vector<uint8_t> encoded, bool internal = false);
  PendingTensor& new_tensor(std::string_view name, quant::Type type, std::span<const int64_t> dims);
  void emit(const Sink& sink) const;

  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<PendingTensor> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
  uint32_t alignment_ = 32;
};

}  // namespace ingot::gguf
