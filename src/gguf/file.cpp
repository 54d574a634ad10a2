// Opening and validating a GGUF file: header, metadata, tensor infos, data placement.
// Layout (all little-endian): magic "GGUF", uint32 version, uint64 n_tensors, uint64 n_kv,
// n_kv × {string key, uint32 type, value}, n_tensors × {string name, uint32 n_dims,
// uint64 dims[n_dims], uint32 type, uint64 offset}, padding to the alignment, tensor data.
#include "gguf/file.h"

#include "core/checked_math.h"
#include "core/error.h"
#include "gguf/cursor.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace ingot::gguf {
namespace {

// Smallest possible records, used to bound counts by the bytes that remain before allocating.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;       // empty key, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims = 0, type, offset
constexpr uint64_t kMinStringBytes = 8;                  // the length of an empty string
constexpr uint64_t kMinArrayBytes = 4 + 8;               // element type, count
constexpr int kMaxArrayDepth = 8;                        // arrays of arrays nest at most this deep
constexpr uint64_t kMaxDimension = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

Error with_context(const Error& e, std::string_view context) {
  return Error(e.code(), fmt::format("{}: {}", context, e.what()));
}

Value read_value(Cursor& cursor, uint32_t type_id, int depth) {
  if (!is_valid(type_id)) {
    fail(ErrorCode::invalid_file, "unknown value type id {} at offset {}", type_id, cursor.position() - 4);
  }
  const auto type = static_cast<ValueType>(type_id);
  if (type == ValueType::string) return Value::string(cursor.read_string("string value"));
  if (type != ValueType::array) return Value::scalar(type, cursor.take(scalar_size(type), to_string(type)));

  const uint64_t array_start = cursor.position();
  const uint32_t element_id = cursor.read<uint32_t>("array element type");
  if (!is_valid(element_id)) {
    fail(ErrorCode::invalid_file, "array at offset {} has unknown element type id {}", array_start, element_id);
  }
  const auto element_type = static_cast<ValueType>(element_id);
  const uint64_t n_items = cursor.read<uint64_t>("array length");
  if (element_type == ValueType::string) {
    if (n_items > cursor.remaining() / kMinStringBytes) {
      fail(ErrorCode::invalid_file, "array at offset {}: {} strings cannot fit in the {} remaining bytes",
           array_start, n_items, cursor.remaining());
    }
    std::vector<std::string_view> items;
    items.reserve(n_items);
    for (uint64_t i = 0; i < n_items; ++i) items.push_back(cursor.read_string("array string"));
    return Value::string_array(std::move(items));
  }
  if (element_type == ValueType::array) {
    if (depth + 1 >= kMaxArrayDepth) {
      fail(ErrorCode::invalid_file, "array at offset {}: arrays nest deeper than {} levels", array_start,
           kMaxArrayDepth);
    }
    if (n_items > cursor.remaining() / kMinArrayBytes) {
      fail(ErrorCode::invalid_file, "array at offset {}: {} arrays cannot fit in the {} remaining bytes",
           array_start, n_items, cursor.remaining());
    }
    std::vector<Value> items;
    items.reserve(n_items);
    for (uint64_t i = 0; i < n_items; ++i) {
      items.push_back(read_value(cursor, static_cast<uint32_t>(ValueType::array), depth + 1));
    }
    return Value::array_array(std::move(items));
  }
  const uint64_t n_bytes = checked_mul(n_items, scalar_size(element_type), "array size");
  if (n_bytes > cursor.remaining()) {
    fail(ErrorCode::invalid_file, "array at offset {}: {} {} items ({} bytes) run past the end of the file "
         "({} bytes remain)", array_start, n_items, to_string(element_type), n_bytes, cursor.remaining());
  }
  return Value::scalar_array(element_type, cursor.take(n_bytes, "array items"), n_items);
}

}  // namespace

File File::open(const std::string& path) {
  File file;
  file.mapping_ = MappedFile::open(path);
  file.bytes_ = file.mapping_.bytes();
  file.path_ = path;
  try {
    file.parse();
  } catch (const Error& e) {
    throw with_context(e, path);
  }
  return file;
}

