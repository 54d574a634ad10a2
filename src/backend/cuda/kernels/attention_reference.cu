// attention over the paged KV cache, the simple reference kernel: one block of 128 threads per
// (query row, query head). The block finds its sequence by binary search over query_start,
// then walks its keys 0..pos in chunks of 128: each thread scores one key (dot over head_dim in
// f32), the block takes the chunk max and rescales its running sum and accumulators (online
// softmax), and threads over head_dim add p_j * v_j. K/V rows are read once per query head
// (no GQA sharing, no tensor cores): slow, kept for F32 pools, head sizes the flash kernel does
// not take, and as the reference the flash kernel is tested and timed against.
// Batch errors found on the device (bad starts, lengths, block ids) write NaN and are reported.
#include <cuda_fp16.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/attention.cuh"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/kv_store.cuh"
#include "backend/cuda/launch_check.h"

namespace ingot::cuda {
namespace {

constexpr int kThreads = 128;     // keys per chunk, and threads over head_dim
constexpr int kMaxHeadDim = 256;  // accumulators: kMaxHeadDim / kThreads per thread
constexpr int kDimsPerThread = kMaxHeadDim / kThreads;

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
        for (int d = 0; d < a.head_dim; ++d) dot = fmaf(q_shared[d], kv::to_float<T>(kr[d]), dot);
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
        sum = fmaf(p_shared[jj], kv::to_float<T>(v_pool[static_cast<size_t>(row_shared[jj]) * a.pool_stride + d]), sum);
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

void launch_attention_reference_kernel(const AttentionArgs& a, int n_heads, quant::Type pool_type,
                                       cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(a.n_tokens), static_cast<unsigned>(n_heads));
  if (pool_type == quant::Type::F16) {
    attention_kernel<__half><<<grid, kThreads, 0, stream>>>(a);
  } else {
    attention_kernel<float><<<grid, kThreads, 0, stream>>>(a);
  }
  check_last_launch("attention_kernel");
}

}  // namespace ingot::cuda
