// CPU paged attention at Llama-3.2-1B head shapes (32 query heads, 8 kv heads, head_dim 64,
// F16 pool, block size 16): decode of 1 token per sequence for 16 sequences at context 4096,
// and one 512-token prefill. Reports K/V bytes read per second (decode) and calls per second.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"

namespace {

using namespace ingot::backend;
using ingot::quant::Type;

constexpr int64_t kHeads = 32, kKvHeads = 8, kHeadDim = 64, kBlock = 16;

cpu::CpuBackend& backend() {
  static cpu::CpuBackend b([] {
    cpu::CpuOptions o;
    if (const char* t = std::getenv("INGOT_BENCH_THREADS"))
      o.n_threads = std::strtoul(t, nullptr, 10);
    return o;
  }());
  return b;
}

Tensor i32(cpu::CpuBackend& b, const std::vector<int32_t>& v, int64_t ne0, Buffer& storage) {
  Tensor t =
      b.alloc_tensor(Type::I32, Shape::of(ne0, static_cast<int64_t>(v.size()) / ne0), storage);
  std::memcpy(t.data, v.data(), v.size() * 4);
  return t;
}

// n_seqs sequences of `context` tokens each, the last `queries` of which are queried.
void bm_attention(benchmark::State& state) {
  const int64_t n_seqs = state.range(0), context = state.range(1), queries = state.range(2);
  cpu::CpuBackend& b = backend();
  const int64_t blocks_per_seq = (context + kBlock - 1) / kBlock;
  KvPoolStorage kv = b.alloc_kv_pool(KvPoolShape{.n_layers = 1,
                                                 .n_blocks = n_seqs * blocks_per_seq,
                                                 .block_size = kBlock,
                                                 .n_kv_heads = kKvHeads,
                                                 .head_dim = kHeadDim,
                                                 .type = Type::F16});
  std::mt19937 rng(1);
  std::uniform_int_distribution<uint16_t> half(0x3000, 0x3bff);  // f16 values in [0.125, 1)
  auto* k = static_cast<uint16_t*>(kv.pool.k.data);
  auto* v = static_cast<uint16_t*>(kv.pool.v.data);
  for (int64_t i = 0; i < kv.pool.k.n_rows() * kHeadDim; ++i) k[i] = half(rng), v[i] = half(rng);
  std::vector<int32_t> starts{0}, contexts, table;
  for (int64_t s = 0; s < n_seqs; ++s) {
    starts.push_back(static_cast<int32_t>(starts.back() + queries));
    contexts.push_back(static_cast<int32_t>(context));
    for (int64_t j = 0; j < blocks_per_seq; ++j)
      table.push_back(static_cast<int32_t>(s * blocks_per_seq + j));
  }
  Buffer sb, cb, tb, qb, ob;
  const AttentionBatch batch{.n_seqs = n_seqs,
                             .max_context = context,
                             .query_start = i32(b, starts, static_cast<int64_t>(starts.size()), sb),
                             .context_len = i32(b, contexts, n_seqs, cb),
                             .block_table = i32(b, table, blocks_per_seq, tb)};
  const int64_t n_tokens = n_seqs * queries;
  const Tensor q = b.alloc_tensor(Type::F32, Shape::of(kHeads * kHeadDim, n_tokens), qb);
  const Tensor out = b.alloc_tensor(Type::F32, Shape::of(kHeads * kHeadDim, n_tokens), ob);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < n_tokens * kHeads * kHeadDim; ++i)
    static_cast<float*>(q.data)[i] = dist(rng);
  b.attention(q, kv.pool, 0, batch, 0.0f, out);
  for (auto _ : state) {
    b.attention(q, kv.pool, 0, batch, 0.0f, out);
    benchmark::ClobberMemory();
  }
  const double kv_bytes = 2.0 * n_seqs * context * kKvHeads * kHeadDim * 2;
  state.counters["kv_GB/s"] =
      benchmark::Counter(kv_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = static_cast<double>(b.n_threads());
}

BENCHMARK(bm_attention)
    ->ArgNames({"seqs", "context", "queries"})
    ->Args({16, 4096, 1})
    ->Args({1, 512, 512})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
