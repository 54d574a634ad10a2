// attention over the paged KV cache: the launcher. It checks the views, builds AttentionArgs and
// picks the kernel: for batches with one query row per sequence (n_tokens == n_seqs: decode) the
// decode kernel (attention_decode.cu: F16 pools with head_dim 64/96/128/256, F32 with 64/128,
// groups up to 8); otherwise the tensor-core flash kernel (attention_flash.cu) for F16 pools with
// head_dim 64/128, groups up to 64; the reference kernel (attention_reference.cu) for the rest or
// when asked for; all need 16-byte aligned pool rows but the reference. Split-K over the context
// when the batch has too few CTAs to fill the GPU; the split count depends only on host-known
// shapes (n_seqs, max_context: CUDA-graph replays keep it). Partials live in the caller's
// scratch (the matmul's dequantization workspace: ops on one stream never overlap), planned by
// reserve(); no allocation here. INGOT_ATTENTION=flash|reference forces a kernel (comparisons).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/attention.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

constexpr int kMaxHeadDim = 256;  // the reference kernel's limit
constexpr int kMaxFlashSplits = 16;        // the flash kernel's automatic choice
constexpr int64_t kFlashRows = 64;         // query rows per flash CTA
constexpr int64_t kKeysPerSplitMin = 128;  // two key tiles
constexpr int64_t kDecodeOneSplitContext = 256;  // decode: no split up to this max_context
constexpr int64_t kDecodeKeysPerSplitMin = 64;  // one decode tile
constexpr int64_t kDecodeMaxAutoSplits = 16;

enum class Kernel { decode, flash, reference };

// INGOT_ATTENTION=flash|reference (read once; other values: the automatic choice).
Kernel forced_kernel(Kernel automatic) {
  static const int forced = [] {
    const char* v = std::getenv("INGOT_ATTENTION");
    const std::string s = v != nullptr ? v : "";
    return s == "flash" ? 1 : s == "reference" ? 2 : 0;
  }();
  return forced == 2 ? Kernel::reference : forced == 1 && automatic == Kernel::decode ? Kernel::flash : automatic;
}

Kernel pick_kernel(Type pool_type, int64_t head_dim, int64_t group, int64_t n_tokens, int64_t n_seqs,
                   const AttentionOptions& options) {
  if (options.reference) return Kernel::reference;
  const int d = static_cast<int>(std::min<int64_t>(head_dim, 1 << 20));
  const int g = static_cast<int>(std::min<int64_t>(group, 1 << 20));
  Kernel k = Kernel::reference;
  if (!options.flash && n_tokens == n_seqs && decode_attention_supports(pool_type, d, g)) {
    k = Kernel::decode;
  } else if (pool_type == Type::F16 && flash_attention_supports(d, g)) {
    k = Kernel::flash;
  }
  k = forced_kernel(k);
  // Forced to flash where the flash kernel does not apply: the reference kernel.
  if (k == Kernel::flash && !(pool_type == Type::F16 && flash_attention_supports(d, g))) k = Kernel::reference;
  return k;
}

int multiprocessors() {
  int device = 0, n = 0;
  check_cuda(cudaGetDevice(&device), "cudaGetDevice");
  check_cuda(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device),
             "cudaDeviceGetAttribute");
  return std::max(n, 1);
}

// Splits of the key range: only when (tiles x KV heads) leave SMs idle, at least two key tiles
// per split, and as many as the scratch holds.
int choose_splits(int64_t n_tokens, int64_t n_seqs, int64_t n_kv_heads, int64_t group,
                  int64_t max_context) {
  const int64_t tokens_per_tile = kFlashRows / group;
  const int64_t tiles = std::max((n_tokens + tokens_per_tile - 1) / tokens_per_tile, n_seqs);
  const int64_t ctas = tiles * n_kv_heads;
  const int64_t sms = multiprocessors();
  if (ctas >= sms) return 1;
  const int64_t want = (sms + ctas - 1) / ctas;
  const int64_t by_context = std::max<int64_t>(1, max_context / kKeysPerSplitMin);
  return static_cast<int>(std::clamp<int64_t>(std::min(want, by_context), 1, kMaxFlashSplits));
}

