#include "cli/npy.h"

#include "core/error.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>

namespace ingot::cli {

void write_npy_f32(const std::string& path, std::span<const float> data, int64_t rows, int64_t cols) {
  if (static_cast<int64_t>(data.size()) != rows * cols) {
    fail(ErrorCode::internal, "npy: {} floats for [{}, {}]", data.size(), rows, cols);
  }
  std::string header = fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows, cols);
  // magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail(ErrorCode::io, "{}: cannot open for writing", path);
  const unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                    static_cast<unsigned char>(header.size() & 0xff),
                                    static_cast<unsigned char>(header.size() >> 8)};
  bool ok = std::fwrite(prefix, 1, sizeof prefix, f.get()) == sizeof prefix &&
            std::fwrite(header.data(), 1, header.size(), f.get()) == header.size() &&
            std::fwrite(data.data(), sizeof(float), data.size(), f.get()) == data.size();
  ok = (std::fflush(f.get()) == 0) && ok;
  if (!ok) fail(ErrorCode::io, "{}: write failed", path);
}

}  // namespace ingot::cli
