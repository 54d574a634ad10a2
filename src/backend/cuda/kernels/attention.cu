// attention over the paged KV cache, the simple correct version: one block of 128 threads per
// (query row, query head). The block finds its sequence by binary search over query_start,
// then walks its keys 0..pos in chunks of 128: each thread scores one key (dot over head_dim in
// f32), the block takes the chunk max and rescales its running sum and accumulators (online
// softmax), and threads over head_dim add p_j * v_j. K/V rows are read once per query head
// (no GQA sharing, no tensor cores): a baseline to test against, not the fast path.
// Batch errors found on the device (bad starts, lengths, block ids) write NaN and are reported.
#include <cuda_fp16.h>

#include <cmath>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

constexpr int kThreads = 128;     // keys per chunk, and threads over head_dim
constexpr int kMaxHeadDim = 256;  // accumulators: kMaxHeadDim / kThreads per thread
constexpr int kDimsPerThread = kMaxHeadDim / kThreads;

struct AttentionArgs {
  const float* q;
  size_t q_stride;  // floats
  float* out;
  size_t out_stride;
  const void* k_pool;
  const void* v_pool;
  size_t pool_stride;  // elements between pool rows
  int64_t layer_row0;  // pool row of (layer, slot 0, kv head 0)
  int64_t n_blocks;
  int block_size;
  int n_kv_heads;
  int head_dim;
  int group;  // query heads per kv head
  const int32_t* query_start;
  const int32_t* context_len;
  const int32_t* block_table;
  size_t table_stride;  // ints between block-table rows
  int64_t max_blocks;   // entries per block-table row
  int n_seqs;
  int64_t n_tokens;
  float scale;
  DeviceErrorWord* error;
};

template <typename T>
__device__ inline float to_float(T v);
template <>
__device__ inline float to_float<float>(float v) { return v; }
template <>
__device__ inline float to_float<__half>(__half v) { return __half2float(v); }

template <typename T>
__global__ void attention_kernel(const AttentionArgs a) {
  __shared__ float q_shared[kMaxHeadDim];
  __shared__ float p_shared[kThreads];
  __shared__ int64_t row_shared[kThreads];
  __shared__ float scratch[32];
  const int64_t token = blockIdx.x;
  const int head = blockIdx.y;
  const int kv_head = head / a.group;
  float* o = a.out + token * a.out_stride + static_cast<int64_t>(head) * a.head_dim;

  // The sequence owning this query row: the last s with query_start[s] <= token.
  int lo = 0, hi = a.n_seqs - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (a.query_start[mid] <= token) lo = mid; else hi = mid - 1;
  }
  const int seq = lo;
  const int32_t q_begin = a.query_start[seq], q_end = a.query_start[seq + 1];
  const int32_t context = a.context_len[seq];
  const int32_t q_len = q_end - q_begin;
  if (a.query_start[0] != 0 || a.query_start[a.n_seqs] != a.n_tokens || token < q_begin ||
      token >= q_end || q_len > context || context > a.max_blocks * a.block_size) {
    if (threadIdx.x == 0) report_error(a.error, kDeviceErrorAttentionBatch, seq, static_cast<int32_t>(token));
    for (int d = threadIdx.x; d < a.head_dim; d += blockDim.x) o[d] = NAN;
    return;
  }
  const int64_t n_keys = static_cast<int64_t>(context - q_len) + (token - q_begin) + 1;
  const float* qv = a.q + token * a.q_stride + static_cast<int64_t>(head) * a.head_dim;
  for (int d = threadIdx.x; d < a.head_dim; d += blockDim.x) q_shared[d] = qv[d];
  const int32_t* table = a.block_table + static_cast<size_t>(seq) * a.table_stride;
  const T* k_pool = static_cast<const T*>(a.k_pool);
  const T* v_pool = static_cast<const T*>(a.v_pool);

  float running_max = -INFINITY, running_sum = 0.0f;
  float acc[kDimsPerThread];
#pragma unroll
  for (int i = 0; i < kDimsPerThread; ++i) acc[i] = 0.0f;
  bool bad_block = false;
  __syncthreads();
  for (int64_t chunk = 0; chunk < n_keys; chunk += kThreads) {
    const int64_t j = chunk + threadIdx.x;
    float score = -INFINITY;
    int64_t row = -1;
    if (j < n_keys) {
      const int32_t block = table[j / a.block_size];
      if (block < 0 || block >= a.n_blocks) {
        report_error(a.error, kDeviceErrorAttentionBlock, block, static_cast<int32_t>(a.n_blocks));
        bad_block = true;
      } else {
        row = a.layer_row0 + (static_cast<int64_t>(block) * a.block_size + j % a.block_size) *
                                 a.n_kv_heads + kv_head;
        const T* kr = k_pool + static_cast<size_t>(row) * a.pool_stride;
        float dot = 0.0f;
        for (int d = 0; d < a.head_dim; ++d) dot = fmaf(q_shared[d], to_float<T>(kr[d]), dot);
        score = dot * a.scale;
      }
    }
    const float chunk_max = block_max(score, scratch);
    const float new_max = fmaxf(running_max, chunk_max);
    const float p = row >= 0 ? expf(score - new_max) : 0.0f;
    p_shared[threadIdx.x] = p;
    row_shared[threadIdx.x] = row;
    const float chunk_sum = block_sum(p, scratch);  // its barriers also publish p_shared
    const float alpha = running_max == -INFINITY ? 0.0f : expf(running_max - new_max);
    running_sum = running_sum * alpha + chunk_sum;
    running_max = new_max;
    const int n_in_chunk = static_cast<int>(n_keys - chunk < kThreads ? n_keys - chunk : kThreads);
#pragma unroll
    for (int i = 0; i < kDimsPerThread; ++i) {
      const int d = threadIdx.x + i * kThreads;
      if (d >= a.head_dim) continue;
      float sum = 0.0f;
      for (int jj = 0; jj < n_in_chunk; ++jj) {
        if (row_shared[jj] < 0) continue;
        sum = fmaf(p_shared[jj], to_float<T>(v_pool[static_cast<size_t>(row_shared[jj]) * a.pool_stride + d]), sum);
      }
      acc[i] = acc[i] * alpha + sum;
    }
    __syncthreads();  // p_shared and row_shared are rewritten by the next chunk
  }
  const bool failed = __syncthreads_or(bad_block);
