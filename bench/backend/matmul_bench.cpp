// CPU matmul throughput at Llama-3.2-1B shapes (k = 2048; n = 2048 for attention projections,
// 8192 for the MLP) for F16, Q8_0 and Q4_K weights, at 1 token (decode: weight-bandwidth
// bound) and 512 tokens (prefill: compute bound). Reports GFLOP/s (2*k*n*tokens per call) and
// GB/s of weight bytes read per call. Threads: INGOT_BENCH_THREADS or one per hardware thread;
// INGOT_BENCH_ISA=avx2|avx512|scalar|neon forces an instruction set (default: the best).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "quant/quant.h"

namespace {

using ingot::backend::Buffer;
using ingot::backend::Shape;
using ingot::backend::Tensor;
using ingot::backend::cpu::CpuBackend;
using ingot::backend::cpu::CpuOptions;
using ingot::backend::cpu::Isa;
using ingot::quant::Type;

constexpr int64_t kK = 2048;

CpuBackend& backend() {
  static CpuBackend b([] {
    CpuOptions o;
    if (const char* t = std::getenv("INGOT_BENCH_THREADS"))
      o.n_threads = std::strtoul(t, nullptr, 10);
    if (const char* isa = std::getenv("INGOT_BENCH_ISA")) {  // scalar, avx2, avx512, neon
      for (auto i : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon}) {
        if (ingot::backend::cpu::isa_name(i) == isa) o.isa = i;
      }
    }
    return o;
  }());
  return b;
}

// Random weights of `type`, quantized once and cached across benchmarks.
const std::vector<uint8_t>& weights(Type type, int64_t n) {
  static std::map<std::pair<Type, int64_t>, std::vector<uint8_t>> cache;
  auto& bytes = cache[{type, n}];
  if (bytes.empty()) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> row(kK);
    const size_t row_bytes = ingot::quant::row_bytes(type, kK);
    bytes.resize(row_bytes * static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) {
      for (auto& x : row) x = dist(rng);
      ingot::quant::quantize_row(type, row.data(), bytes.data() + r * row_bytes, kK);
    }
  }
  return bytes;
}

void bm_matmul(benchmark::State& state, Type type) {
  const int64_t n = state.range(0);
  const int64_t n_tokens = state.range(1);
  CpuBackend& b = backend();
  const auto& w_bytes = weights(type, n);
  const Tensor w = b.upload_weight(w_bytes.data(), type, Shape::of(kK, n), nullptr);
  Buffer xb, ob;
  const Tensor x = b.alloc_tensor(Type::F32, Shape::of(kK, n_tokens), xb);
  const Tensor out = b.alloc_tensor(Type::F32, Shape::of(n, n_tokens), ob);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < kK * n_tokens; ++i) static_cast<float*>(x.data)[i] = dist(rng);
  b.matmul(x, w, nullptr, out);  // warm-up: grows scratch once
  for (auto _ : state) {
    b.matmul(x, w, nullptr, out);
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * static_cast<double>(kK) * static_cast<double>(n) * n_tokens;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weight_GB/s"] = benchmark::Counter(static_cast<double>(w_bytes.size()) * 1e-9,
                                                     benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = static_cast<double>(b.n_threads());
  state.SetLabel(std::string(ingot::backend::cpu::isa_name(b.kernels().isa)));
}

void shapes(benchmark::internal::Benchmark* bm) {
  for (int64_t n : {2048, 8192}) {
    for (int64_t tokens : {1, 512}) bm->Args({n, tokens});
  }
  bm->ArgNames({"n", "tokens"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK_CAPTURE(bm_matmul, F16, Type::F16)->Apply(shapes);
BENCHMARK_CAPTURE(bm_matmul, Q8_0, Type::Q8_0)->Apply(shapes);
BENCHMARK_CAPTURE(bm_matmul, Q4_K, Type::Q4_K)->Apply(shapes);

}  // namespace