// Decode: one CTA per (sequence, KV head); split the keys only when those leave SMs idle and
// max_context is past kDecodeOneSplitContext (short contexts are launch-bound: a merge pass would
// cost more than it saves), aiming at two CTAs per SM with at least one 64-key tile per split
// and at most kDecodeMaxAutoSplits (H100, one 8B sequence, graph replay: 4/8/16/32 splits
// 14.2/10.4/8.7/9.5 us at context 1024, 37.6/22.1/14.8/14.7 us at 4096).
int choose_decode_splits(int64_t n_seqs, int64_t n_kv_heads, int64_t max_context) {
  const int64_t ctas = n_seqs * n_kv_heads;
  const int64_t sms = multiprocessors();
  if (max_context <= kDecodeOneSplitContext || ctas >= sms) return 1;
  const int64_t want = (2 * sms + ctas - 1) / ctas;
  const int64_t by_context = std::max<int64_t>(1, max_context / kDecodeKeysPerSplitMin);
  return static_cast<int>(std::clamp<int64_t>(std::min(want, by_context), 1, kDecodeMaxAutoSplits));
}

}  // namespace

const char* attention_kernel_name(Type pool_type, int64_t head_dim, int64_t group, int64_t n_tokens,
                                  int64_t n_seqs, const AttentionOptions& options) {
  switch (pick_kernel(pool_type, head_dim, group, n_tokens, n_seqs, options)) {
    case Kernel::decode: return "decode";
    case Kernel::flash: return "flash";
    default: return "reference";
  }
}

void launch_attention(const Tensor& q, const KvPool& pool, int64_t layer,
                      const AttentionBatch& batch, float scale, const Tensor& out,
                      const DeviceScratch& scratch, DeviceErrorWord* error, cudaStream_t stream,
                      const AttentionOptions& options) {
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
  const bool aligned = pool.k.row_stride % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(pool.k.data) % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(pool.v.data) % 16 == 0;
  const Kernel kernel =
      aligned ? pick_kernel(s.type, head_dim, a.group, n_tokens, n_seqs, options) : Kernel::reference;
  if (kernel == Kernel::reference) {
    if (s.type != Type::F16 && s.type != Type::F32) {
      fail_unsupported("attention", "KV pool type " + std::string(quant::name(s.type)));
    }
    launch_attention_reference_kernel(a, static_cast<int>(n_heads), s.type, stream);
    return;
  }
  if (options.n_splits > kAttentionMaxSplits) {
    fail_argument("attention", "at most " + std::to_string(kAttentionMaxSplits) + " splits");
  }
  int splits = options.n_splits > 0 ? options.n_splits
               : kernel == Kernel::decode
                   ? choose_decode_splits(n_seqs, s.n_kv_heads, batch.max_context)
                   : choose_splits(n_tokens, n_seqs, s.n_kv_heads, a.group, batch.max_context);
  while (splits > 1 && attention_partial_bytes(splits, n_tokens, n_heads, head_dim) > scratch.bytes) {
    if (options.n_splits > 0) fail_argument("attention", "split-K partials exceed the scratch");
    --splits;
  }
  AttentionPartials partials{};
  partials.n_splits = splits;
  if (splits > 1) {
    partials.acc = static_cast<float*>(scratch.data);
    partials.ml = partials.acc + static_cast<size_t>(splits * n_tokens * n_heads * head_dim);
  }
  if (kernel == Kernel::decode) {
    launch_attention_decode_kernel(a, static_cast<int>(n_heads), s.type, partials, stream);
  } else {
    launch_attention_flash_kernel(a, static_cast<int>(n_heads), partials, stream);
  }
}

}  // namespace ingot::cuda
