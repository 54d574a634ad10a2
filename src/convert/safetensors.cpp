#include "convert/safetensors.h"

#include "core/checked_math.h"
#include "core/error.h"
#include "core/half.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <set>

namespace ingot::convert {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the format's own limit is 100 MB

uint32_t dtype_size(StDtype d) { return d == StDtype::F32 ? 4 : 2; }

StDtype parse_dtype(const std::string& label, const std::string& name, const std::string& dtype) {
  if (dtype == "F32") return StDtype::F32;
  if (dtype == "F16") return StDtype::F16;
  if (dtype == "BF16") return StDtype::BF16;
  fail(ErrorCode::unsupported, "{}: tensor '{}' has dtype {} (F32, F16 and BF16 are supported)", label,
       name, dtype);
}

}  // namespace

std::string_view to_string(StDtype dtype) {
  switch (dtype) {
    case StDtype::F32: return "F32";
    case StDtype::F16: return "F16";
    case StDtype::BF16: return "BF16";
  }
  return "?";
}

void StTensor::read_f32(uint64_t first, uint64_t n, float* out) const {
  if (first > n_elements || n > n_elements - first) {
    fail(ErrorCode::internal, "safetensors: read of [{}, +{}) past the {} elements of {}", first, n,
         n_elements, name);
  }
  const uint8_t* src = data + first * dtype_size(dtype);
  switch (dtype) {
    case StDtype::F32:
      std::memcpy(out, src, n * sizeof(float));
      break;
    case StDtype::F16: {
      std::vector<uint16_t> tmp(n);
      std::memcpy(tmp.data(), src, n * 2);
      f16_to_f32_row(tmp.data(), out, n);
      break;
    }
    case StDtype::BF16: {
      std::vector<uint16_t> tmp(n);
      std::memcpy(tmp.data(), src, n * 2);
      bf16_to_f32_row(tmp.data(), out, n);
      break;
    }
  }
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile f;
  f.mapping_ = MappedFile::open(path.string());
  f.parse(f.mapping_.bytes(), path.string());
  for (StTensor& t : f.tensors_) t.file = path.filename().string();
  return f;
}

SafetensorsFile SafetensorsFile::from_bytes(std::span<const uint8_t> bytes, const std::string& label) {
  SafetensorsFile f;
  f.parse(bytes, label);
  return f;
}

void SafetensorsFile::parse(std::span<const uint8_t> bytes, const std::string& label) {
  if (bytes.size() < 8) fail(ErrorCode::invalid_file, "{}: {} bytes is too short for safetensors", label, bytes.size());
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8) {
    fail(ErrorCode::invalid_file, "{}: header length {} does not fit the file of {} bytes", label,
         header_len, bytes.size());
  }
  const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
  json header = json::parse(header_begin, header_begin + header_len, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    fail(ErrorCode::invalid_file, "{}: the header is not a JSON object", label);
  }
  const uint8_t* data = bytes.data() + 8 + header_len;
  const uint64_t data_size = bytes.size() - 8 - header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string& name = it.key();
    const json& e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e["dtype"].is_string() || !e.contains("shape") ||
        !e["shape"].is_array() || !e.contains("data_offsets") || !e["data_offsets"].is_array() ||
        e["data_offsets"].size() != 2) {
      fail(ErrorCode::invalid_file, "{}: tensor '{}' needs dtype, shape and data_offsets [begin, end]",
           label, name);
    }
    StTensor t;
    t.name = name;
    t.dtype = parse_dtype(label, name, e["dtype"].get<std::string>());
    t.n_elements = 1;
    if (e["shape"].size() > 8) fail(ErrorCode::invalid_file, "{}: tensor '{}' has too many dims", label, name);
    for (const json& d : e["shape"]) {
      if (!d.is_number_unsigned()) {
        fail(ErrorCode::invalid_file, "{}: tensor '{}' has a shape entry that is not a non-negative integer",
             label, name);
      }
      const uint64_t dim = d.get<uint64_t>();
      if (dim > (uint64_t{1} << 40)) fail(ErrorCode::invalid_file, "{}: tensor '{}' dim {} is too large", label, name, dim);
      t.shape.push_back(static_cast<int64_t>(dim));
      t.n_elements = checked_mul(t.n_elements, dim, name);
    }
    const json& off = e["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) {
      fail(ErrorCode::invalid_file, "{}: tensor '{}' has non-integer data_offsets", label, name);
    }
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    const uint64_t expected = checked_mul(t.n_elements, dtype_size(t.dtype), name);
    if (begin > end || end > data_size || end - begin != expected) {
      fail(ErrorCode::invalid_file,
           "{}: tensor '{}' data_offsets [{}, {}) do not hold {} bytes inside the {}-byte data section",
           label, name, begin, end, expected, data_size);
    }
    t.data = data + begin;
    t.n_bytes = expected;
    tensors_.push_back(std::move(t));
  }
}

Checkpoint Checkpoint::open(const std::filesystem::path& dir) {
  Checkpoint c;
  const auto single = dir / "model.safetensors";
  const auto index_path = dir / "model.safetensors.index.json";
  std::vector<std::string> shard_names;
  json weight_map;
  if (std::filesystem::exists(index_path)) {
    std::ifstream in(index_path);
    json index = json::parse(in, nullptr, false);
    if (index.is_discarded() || !index.is_object() || !index.contains("weight_map") ||
        !index["weight_map"].is_object()) {
      fail(ErrorCode::invalid_file, "{}: expected a JSON object with a weight_map", index_path.string());
    }
    weight_map = index["weight_map"];
    std::set<std::string> seen;
    for (auto it = weight_map.begin(); it != weight_map.end(); ++it) {
      if (!it.value().is_string()) fail(ErrorCode::invalid_file, "{}: weight_map values must be file names", index_path.string());
      const std::string shard = it.value().get<std::string>();
      if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos ||
          shard == "." || shard == "..") {
        fail(ErrorCode::invalid_file, "{}: shard name '{}' is not a plain file name", index_path.string(), shard);
      }
      if (seen.insert(shard).second) shard_names.push_back(shard);
    }
  } else if (std::filesystem::exists(single)) {
    shard_names.push_back("model.safetensors");
  } else {
    fail(ErrorCode::not_found, "{}: no model.safetensors or model.safetensors.index.json", dir.string());
  }
  for (const std::string& shard : shard_names) {
    c.files_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(dir / shard)));
    for (const StTensor& t : c.files_.back()->tensors()) {
      if (!c.index_.emplace(t.name, &t).second) {
        fail(ErrorCode::invalid_file, "{}: tensor '{}' appears in more than one shard", dir.string(), t.name);
      }
    }
  }
  if (!weight_map.is_null()) {
    for (auto it = weight_map.begin(); it != weight_map.end(); ++it) {
      const StTensor* t = c.find(it.key());
      if (t == nullptr || t->file != it.value().get<std::string>()) {
        fail(ErrorCode::invalid_file, "{}: the index puts '{}' in {}, which does not hold it",
             index_path.string(), it.key(), it.value().get<std::string>());
      }
    }
  }
  return c;
}

const StTensor* Checkpoint::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

}  // namespace ingot::convert
