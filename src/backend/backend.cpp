#include "backend/backend.h"

#include "core/checked_math.h"

namespace ingot::backend {

uint64_t weight_arena_bytes(quant::Type type, Shape shape) {
  return checked_align_up(dense_bytes(type, shape), kWeightArenaAlignment, "weight arena",
                          ErrorCode::out_of_range);
}

Tensor Backend::alloc_tensor(quant::Type type, Shape shape, Buffer& storage) {
  storage = alloc(dense_bytes(type, shape));
  return make_tensor(storage.data(), type, shape);
}

}  // namespace ingot::backend
