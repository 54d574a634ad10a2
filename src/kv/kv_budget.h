// Sizing the paged KV cache from a memory budget: bytes per block = 2 (K and V) x n_layers x
// n_kv_heads x head_dim x block_size x bytes per element; the pool holds budget / that many
// blocks. On a GPU the budget comes from a fraction of the device's memory (vLLM's
// --gpu-memory-utilization). All arithmetic is overflow-checked (the shape comes from a model
// file). O(1), pure: no device is queried here.
#pragma once

#include <cstdint>

namespace ingot::kv {

struct KvLayout {
  int64_t n_layers = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t block_size = 16;       // tokens per block
  int64_t bytes_per_element = 2;  // f16/bf16 KV
};

struct KvCapacity {
  uint64_t bytes_per_block = 0;
  int32_t n_blocks = 0;
  int64_t n_tokens = 0;      // n_blocks x block_size
  uint64_t n_bytes = 0;      // n_blocks x bytes_per_block (<= the budget)
};

// Throws Error(invalid_argument) for a non-positive dimension or an overflowing size.
uint64_t kv_bytes_per_block(const KvLayout& layout);

// The largest pool that fits `budget_bytes` (capped at max_blocks). Throws
// Error(out_of_range) when the budget does not hold a single block.
KvCapacity kv_capacity_for_budget(const KvLayout& layout, uint64_t budget_bytes,
                                  int32_t max_blocks = 1 << 30);

// The KV budget on a GPU: the engine may use `utilization` x total of the device; what is in use
// already (total - free: the weights, the workspace, the CUDA context, other processes) comes off
// that, and the rest is the KV pool's.
struct GpuKvPlan {
  uint64_t total = 0;    // device memory
  uint64_t allowed = 0;  // utilization x total
  uint64_t in_use = 0;   // total - free, measured after the weights and the workspace
  uint64_t budget = 0;   // allowed - in_use
  KvCapacity capacity;   // the pool that budget holds (capped at max_blocks)
};

// Error(invalid_argument) for a utilization outside (0, 1] or free > total; Error(out_of_range)
// naming every number when the budget does not hold a single block.
GpuKvPlan plan_gpu_kv(const KvLayout& layout, uint64_t total_bytes, uint64_t free_bytes, double utilization,
                      int32_t max_blocks = 1 << 30);

}  // namespace ingot::kv
