#include "backend/backend.h"

namespace ingot::backend {

Tensor Backend::alloc_tensor(quant::Type type, Shape shape, Buffer& storage) {
  storage = alloc(dense_bytes(type, shape));
  return make_tensor(storage.data(), type, shape);
}

}  // namespace ingot::backend
