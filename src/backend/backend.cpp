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

void Backend::matmul_many(const Tensor& x, std::span<const MatmulTarget> targets) {
  for (const MatmulTarget& t : targets) matmul(x, *t.w, t.bias, *t.out);
}

void Backend::matmul_swiglu(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                            const Tensor& gate, const Tensor& up) {
  matmul(x, w_gate, nullptr, gate);
  matmul(x, w_up, nullptr, up);
  swiglu(gate, up, gate);
}

void Backend::rope_write_kv(const Tensor& q, const Tensor& k, const Tensor& v,
                            const Tensor& positions, const RopeTable& table, const KvPool& pool,
                            int64_t layer, const Tensor& slot_mapping) {
  rope(q, positions, table);
  rope(k, positions, table);
  write_kv(pool, layer, k, v, slot_mapping);
}

}  // namespace ingot::backend
