// A read-only memory-mapped file. Opening maps the whole file once (MAP_PRIVATE, PROT_READ);
// the mapping lives as long as the object and moves with it. Model weights are read in place
// from here, never copied into a second host buffer. An empty file maps to a valid empty span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ingot {

class MappedFile {
 public:
  // Throws Error(not_found) for a missing file, Error(io) when it cannot be opened or mapped.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const noexcept { return data_; }
  size_t size() const noexcept { return size_; }
  std::span<const uint8_t> bytes() const noexcept { return {data_, size_}; }
  const std::string& path() const noexcept { return path_; }

  // Hints that the whole file will be read sequentially (weight upload).
  void advise_sequential() const noexcept;

 private:
  void reset() noexcept;

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace ingot
