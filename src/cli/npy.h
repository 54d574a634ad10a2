// A minimal NumPy .npy writer for float32 matrices (format version 1.0, C order), used by
// `ingot eval --logits`. Cost: one header line and one write of the data.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace ingot::cli {

// Writes data as a float32 array of shape [rows, cols]. Error(io) naming the path on failure.
void write_npy_f32(const std::string& path, std::span<const float> data, int64_t rows, int64_t cols);

}  // namespace ingot::cli
