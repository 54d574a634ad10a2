#include "backend/tensor.h"

#include "core/checked_math.h"
#include "core/error.h"

namespace ingot::backend {

size_t dense_row_bytes(quant::Type type, int64_t ne0) {
  if (ne0 < 0) fail(ErrorCode::invalid_argument, "negative row length {}", ne0);
  return static_cast<size_t>(quant::row_bytes(type, static_cast<uint64_t>(ne0)));
}

size_t dense_bytes(quant::Type type, Shape shape) {
  for (int64_t n : shape.ne) {
    if (n < 0) fail(ErrorCode::invalid_argument, "negative tensor dimension {}", n);
  }
  uint64_t bytes = dense_row_bytes(type, shape.ne[0]);
  for (int i = 1; i < 4; ++i) {
    bytes = checked_mul(bytes, static_cast<uint64_t>(shape.ne[i]), "tensor size",
                        ErrorCode::invalid_argument);
  }
  return static_cast<size_t>(bytes);
}

Tensor make_tensor(void* data, quant::Type type, Shape shape) {
  (void)dense_bytes(type, shape);  // validates the shape
  return Tensor{data, type, shape, dense_row_bytes(type, shape.ne[0])};
}

void expect_type(const Tensor& t, quant::Type type, const char* op, const char* what) {
  if (t.type != type) {
    fail(ErrorCode::invalid_argument, "{}: {} has type {}, expected {}", op, what,
         quant::name(t.type), quant::name(type));
  }
}

void expect_rows(const Tensor& t, int64_t ne0, int64_t n_rows, const char* op, const char* what) {
  if (t.ne0() != ne0 || t.n_rows() != n_rows) {
    fail(ErrorCode::invalid_argument, "{}: {} is [{}, {}] (row length, rows), expected [{}, {}]",
         op, what, t.ne0(), t.n_rows(), ne0, n_rows);
  }
  if (t.data == nullptr && n_rows > 0 && ne0 > 0) {
    fail(ErrorCode::invalid_argument, "{}: {} has no data", op, what);
  }
}

}  // namespace ingot::backend
