// Helpers for the CUDA-vs-CPU op tests: one CudaBackend per process (device from
// INGOT_GPU_DEVICE, default 0) with a planned workspace, paired tensors holding the same bytes on
// both backends, NaN-poisoned outputs, relative L2 errors in double, and the results table
// (op, type, shape, error, threshold, pass) that main.cpp prints last.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"
#include "quant/quant.h"

namespace ingot::gpu_test {

using backend::Buffer;
using backend::Shape;
using backend::Tensor;
using quant::Type;

struct ResultRow {
  std::string op, type, shape;
  double error;
  double threshold;
  bool pass;
};
std::vector<ResultRow>& results();
void record(ResultRow row);

cuda::CudaBackend& gpu();
backend::cpu::CpuBackend& cpu();

// The same tensor on both backends.
struct Pair {
  Buffer cpu_buffer, gpu_buffer;
  Tensor cpu, gpu;
};

Pair make_pair_bytes(Type type, Shape shape, const void* bytes);
Pair make_f32(const std::vector<float>& values, int64_t ne0);
Pair make_i32(const std::vector<int32_t>& values, int64_t ne0 = 0);
// Output tensors filled with NaN (0xff bytes) on both backends.
Pair make_poisoned(Type type, Shape shape);

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);
// The dense contents of a tensor of either backend, widened to float (F32 and F16 only).
std::vector<float> read_cpu(const Tensor& t);
std::vector<float> read_gpu(const Tensor& t);

// ||a - b|| / ||b|| in double; infinity when either holds a NaN or b is all zeros.
double relative_error(const std::vector<float>& a, const std::vector<float>& b);

// Compares the GPU and CPU contents of `out`, records the row and expects error < threshold.
double expect_close(const std::string& op, const std::string& type, const std::string& shape,
                    const Pair& out, double threshold);

std::string shape_text(int64_t ne0, int64_t ne1);

// Weight rows quantized from random values, and what they mean (row-major [n_out][k]).
struct Weight {
  std::vector<uint8_t> bytes;
  std::vector<float> dequantized;
};
Weight make_weight(Type type, int64_t k, int64_t n_out, uint32_t seed);

// The CPU matmul's own tolerance for weight type `type` on one output: its activations are
// quantized to vec_dot_type, error <= 1.5 * bound + 1e-5 * sum|w x| + 1e-6 (see
// tests/unit/backend/matmul_test.cpp).
double cpu_tolerance(Type type, const float* w, const float* x, int64_t k);

// Every weight type the CUDA backend supports.
std::vector<Type> cuda_weight_types();

}  // namespace ingot::gpu_test
