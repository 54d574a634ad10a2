// Helpers for the backend op tests: random host tensors, ISA lists, double-precision norms.
#pragma once

// The tests build parameter structs with designated initializers naming only what matters;
// GCC 12 warns about the defaulted rest, which is intended here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/tensor.h"

namespace ingot::backend::test {

// A dense tensor with its own storage.
struct Owned {
  Buffer buffer;
  Tensor t;
};

inline Owned make_owned(Backend& b, quant::Type type, Shape shape) {
  Owned o;
  o.t = b.alloc_tensor(type, shape, o.buffer);
  return o;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline Owned f32_tensor(Backend& b, const std::vector<float>& values, int64_t ne0) {
  Owned o =
      make_owned(b, quant::Type::F32, Shape::of(ne0, static_cast<int64_t>(values.size()) / ne0));
  std::memcpy(o.t.data, values.data(), values.size() * sizeof(float));
  return o;
}

inline Owned i32_tensor(Backend& b, const std::vector<int32_t>& values, int64_t ne0 = 0) {
  if (ne0 == 0) ne0 = static_cast<int64_t>(values.size());
  Owned o =
      make_owned(b, quant::Type::I32, Shape::of(ne0, static_cast<int64_t>(values.size()) / ne0));
  std::memcpy(o.t.data, values.data(), values.size() * sizeof(int32_t));
  return o;
}

inline std::vector<float> read_f32(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.ne0() * t.n_rows()));
  for (int64_t r = 0; r < t.n_rows(); ++r) {
    std::memcpy(v.data() + r * t.ne0(), t.row<float>(r), static_cast<size_t>(t.ne0()) * 4);
  }
  return v;
}

// Every instruction set this machine can run (scalar first).
inline std::vector<cpu::Isa> available_isas() {
  std::vector<cpu::Isa> out;
  for (cpu::Isa isa : {cpu::Isa::scalar, cpu::Isa::avx2, cpu::Isa::avx512, cpu::Isa::neon}) {
    if (cpu::kernels_for(isa)) out.push_back(isa);
  }
  return out;
}

inline std::string isa_param_name(const ::testing::TestParamInfo<cpu::Isa>& info) {
  return std::string(cpu::isa_name(info.param));
}

}  // namespace ingot::backend::test
