// The shared shape of the element-wise ops (swiglu, gelu, add, scale): F32 [d, n] views with
// any row stride, a grid-stride loop over n * d elements, out may alias any input (each element
// is read and written by the same thread). check_like validates one operand against another.
#pragma once

#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {

using quant::Type;

struct RowView {
  float* data;
  size_t stride;  // floats between rows
  __device__ float& at(int64_t row, int64_t col) const { return data[row * stride + col]; }
};

inline RowView view_of(const Tensor& t) {
  return RowView{static_cast<float*>(t.data), t.row_stride / 4};
}

inline void check_like(const Tensor& t, const Tensor& like, const char* op, const char* what) {
  backend::expect_type(t, quant::Type::F32, op, what);
  backend::expect_rows(t, like.ne0(), like.n_rows(), op, what);
}

}  // namespace ingot::cuda