File File::from_bytes(std::span<const uint8_t> bytes) {
  File file;
  file.bytes_ = bytes;
  file.parse();
  return file;
}

File File::from_buffer(std::vector<uint8_t> bytes) {
  File file;
  file.owned_ = std::move(bytes);
  file.bytes_ = file.owned_;
  file.parse();
  return file;
}

void File::parse() {
  Cursor cursor(bytes_);
  if (bytes_.size() < 4) {
    fail(ErrorCode::invalid_file, "not a GGUF file: {} bytes is too short to hold the magic", bytes_.size());
  }
  const uint32_t magic = cursor.read<uint32_t>("magic");
  if (magic != kMagic) {
    fail(ErrorCode::invalid_file, "not a GGUF file: the magic at offset 0 is {:02x} {:02x} {:02x} {:02x}, expected "
         "47 47 55 46 (\"GGUF\")", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
  }
  version_ = cursor.read<uint32_t>("version");
  if (version_ == 1) {
    fail(ErrorCode::unsupported, "GGUF version 1 is not supported (it used 32-bit counts and was replaced by "
         "version 2 in 2023); convert the model again with a current tool");
  }
  if (version_ != 2 && version_ != 3) {
    if ((version_ & 0xffffu) == 0) {
      fail(ErrorCode::unsupported, "big-endian GGUF files are not supported (the version field at offset 4 reads "
           "{} byte-swapped)", __builtin_bswap32(version_));
    }
    fail(ErrorCode::unsupported, "GGUF version {} is not supported (this reader supports versions 2 and 3)",
         version_);
  }
  const uint64_t n_tensors = cursor.read<uint64_t>("tensor count");
  const uint64_t n_kv = cursor.read<uint64_t>("metadata count");
  if (n_kv > cursor.remaining() / kMinKeyValueBytes) {
    fail(ErrorCode::invalid_file, "metadata count {} at offset 16 cannot fit in the {} bytes that follow the header",
         n_kv, cursor.remaining());
  }
  if (n_tensors > cursor.remaining() / kMinTensorInfoBytes ||
      n_kv * kMinKeyValueBytes + n_tensors * kMinTensorInfoBytes > cursor.remaining()) {
    fail(ErrorCode::invalid_file, "tensor count {} at offset 8 cannot fit in the {} bytes that follow the header",
         n_tensors, cursor.remaining());
  }
  parse_metadata(cursor, n_kv);
  parse_tensor_infos(cursor, n_tensors);
  data_offset_ = checked_align_up(cursor.position(), alignment_, "data section offset");
  place_tensors();
}

void File::parse_metadata(Cursor& cursor, uint64_t n_kv) {
  metadata_.reserve(n_kv);
  metadata_index_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t start = cursor.position();
    const std::string_view key = cursor.read_string(fmt::format("key of metadata entry #{}", i));
    try {
      const uint32_t type_id = cursor.read<uint32_t>("value type");
      Value value = read_value(cursor, type_id, 0);
      if (!metadata_index_.emplace(key, metadata_.size()).second) {
        fail(ErrorCode::invalid_file, "duplicate key (first defined at offset {})",
             metadata_[metadata_index_.at(key)].offset);
      }
      metadata_.push_back(KeyValue{key, std::move(value), start});
    } catch (const Error& e) {
      throw with_context(e, fmt::format("metadata key '{}' (entry #{} at offset {})", key, i, start));
    }
  }
  if (const Value* v = find(kAlignmentKey)) {
    const uint64_t start = metadata_[metadata_index_.at(kAlignmentKey)].offset;
    if (!is_integer(v->type())) {
      fail(ErrorCode::invalid_file, "{} at offset {} is a {}; it must be an integer", kAlignmentKey, start,
           to_string(v->type()));
    }
    const bool negative = is_integer(v->type()) && v->type() != ValueType::uint64 && v->as_i64() < 0;
    const uint64_t alignment = negative ? 0 : v->as_u64();
    if (!is_power_of_two(alignment) || alignment > std::numeric_limits<uint32_t>::max()) {
      fail(ErrorCode::invalid_file, "{} at offset {} is {}; it must be a nonzero power of two below 2^32",
           kAlignmentKey, start, negative ? fmt::to_string(v->as_i64()) : fmt::to_string(alignment));
    }
    alignment_ = static_cast<uint32_t>(alignment);
  }
}

