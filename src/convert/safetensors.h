// A validated reader of Hugging Face safetensors checkpoints: one file, or shards listed by
// model.safetensors.index.json. The header (an 8-byte length and a JSON table) is untrusted:
// its size, every dtype, shape and [begin, end) data offset are checked against the file before
// any tensor is touched. Files are memory-mapped; reading a tensor converts one row range at a
// time to f32 (F32/F16/BF16), so a converter never holds a model twice.
#pragma once

#include "core/mapped_file.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ingot::convert {

enum class StDtype { F32, F16, BF16 };

struct StTensor {
  std::string name;
  StDtype dtype = StDtype::F32;
  std::vector<int64_t> shape;  // row-major, as written (PyTorch order: [out, in])
  uint64_t n_elements = 0;
  const uint8_t* data = nullptr;
  uint64_t n_bytes = 0;
  std::string file;  // which shard

  // Converts elements [first, first + n) to f32.
  void read_f32(uint64_t first, uint64_t n, float* out) const;
};

class SafetensorsFile {
 public:
  // Maps and validates one file. Errors: Error(invalid_file) naming the file and what is wrong.
  static SafetensorsFile open(const std::filesystem::path& path);
  // Validates in-memory bytes the caller keeps alive (tests).
  static SafetensorsFile from_bytes(std::span<const uint8_t> bytes, const std::string& label);

  const std::vector<StTensor>& tensors() const noexcept { return tensors_; }

 private:
  void parse(std::span<const uint8_t> bytes, const std::string& label);
  MappedFile mapping_;
  std::vector<StTensor> tensors_;
};

// Every tensor of a checkpoint folder: model.safetensors, or the shards named by
// model.safetensors.index.json (each shard's tensors must match the index's weight_map).
class Checkpoint {
 public:
  static Checkpoint open(const std::filesystem::path& dir);

  const StTensor* find(const std::string& name) const;
  const std::map<std::string, const StTensor*>& tensors() const noexcept { return index_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const StTensor*> index_;
};

std::string_view to_string(StDtype dtype);

}  // namespace ingot::convert
