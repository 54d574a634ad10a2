#include "kv/kv_budget.h"

#include "core/checked_math.h"
#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace ingot::kv {

uint64_t kv_bytes_per_block(const KvLayout& l) {
  const auto check = [](int64_t v, const char* what) {
    if (v <= 0) fail(ErrorCode::invalid_argument, "KV layout: {} must be positive, got {}", what, v);
    return static_cast<uint64_t>(v);
  };
  constexpr auto code = ErrorCode::invalid_argument;
  uint64_t bytes = 2;  // K and V
  bytes = checked_mul(bytes, check(l.n_layers, "n_layers"), "KV block size", code);
  bytes = checked_mul(bytes, check(l.n_kv_heads, "n_kv_heads"), "KV block size", code);
  bytes = checked_mul(bytes, check(l.head_dim, "head_dim"), "KV block size", code);
  bytes = checked_mul(bytes, check(l.block_size, "block_size"), "KV block size", code);
  bytes = checked_mul(bytes, check(l.bytes_per_element, "bytes_per_element"), "KV block size", code);
  return bytes;
}

KvCapacity kv_capacity_for_budget(const KvLayout& layout, uint64_t budget_bytes, int32_t max_blocks) {
  KvCapacity c;
  c.bytes_per_block = kv_bytes_per_block(layout);
  const uint64_t n = std::min<uint64_t>(budget_bytes / c.bytes_per_block,
                                        static_cast<uint64_t>(std::max(max_blocks, 0)));
  if (n == 0) {
    fail(ErrorCode::out_of_range,
         "KV cache budget of {} bytes is smaller than one block ({} bytes: {} layers x {} KV heads x "
         "{} head dim x {} tokens x {} bytes x 2)",
         budget_bytes, c.bytes_per_block, layout.n_layers, layout.n_kv_heads, layout.head_dim,
         layout.block_size, layout.bytes_per_element);
  }
  c.n_blocks = static_cast<int32_t>(n);
  c.n_tokens = static_cast<int64_t>(n) * layout.block_size;
  c.n_bytes = n * c.bytes_per_block;
  return c;
}

GpuKvPlan plan_gpu_kv(const KvLayout& layout, uint64_t total_bytes, uint64_t free_bytes, double utilization,
                      int32_t max_blocks) {
  if (!(utilization > 0.0 && utilization <= 1.0)) {
    fail(ErrorCode::invalid_argument, "--gpu-memory-utilization {}: must be in (0, 1]", utilization);
  }
  if (free_bytes > total_bytes) {
    fail(ErrorCode::invalid_argument, "device memory: {} bytes free of {} total", free_bytes, total_bytes);
  }
  const auto gib = [](uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0 * 1024.0); };
  GpuKvPlan p;
  p.total = total_bytes;
  const double allowed = std::round(static_cast<double>(total_bytes) * utilization);
  p.allowed = allowed >= static_cast<double>(total_bytes) ? total_bytes : static_cast<uint64_t>(allowed);
  p.in_use = total_bytes - free_bytes;
  p.budget = p.allowed > p.in_use ? p.allowed - p.in_use : 0;
  const uint64_t per_block = kv_bytes_per_block(layout);
  if (p.budget < per_block) {
    fail(ErrorCode::out_of_range,
         "no device memory left for the KV cache: --gpu-memory-utilization {:.3g} allows {:.2f} GiB of the "
         "device's {:.2f} GiB, {:.2f} GiB are in use after loading the weights and the workspace (with the CUDA "
         "context and other processes), leaving {:.3f} GiB, less than one KV block ({} bytes); raise "
         "--gpu-memory-utilization, set --kv-memory, or use a smaller model",
         utilization, gib(p.allowed), gib(total_bytes), gib(p.in_use), gib(p.budget), per_block);
  }
  p.capacity = kv_capacity_for_budget(layout, p.budget, max_blocks);
  return p;
}

}  // namespace ingot::kv
