// gguf::File: a validated, read-only GGUF (v2/v3, little-endian) file. open() maps the file once
// and checks every count, length, shape, type and offset against the file size before use, so
// the rest of the engine may trust what it reads here. Tensor data is used in place in the
// mapping (never copied); metadata strings are views into it. Opening costs one pass over the
// header and metadata (a 150k-token vocabulary: one vector of string views) and nothing per
// byte of tensor data.
#pragma once

#include "core/mapped_file.h"
#include "gguf/value.h"
#include "quant/types.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ingot::gguf {

class Cursor;

inline constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;
inline constexpr std::string_view kAlignmentKey = "general.alignment";

struct KeyValue {
  std::string_view key;
  Value value;
  uint64_t offset = 0;  // where the key's record starts in the file
};

struct Tensor {
  std::string_view name;
  quant::Type type = quant::Type::F32;
  uint32_t n_dims = 0;
  std::array<int64_t, kMaxDims> dims{1, 1, 1, 1};  // ggml order: dims[0] is the row length
  uint64_t offset = 0;      // of its data, relative to the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  uint64_t info_offset = 0;  // where its info record starts in the file
  const uint8_t* data_ptr = nullptr;

  std::span<const int64_t> shape() const noexcept { return {dims.data(), n_dims}; }
  std::span<const uint8_t> data() const noexcept { return {data_ptr, static_cast<size_t>(n_bytes)}; }
};

class File {
 public:
  // Maps and validates a file. Errors are prefixed with the path.
  static File open(const std::string& path);
  // Validates bytes the caller keeps alive for the File's lifetime (tests, the fuzzer).
  static File from_bytes(std::span<const uint8_t> bytes);
  // Same, owning the bytes.
  static File from_buffer(std::vector<uint8_t> bytes);

  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  uint32_t version() const noexcept { return version_; }
  uint32_t alignment() const noexcept { return alignment_; }
  uint64_t data_offset() const noexcept { return data_offset_; }  // start of the data section
  std::span<const uint8_t> bytes() const noexcept { return bytes_; }
  const std::string& path() const noexcept { return path_; }  // empty for in-memory files

  // --- metadata, in file order ---
  std::span<const KeyValue> metadata() const noexcept { return metadata_; }
  const Value* find(std::string_view key) const;
  // Throws Error(not_found) naming the key when it is absent.
  const Value& get(std::string_view key) const;

  // Typed getters: get_* throws not_found when absent and invalid_argument (naming the key, its
  // type and value) on a wrong type or a value that does not fit; find_* returns nullopt when
  // absent (and still throws on a wrong type); get_*_or returns the fallback when absent.
  // Integer getters accept any integer type whose value fits.
  uint32_t get_u32(std::string_view key) const;
  uint64_t get_u64(std::string_view key) const;
  int32_t get_i32(std::string_view key) const;
  int64_t get_i64(std::string_view key) const;
  float get_f32(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string_view get_string(std::string_view key) const;
  std::optional<uint32_t> find_u32(std::string_view key) const;
  std::optional<uint64_t> find_u64(std::string_view key) const;
  std::optional<int32_t> find_i32(std::string_view key) const;
  std::optional<int64_t> find_i64(std::string_view key) const;
  std::optional<float> find_f32(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;
  uint32_t get_u32_or(std::string_view key, uint32_t fallback) const;
  uint64_t get_u64_or(std::string_view key, uint64_t fallback) const;
  int32_t get_i32_or(std::string_view key, int32_t fallback) const;
  float get_f32_or(std::string_view key, float fallback) const;
  bool get_bool_or(std::string_view key, bool fallback) const;
  std::string_view get_string_or(std::string_view key, std::string_view fallback) const;

  // Arrays: throw not_found when absent, invalid_argument when not an array of the right kind.
  // Strings are views into the file (no copy); numeric arrays are copied out of the (possibly
  // unaligned) file bytes. Integer arrays accept any integer element type whose values fit;
  // float arrays accept float32 and float64.
  std::span<const std::string_view> get_string_array(std::string_view key) const;
  std::vector<int32_t> get_i32_array(std::string_view key) const;
  std::vector<uint32_t> get_u32_array(std::string_view key) const;
  std::vector<int64_t> get_i64_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  // Length of an array value (throws as above when absent or not an array).
  uint64_t array_size(std::string_view key) const;

  // --- tensors, in file order ---
  std::span<const Tensor> tensors() const noexcept { return tensors_; }
  const Tensor* find_tensor(std::string_view name) const;
  // Throws Error(not_found) naming the tensor when it is absent.
  const Tensor& tensor(std::string_view name) const;

 private:
  File() = default;
  void parse();
  void parse_metadata(Cursor& cursor, uint64_t n_kv);
  void parse_tensor_infos(Cursor& cursor, uint64_t n_tensors);
  void place_tensors();
  template <typename T>
  std::vector<T> integer_array(std::string_view key) const;
  const Value& array_of(std::string_view key) const;

  MappedFile mapping_;
  std::vector<uint8_t> owned_;
  std::span<const uint8_t> bytes_;
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::unordered_map<std::string_view, size_t> metadata_index_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace ingot::gguf