#pragma unroll
  for (int i = 0; i < kDimsPerThread; ++i) {
    const int d = threadIdx.x + i * kThreads;
    if (d < a.head_dim) o[d] = failed ? NAN : acc[i] / running_sum;
  }
}

}  // namespace

void launch_attention(const Tensor& q, const KvPool& pool, int64_t layer,
                      const AttentionBatch& batch, float scale, const Tensor& out,
                      DeviceErrorWord* error, cudaStream_t stream) {
  const backend::KvPoolShape& s = pool.shape;
  if (layer < 0 || layer >= s.n_layers) {
    fail_argument("attention", "layer " + std::to_string(layer) + " of " + std::to_string(s.n_layers));
  }
  const int64_t head_dim = s.head_dim;
  backend::expect_type(q, Type::F32, "attention", "q");
  backend::expect_type(out, Type::F32, "attention", "out");
  if (head_dim <= 0 || q.ne0() % head_dim != 0 || (q.ne0() / head_dim) % s.n_kv_heads != 0) {
    fail_argument("attention", "q rows of " + std::to_string(q.ne0()) + " are not a multiple of " +
                                   std::to_string(s.n_kv_heads) + " kv heads of " + std::to_string(head_dim));
  }
  if (head_dim > kMaxHeadDim) {
    fail_unsupported("attention", "head_dim " + std::to_string(head_dim) + " (at most " +
                                      std::to_string(kMaxHeadDim) + ")");
  }
  const int64_t n_heads = q.ne0() / head_dim;
  const int64_t n_tokens = q.n_rows();
  backend::expect_rows(out, q.ne0(), n_tokens, "attention", "out");
  const int64_t n_seqs = batch.n_seqs;
  backend::expect_type(batch.query_start, Type::I32, "attention", "query_start");
  backend::expect_type(batch.context_len, Type::I32, "attention", "context_len");
  backend::expect_type(batch.block_table, Type::I32, "attention", "block_table");
  backend::expect_rows(batch.query_start, n_seqs + 1, 1, "attention", "query_start");
  backend::expect_rows(batch.context_len, n_seqs, 1, "attention", "context_len");
  if (batch.block_table.n_rows() != n_seqs) {
    fail_argument("attention", "block table has " + std::to_string(batch.block_table.n_rows()) +
                                   " rows for " + std::to_string(n_seqs) + " sequences");
  }
  if (pool.k.type != s.type || pool.v.type != s.type || pool.k.row_stride != pool.v.row_stride) {
    fail_argument("attention", "pool tensors do not match the pool shape");
  }
  if (n_tokens == 0) return;
  if (n_seqs <= 0) fail_argument("attention", std::to_string(n_tokens) + " query rows and no sequence");
  if (n_heads > 65535) fail_unsupported("attention", "more than 65535 query heads");
  if (scale <= 0.0f) scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  AttentionArgs a{};
  a.q = static_cast<const float*>(q.data);
  a.q_stride = q.row_stride / 4;
  a.out = static_cast<float*>(out.data);
  a.out_stride = out.row_stride / 4;
  a.k_pool = pool.k.data;
  a.v_pool = pool.v.data;
  a.pool_stride = pool.k.row_stride / (s.type == Type::F16 ? 2 : 4);
  a.layer_row0 = layer * s.n_slots() * s.n_kv_heads;
  a.n_blocks = s.n_blocks;
  a.block_size = static_cast<int>(s.block_size);
  a.n_kv_heads = static_cast<int>(s.n_kv_heads);
  a.head_dim = static_cast<int>(head_dim);
  a.group = static_cast<int>(n_heads / s.n_kv_heads);
  a.query_start = static_cast<const int32_t*>(batch.query_start.data);
  a.context_len = static_cast<const int32_t*>(batch.context_len.data);
  a.block_table = static_cast<const int32_t*>(batch.block_table.data);
  a.table_stride = batch.block_table.row_stride / 4;
  a.max_blocks = batch.block_table.ne0();
  a.n_seqs = static_cast<int>(n_seqs);
  a.n_tokens = n_tokens;
  a.scale = scale;
  a.error = error;
  const dim3 grid(static_cast<unsigned>(n_tokens), static_cast<unsigned>(n_heads));
  if (s.type == Type::F16) {
    attention_kernel<__half><<<grid, kThreads, 0, stream>>>(a);
  } else if (s.type == Type::F32) {
    attention_kernel<float><<<grid, kThreads, 0, stream>>>(a);
  } else {
    fail_unsupported("attention", "KV pool type " + std::string(quant::name(s.type)));
  }
  check_last_launch("attention_kernel");
}

}  // namespace ingot::cuda
