// rope_write_kv: RoPE on q and k in place and k, v stored at each token's slot of the layer in
// one launch (instead of rope, rope, write_kv): blocks over (token, 128 items), an item being a
// q pair, a k pair (rotated, then stored), an unrotated k element (partial rotation) or a v
// element. Same arithmetic as rope.cu and write_kv.cu, so the results are bit-identical to them.
// A negative slot skips the token's stores (its q and k are still rotated); a slot past the pool
// is reported through the device error word.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/kv_store.cuh"
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/rope.cuh"

namespace ingot::cuda {
namespace {

constexpr int kThreads = 128;

struct FusedArgs {
  float* q;
  size_t q_stride;
  float* k;
  size_t k_stride;
  const float* v;
  size_t v_stride;
  const int32_t* positions;
  const int32_t* slots;
  int n_q_heads;
  kv::Target kv;
  DeviceErrorWord* error;
};

template <typename T>
__global__ void rope_write_kv_kernel(const FusedArgs f, const rope::Args r, T* k_pool, T* v_pool) {
  const int64_t token = blockIdx.x;
  const double pos = static_cast<double>(f.positions[token]);
  int32_t slot = f.slots[token];
  if (slot >= f.kv.n_slots) {
    if (blockIdx.y == 0 && threadIdx.x == 0) {
      report_error(f.error, kDeviceErrorKvSlot, slot, static_cast<int32_t>(f.kv.n_slots));
    }
    slot = -1;
  }
  const int64_t row0 = slot >= 0 ? kv::slot_row0(f.kv.layer_row0, slot, f.kv.n_kv_heads) : 0;
  auto store = [&](T* pool, int head, int i, float value) {
    if (slot >= 0) pool[static_cast<size_t>(row0 + head) * f.kv.pool_stride + i] = kv::from_float<T>(value);
  };
  const int d = r.head_dim, n_pairs = r.n_pairs, n_kv = f.kv.n_kv_heads;
  const int q_items = f.n_q_heads * n_pairs, k_items = n_kv * n_pairs;
  const int plain = d - 2 * n_pairs;  // unrotated dims per head
  const int plain_items = n_kv * plain, v_items = n_kv * d;
  const int n = q_items + k_items + plain_items + v_items;
  float* q = f.q + token * f.q_stride;
  float* k = f.k + token * f.k_stride;
  const float* v = f.v + token * f.v_stride;
  for (int idx = blockIdx.y * blockDim.x + threadIdx.x; idx < n; idx += gridDim.y * blockDim.x) {
    int i = idx;
    if (i < q_items) {
      rope::rotate(r, q + (i / n_pairs) * d, i % n_pairs, pos);
      continue;
    }
    i -= q_items;
    if (i < k_items) {
      const int head = i / n_pairs, pair = i % n_pairs;
      float* kh = k + head * d;
      rope::rotate(r, kh, pair, pos);
      const int a = rope::first_of_pair(r, pair), b = rope::second_of_pair(r, pair);
      store(k_pool, head, a, kh[a]);
      store(k_pool, head, b, kh[b]);
      continue;
    }
    i -= k_items;
    if (i < plain_items) {
      const int head = i / plain, e = 2 * n_pairs + i % plain;
      store(k_pool, head, e, k[head * d + e]);
      continue;
    }
    i -= plain_items;
    store(v_pool, i / d, i % d, v[i]);
  }
}

}  // namespace

void launch_rope_write_kv(const Tensor& q, const Tensor& k, const Tensor& v,
                          const Tensor& positions, const RopeTable& table, const KvPool& pool,
                          int64_t layer, const Tensor& slot_mapping, DeviceErrorWord* error,
                          cudaStream_t stream) {
  const kv::Target t = kv::check_write(pool, layer, k, v, slot_mapping, "rope_write_kv");
  backend::expect_type(q, Type::F32, "rope_write_kv", "q");
  backend::expect_type(positions, Type::I32, "rope_write_kv", "positions");
  backend::expect_rows(positions, t.n_tokens, 1, "rope_write_kv", "positions");
  if (q.n_rows() != t.n_tokens) {
    fail_argument("rope_write_kv", std::to_string(q.n_rows()) + " q rows for " +
                                       std::to_string(t.n_tokens) + " k rows");
  }
  const rope::Args r = rope::make_args(table, q.ne0(), "rope_write_kv");
  if (table.head_dim != t.head_dim) {  // k rows are whole pool heads (check_write)
    fail_argument("rope_write_kv", "rope head_dim " + std::to_string(table.head_dim) +
                                       " but the pool's " + std::to_string(t.head_dim));
  }
  if (t.n_tokens == 0) return;
  FusedArgs f{};
  f.q = static_cast<float*>(q.data);
  f.q_stride = q.row_stride / 4;
  f.k = static_cast<float*>(k.data);
  f.k_stride = k.row_stride / 4;
  f.v = static_cast<const float*>(v.data);
  f.v_stride = v.row_stride / 4;
  f.positions = static_cast<const int32_t*>(positions.data);
  f.slots = static_cast<const int32_t*>(slot_mapping.data);
  f.n_q_heads = static_cast<int>(q.ne0() / table.head_dim);
  f.kv = t;
  f.error = error;
  const int64_t items = (f.n_q_heads + t.n_kv_heads) * int64_t{r.n_pairs} +
                        t.n_kv_heads * int64_t{t.head_dim - 2 * r.n_pairs} + t.n_kv_heads * int64_t{t.head_dim};
  const dim3 grid(static_cast<unsigned>(t.n_tokens), static_cast<unsigned>((items + kThreads - 1) / kThreads));
  if (pool.shape.type == Type::F16) {
    rope_write_kv_kernel<__half><<<grid, kThreads, 0, stream>>>(
        f, r, static_cast<__half*>(pool.k.data), static_cast<__half*>(pool.v.data));
  } else {
    rope_write_kv_kernel<float><<<grid, kThreads, 0, stream>>>(
        f, r, static_cast<float*>(pool.k.data), static_cast<float*>(pool.v.data));
  }
  check_last_launch("rope_write_kv_kernel");
}

}  // namespace ingot::cuda