void File::parse_tensor_infos(Cursor& cursor, uint64_t n_tensors) {
  tensors_.reserve(n_tensors);
  tensor_index_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Tensor t;
    t.info_offset = cursor.position();
    t.name = cursor.read_string(fmt::format("name of tensor #{}", i));
    try {
      t.n_dims = cursor.read<uint32_t>("dimension count");
      if (t.n_dims > kMaxDims) fail(ErrorCode::invalid_file, "{} dimensions (at most {})", t.n_dims, kMaxDims);
      uint64_t n_elements = 1;
      for (uint32_t d = 0; d < t.n_dims; ++d) {
        const uint64_t dim = cursor.read<uint64_t>("dimension");
        if (dim > kMaxDimension) fail(ErrorCode::invalid_file, "dimension {} is {} (more than 2^63 - 1)", d, dim);
        t.dims[d] = static_cast<int64_t>(dim);
        n_elements = checked_mul(n_elements, dim, "element count");
      }
      if (n_elements > kMaxDimension) {
        fail(ErrorCode::invalid_file, "{} elements (more than 2^63 - 1)", n_elements);
      }
      t.n_elements = n_elements;
      const uint32_t type_id = cursor.read<uint32_t>("type id");
      const auto traits = quant::traits_of(type_id);
      if (!traits) fail(ErrorCode::unsupported, "unknown tensor type id {}", type_id);
      t.type = traits->type;
      t.offset = cursor.read<uint64_t>("data offset");
      if (t.dims[0] % traits->block_elements != 0) {
        fail(ErrorCode::invalid_file, "row length {} is not a multiple of the {} block size {}", t.dims[0],
             traits->name, traits->block_elements);
      }
      const uint64_t n_rows = n_elements == 0 ? 0 : n_elements / static_cast<uint64_t>(t.dims[0]);
      t.n_bytes = checked_mul(quant::row_bytes(t.type, static_cast<uint64_t>(t.dims[0])), n_rows, "tensor size");
      if (!tensor_index_.emplace(t.name, tensors_.size()).second) {
        fail(ErrorCode::invalid_file, "duplicate tensor name (first defined at offset {})",
             tensors_[tensor_index_.at(t.name)].info_offset);
      }
      tensors_.push_back(t);
    } catch (const Error& e) {
      throw with_context(e, fmt::format("tensor '{}' (#{} at offset {})", t.name, i, t.info_offset));
    }
  }
}

void File::place_tensors() {
  const uint64_t file_size = bytes_.size();
  for (Tensor& t : tensors_) {
    if (t.offset % alignment_ != 0) {
      fail(ErrorCode::invalid_file, "tensor '{}' (info at offset {}): data offset {} is not a multiple of the "
           "alignment {}", t.name, t.info_offset, t.offset, alignment_);
    }
    const uint64_t begin = checked_add(data_offset_, t.offset, "tensor data offset");
    const uint64_t end = checked_add(begin, t.n_bytes, "tensor data end");
    if (end > file_size) {
      fail(ErrorCode::invalid_file, "tensor '{}' (info at offset {}): its {} bytes of data at file offset {} run "
           "past the end of the file ({} bytes)", t.name, t.info_offset, t.n_bytes, begin, file_size);
    }
    t.data_ptr = bytes_.data() + begin;
  }
  // Sorted by offset, tensors that hold data overlap exactly when some neighbour pair does.
  std::vector<size_t> order;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (tensors_[i].n_bytes > 0) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tensors_[a].offset != tensors_[b].offset ? tensors_[a].offset < tensors_[b].offset
                                                    : tensors_[a].n_bytes < tensors_[b].n_bytes;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const Tensor& prev = tensors_[order[k - 1]];
    const Tensor& cur = tensors_[order[k]];
    if (prev.offset + prev.n_bytes > cur.offset) {  // both in bounds, so no overflow
      fail(ErrorCode::invalid_file, "tensors '{}' (data offset {}, {} bytes) and '{}' (data offset {}) overlap",
           prev.name, prev.offset, prev.n_bytes, cur.name, cur.offset);
    }
  }
}

}  // namespace ingot::gguf
