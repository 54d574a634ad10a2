// A tiny reader of float32 .npy files (version 1/2, C order, little-endian '<f4', 1-D or 2-D)
// for tests that compare logits with reference arrays. Throws std::runtime_error on anything
// else; test inputs only.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace ingot::test {

struct NpyArray {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;
  float at(int64_t r, int64_t c) const { return data[static_cast<size_t>(r * cols + c)]; }
};

inline NpyArray read_npy_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) {
    throw std::runtime_error(path + ": not a .npy file");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else {
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    offset = 12;
  }
  if (offset + header_len > bytes.size()) throw std::runtime_error(path + ": truncated header");
  const std::string header(bytes.data() + offset, header_len);
  if (header.find("'<f4'") == std::string::npos || header.find("'fortran_order': False") == std::string::npos) {
    throw std::runtime_error(path + ": not a C-order float32 array: " + header);
  }
  std::smatch m;
  NpyArray a;
  if (std::regex_search(header, m, std::regex(R"('shape': \((\d+), (\d+)\))"))) {
    a.rows = std::stoll(m[1]);
    a.cols = std::stoll(m[2]);
  } else if (std::regex_search(header, m, std::regex(R"('shape': \((\d+),\))"))) {
    a.rows = 1;
    a.cols = std::stoll(m[1]);
  } else {
    throw std::runtime_error(path + ": unsupported shape: " + header);
  }
  const size_t n = static_cast<size_t>(a.rows * a.cols);
  const size_t data_at = offset + header_len;
  if (bytes.size() - data_at != n * sizeof(float)) throw std::runtime_error(path + ": data size mismatch");
  a.data.resize(n);
  std::memcpy(a.data.data(), bytes.data() + data_at, n * sizeof(float));
  return a;
}

}  // namespace ingot::test
