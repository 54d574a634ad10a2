// CPU KV ops: write_kv, paged attention, copy_blocks. The batch description (query starts,
// context lengths, block tables) is validated on the host before any work starts, so a bad
// table is an Error, never an out-of-bounds read. Attention runs one task per
// (sequence, group of query heads sharing a kv head, chunk of kQueriesPerTask queries): scores of
// one query against all its keys go to per-thread scratch, then a max-subtracted softmax, then
// sum p_j * v_j; each K/V row is read once per group.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"

namespace ingot::backend::cpu {
namespace {

using quant::Type;

constexpr int64_t kQueriesPerTask = 16;
constexpr int64_t kMaxHeadsPerTask = 64;  // the largest GQA group handled in one task

void check_layer(const KvPool& pool, int64_t layer, const char* op) {
  if (layer < 0 || layer >= pool.shape.n_layers) {
    fail(ErrorCode::invalid_argument, "{}: layer {} of {}", op, layer, pool.shape.n_layers);
  }
}

// Row index of (layer, slot, kv_head 0) in the pool tensors.
int64_t pool_row(const KvPoolShape& s, int64_t layer, int64_t slot) {
  return (layer * s.n_slots() + slot) * s.n_kv_heads;
}

}  // namespace

void CpuBackend::write_kv(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                          const Tensor& slot_mapping) {
  check_layer(pool, layer, "write_kv");
  const KvPoolShape& s = pool.shape;
  const int64_t width = s.n_kv_heads * s.head_dim;
  const int64_t n_tokens = k.n_rows();
  expect_type(k, Type::F32, "write_kv", "k");
  expect_type(v, Type::F32, "write_kv", "v");
  expect_rows(k, width, n_tokens, "write_kv", "k");
  expect_rows(v, width, n_tokens, "write_kv", "v");
  expect_type(slot_mapping, Type::I32, "write_kv", "slot_mapping");
  expect_rows(slot_mapping, n_tokens, 1, "write_kv", "slot_mapping");
  const auto* slots = static_cast<const int32_t*>(slot_mapping.data);
  for (int64_t t = 0; t < n_tokens; ++t) {
    if (slots[t] >= s.n_slots()) {
      fail(ErrorCode::invalid_argument, "write_kv: slot {} outside the pool of {} slots", slots[t],
           s.n_slots());
    }
  }
  for (int64_t t = 0; t < n_tokens; ++t) {
    if (slots[t] < 0) continue;
    const int64_t row = pool_row(s, layer, slots[t]);
    for (const auto& [src, dst] : {std::pair{&k, &pool.k}, std::pair{&v, &pool.v}}) {
      if (s.type == Type::F16) {
        kernels_.f32_to_f16(width, src->row<float>(t), dst->row<uint16_t>(row));
      } else {
        std::memcpy(dst->row<float>(row), src->row<float>(t), static_cast<size_t>(width) * 4);
      }
    }
  }
}

void CpuBackend::copy_blocks(const KvPool& pool, const Tensor& pairs) {
  expect_type(pairs, Type::I32, "copy_blocks", "pairs");
  if (pairs.ne0() != 2)
    fail(ErrorCode::invalid_argument, "copy_blocks: pairs rows must be (src, dst)");
  const KvPoolShape& s = pool.shape;
  const size_t block_bytes = static_cast<size_t>(s.block_size * s.n_kv_heads) * pool.k.row_stride;
  for (int64_t p = 0; p < pairs.n_rows(); ++p) {
    const int32_t* pair = pairs.row<int32_t>(p);
    for (int i = 0; i < 2; ++i) {
      if (pair[i] < 0 || pair[i] >= s.n_blocks) {
        fail(ErrorCode::invalid_argument, "copy_blocks: block {} of {}", pair[i], s.n_blocks);
      }
    }
  }
  for (int64_t p = 0; p < pairs.n_rows(); ++p) {
    const int32_t* pair = pairs.row<int32_t>(p);
    for (int64_t layer = 0; layer < s.n_layers; ++layer) {
      const int64_t src = pool_row(s, layer, pair[0] * s.block_size);
      const int64_t dst = pool_row(s, layer, pair[1] * s.block_size);
      std::memmove(pool.k.row<uint8_t>(dst), pool.k.row<uint8_t>(src), block_bytes);
      std::memmove(pool.v.row<uint8_t>(dst), pool.v.row<uint8_t>(src), block_bytes);
    }
  }
}

void CpuBackend::attention(const Tensor& q, const KvPool& pool, int64_t layer,
                           const AttentionBatch& batch, float scale, const Tensor& out) {
  check_layer(pool, layer, "attention");
  const KvPoolShape& s = pool.shape;
  const int64_t head_dim = s.head_dim;
  expect_type(q, Type::F32, "attention", "q");
  expect_type(out, Type::F32, "attention", "out");
  if (q.ne0() % head_dim != 0 || (q.ne0() / head_dim) % s.n_kv_heads != 0) {
    fail(ErrorCode::invalid_argument,
         "attention: q rows of {} are not a multiple of {} kv heads of {}", q.ne0(), s.n_kv_heads,
         head_dim);
  }
  const int64_t n_heads = q.ne0() / head_dim;
  const int64_t group = n_heads / s.n_kv_heads;
  if (group > kMaxHeadsPerTask) {
    fail(ErrorCode::unsupported, "attention: {} query heads per kv head (at most {})", group,
         kMaxHeadsPerTask);
  }
  const int64_t n_tokens = q.n_rows();
  expect_rows(out, q.ne0(), n_tokens, "attention", "out");
  const int64_t n_seqs = batch.n_seqs;
  expect_type(batch.query_start, Type::I32, "attention", "query_start");
  expect_type(batch.context_len, Type::I32, "attention", "context_len");
  expect_type(batch.block_table, Type::I32, "attention", "block_table");
  expect_rows(batch.query_start, n_seqs + 1, 1, "attention", "query_start");
  expect_rows(batch.context_len, n_seqs, 1, "attention", "context_len");
  if (batch.block_table.n_rows() != n_seqs) {
    fail(ErrorCode::invalid_argument, "attention: block table has {} rows for {} sequences",
         batch.block_table.n_rows(), n_seqs);
  }
  const auto* qs = static_cast<const int32_t*>(batch.query_start.data);
  const auto* ctx = static_cast<const int32_t*>(batch.context_len.data);
  const int64_t max_blocks = batch.block_table.ne0();
  if (n_seqs > 0 && (qs[0] != 0 || qs[n_seqs] != n_tokens)) {
    fail(ErrorCode::invalid_argument, "attention: query starts cover [{}, {}) of {} rows", qs[0],
         qs[n_seqs], n_tokens);
  }
  int64_t longest = 0;
  for (int64_t i = 0; i < n_seqs; ++i) {
    const int64_t q_len = qs[i + 1] - qs[i];
    if (q_len < 0 || q_len > ctx[i] || ctx[i] > max_blocks * s.block_size) {
      fail(ErrorCode::invalid_argument,
           "attention: sequence {} has {} queries, context {}, room for {} tokens", i, q_len,
           ctx[i], max_blocks * s.block_size);
    }
    const int32_t* table = batch.block_table.row<int32_t>(i);
    for (int64_t b = 0; b < (ctx[i] + s.block_size - 1) / s.block_size; ++b) {
      if (table[b] < 0 || table[b] >= s.n_blocks) {
        fail(ErrorCode::invalid_argument, "attention: sequence {} block {} is {} of {}", i, b,
             table[b], s.n_blocks);
      }
    }
    longest = std::max<int64_t>(longest, ctx[i]);
  }
  if (scale <= 0.0f) scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  // Tasks: (sequence, group of query heads sharing one kv head, query chunk). A task reads each
  // K and V row once for all its heads. Groups are halved while there are too few tasks to feed
  // every thread (a single long decode). Per-head arithmetic is the same whatever the grouping.
  int64_t heads_per_task = group;
  const auto count_tasks = [&](int64_t per_task) {
    int64_t n = 0;
    for (int64_t i = 0; i < n_seqs; ++i)
      n += (qs[i + 1] - qs[i] + kQueriesPerTask - 1) / kQueriesPerTask;
    return n * (n_heads / per_task);
  };
  while (heads_per_task % 2 == 0 &&
         count_tasks(heads_per_task) < static_cast<int64_t>(2 * pool_.n_threads())) {
    heads_per_task /= 2;
  }
  grow_thread_scratch(static_cast<size_t>(heads_per_task * (longest + head_dim)));
  std::vector<AttentionTask>& tasks = attention_tasks_;
  tasks.clear();
  for (int64_t i = 0; i < n_seqs; ++i) {
    for (int64_t first = qs[i]; first < qs[i + 1]; first += kQueriesPerTask) {
      const int64_t last = std::min<int64_t>(qs[i + 1], first + kQueriesPerTask);
      for (int64_t h = 0; h < n_heads; h += heads_per_task) {
        tasks.push_back(AttentionTask{static_cast<int32_t>(i), static_cast<int32_t>(h),
                                      static_cast<int32_t>(first), static_cast<int32_t>(last)});
      }
    }
  }
  const bool f16 = s.type == Type::F16;
  const int64_t n_g = heads_per_task;
  for_tasks(tasks.size(), [&](size_t index, size_t thread) {
    const AttentionTask& task = tasks[index];
    const int32_t* table = batch.block_table.row<int32_t>(task.seq);
    const int64_t kv_head = task.head / group;
    const int64_t q_len = qs[task.seq + 1] - qs[task.seq];
    const int64_t first_pos = ctx[task.seq] - q_len;
    float* scores = thread_scratch(thread);  // [n_g][longest]
    float* acc = scores + n_g * longest;     // [n_g][head_dim]
    float sum[kMaxHeadsPerTask];
    // Consecutive slots of one kv head are n_kv_heads rows apart.
    const size_t slot_stride =
        static_cast<size_t>(s.n_kv_heads) * pool.k.row_stride / (f16 ? 2 : 4);
    for (int64_t row = task.first; row < task.last; ++row) {
      const int64_t n_keys = first_pos + (row - qs[task.seq]) + 1;  // causal: keys 0..pos
      const float* qv = q.row<float>(row) + task.head * head_dim;   // n_g heads, contiguous
      for (int64_t j0 = 0; j0 < n_keys; j0 += s.block_size) {
        const int64_t r = pool_row(s, layer, table[j0 / s.block_size] * s.block_size) + kv_head;
        const int64_t n = std::min(n_keys - j0, s.block_size);
        if (f16) {
          kernels_.qk_f16(head_dim, pool.k.row<uint16_t>(r), slot_stride, n, qv, n_g, scale,
                          scores + j0, static_cast<size_t>(longest));
        } else {
          kernels_.qk_f32(head_dim, pool.k.row<float>(r), slot_stride, n, qv, n_g, scale,
                          scores + j0, static_cast<size_t>(longest));
        }
      }
      for (int64_t g = 0; g < n_g; ++g) {
        float* sg = scores + g * longest;
        const float max_score = *std::max_element(sg, sg + n_keys);
        sum[g] = kernels_.exp_sum(n_keys, sg, max_score);
      }
      std::fill(acc, acc + n_g * head_dim, 0.0f);
      for (int64_t j0 = 0; j0 < n_keys; j0 += s.block_size) {
        const int64_t r = pool_row(s, layer, table[j0 / s.block_size] * s.block_size) + kv_head;
        const int64_t n = std::min(n_keys - j0, s.block_size);
        if (f16) {
          kernels_.pv_f16(head_dim, pool.v.row<uint16_t>(r), slot_stride, n, scores + j0, n_g,
                          static_cast<size_t>(longest), acc);
        } else {
          kernels_.pv_f32(head_dim, pool.v.row<float>(r), slot_stride, n, scores + j0, n_g,
                          static_cast<size_t>(longest), acc);
        }
      }
      for (int64_t g = 0; g < n_g; ++g) {
        float* o = out.row<float>(row) + (task.head + g) * head_dim;
        const float inv = 1.0f / sum[g];
        for (int64_t d = 0; d < head_dim; ++d) o[d] = acc[g * head_dim + d] * inv;
      }
    }
  });
}

}  // namespace ingot::backend::cpu
