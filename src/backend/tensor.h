// Tensor: a small non-owning view of backend memory (host or device) that carries its element
// type, shape [ne0..ne3] (ne0 = contiguous row length, in elements) and row stride in bytes.
// Rows of a tensor are indexed flat: row r = i1 + ne1 * (i2 + ne2 * i3), at data + r * row_stride.
// Copying a Tensor copies four integers and a pointer; it never owns or frees what it views.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace ingot::backend {

struct Shape {
  std::array<int64_t, 4> ne{1, 1, 1, 1};  // ne[0] contiguous; unused dims are 1

  static Shape of(int64_t ne0, int64_t ne1 = 1, int64_t ne2 = 1, int64_t ne3 = 1) {
    return Shape{{ne0, ne1, ne2, ne3}};
  }
  int64_t n_rows() const noexcept { return ne[1] * ne[2] * ne[3]; }
  int64_t n_elements() const noexcept { return ne[0] * n_rows(); }
  bool operator==(const Shape&) const = default;
};

struct Tensor {
  void* data = nullptr;  // host pointer (CPU) or device pointer (CUDA)
  quant::Type type = quant::Type::F32;
  Shape shape;
  size_t row_stride = 0;  // bytes between consecutive rows (>= row bytes)

  int64_t ne0() const noexcept { return shape.ne[0]; }
  int64_t n_rows() const noexcept { return shape.n_rows(); }
  template <typename T>
  T* row(int64_t r) const noexcept {
    return reinterpret_cast<T*>(static_cast<uint8_t*>(data) + static_cast<size_t>(r) * row_stride);
  }
  // A view of rows [first, first + count) as a 2-D tensor [ne0, count].
  Tensor rows(int64_t first, int64_t count) const noexcept {
    Tensor t = *this;
    t.data = static_cast<uint8_t*>(data) + static_cast<size_t>(first) * row_stride;
    t.shape = Shape::of(shape.ne[0], count);
    return t;
  }
  // The same memory seen with another shape of the same row length and count (a reshape).
  Tensor reshaped(Shape s) const noexcept {
    Tensor t = *this;
    t.shape = s;
    return t;
  }
};

// Bytes of one dense row of `ne0` elements of `type` (checked; throws for partial blocks).
size_t dense_row_bytes(quant::Type type, int64_t ne0);

// A view of dense memory: row stride = dense_row_bytes(type, shape.ne[0]).
Tensor make_tensor(void* data, quant::Type type, Shape shape);

// Total bytes a dense tensor of this type and shape occupies (overflow-checked).
size_t dense_bytes(quant::Type type, Shape shape);

// Throws Error(invalid_argument) naming `op` and `what` unless t has the given type.
void expect_type(const Tensor& t, quant::Type type, const char* op, const char* what);
// Throws unless t has exactly ne0 elements per row and n_rows rows.
void expect_rows(const Tensor& t, int64_t ne0, int64_t n_rows, const char* op, const char* what);

}  // namespace ingot::backend
