// RoPE pieces shared by rope.cu and the fused rope_write_kv.cu: the launch arguments (the
// frequency table by value, n_rot/2 <= 256 floats, so nothing is uploaded per call), their
// checked construction, and the rotation of one pair (angle, cos and sin in double as on the
// CPU; unfused multiplies, so results match the CPU to the last bit in nearly every element).
#pragma once

#include <string>

#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda::rope {

constexpr int kMaxPairs = 256;

struct Args {
  float inv_freq[kMaxPairs];
  float magnitude;
  int n_pairs;
  int head_dim;
  bool neox;
};

// Checks that rows of `row_elements` are whole heads of the table's head_dim; `op` names the
// caller in errors.
inline Args make_args(const RopeTable& table, int64_t row_elements, const char* op) {
  const int64_t n_pairs = static_cast<int64_t>(table.inv_freq.size());
  if (table.head_dim <= 0 || row_elements % table.head_dim != 0 || n_pairs * 2 != table.n_rot ||
      table.n_rot > table.head_dim) {
    fail_argument(op, "row of " + std::to_string(row_elements) + " is not whole heads of " +
                          std::to_string(table.head_dim) + " with " + std::to_string(table.n_rot) +
                          " rotated dims");
  }
  if (n_pairs > kMaxPairs) {
    fail_unsupported(op, std::to_string(table.n_rot) + " rotated dims (at most " +
                             std::to_string(2 * kMaxPairs) + ")");
  }
  Args args{};
  for (int64_t i = 0; i < n_pairs; ++i) args.inv_freq[i] = table.inv_freq[static_cast<size_t>(i)];
  args.magnitude = table.magnitude;
  args.n_pairs = static_cast<int>(n_pairs);
  args.head_dim = static_cast<int>(table.head_dim);
  args.neox = table.layout == backend::RopeLayout::neox;
  return args;
}

// Offsets of pair i's two elements inside a head.
__device__ inline int first_of_pair(const Args& a, int i) { return a.neox ? i : 2 * i; }
__device__ inline int second_of_pair(const Args& a, int i) { return a.neox ? i + a.n_pairs : 2 * i + 1; }

// Rotates pair i of the head at `v` (in place) for position `pos`.
__device__ inline void rotate(const Args& a, float* v, int i, double pos) {
  const double theta = pos * static_cast<double>(a.inv_freq[i]);
  double s, c;
  sincos(theta, &s, &c);
  const float cs = static_cast<float>(c * static_cast<double>(a.magnitude));
  const float sn = static_cast<float>(s * static_cast<double>(a.magnitude));
  float* p = v + first_of_pair(a, i);
  float* q = v + second_of_pair(a, i);
  const float x0 = *p, x1 = *q;
  *p = __fsub_rn(__fmul_rn(x0, cs), __fmul_rn(x1, sn));
  *q = __fadd_rn(__fmul_rn(x0, sn), __fmul_rn(x1, cs));
}

}  // namespace ingot::cuda::rope
