// The CPU backend: the fallback for machines without a GPU and the reference every CUDA op is
// checked against. Ops run synchronously on the caller's thread plus a core ThreadPool (matmul
// split over output-row x token tiles, attention over (sequence, head, query chunk) tasks),
// with inner loops from the runtime-selected SIMD table (kernels.h). Weights are used in place
// from the mapped file. Scratch (quantized activations, attention scores, gathered logit rows)
// is owned here and grown only when a step exceeds every earlier one (reserve() pre-grows it).
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/kernels.h"
#include "core/thread_pool.h"

namespace ingot::backend::cpu {

struct CpuOptions {
  size_t n_threads = 0;    // 0: one per hardware thread
  std::optional<Isa> isa;  // force an instruction set (tests); unset: the best supported
};

class CpuBackend final : public Backend {
 public:
  // Throws Error(unsupported) when a forced ISA is not available on this CPU.
  explicit CpuBackend(const CpuOptions& options = {});

  std::string_view name() const noexcept override { return "cpu"; }
  const Kernels& kernels() const noexcept { return kernels_; }
  size_t n_threads() const noexcept { return pool_.n_threads(); }

  Buffer alloc(size_t bytes) override;
  Tensor upload_weight(const void* host, quant::Type type, Shape shape,
                       std::shared_ptr<const void> keep_alive) override;
  KvPoolStorage alloc_kv_pool(const KvPoolShape& shape) override;
  void reserve(const WorkspacePlan& plan) override;

  void upload(const Tensor& dst, const void* host, size_t bytes) override;
  void download(void* host, const Tensor& src, size_t bytes) override;
  void synchronize() override {}

  void embed(const Tensor& ids, const Tensor& weight, const Tensor& out) override;
  void rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& out) override;
  void add_rms_norm(const Tensor& residual, const Tensor& x, const Tensor& weight, float eps,
                    const Tensor& out) override;
  void rope(const Tensor& x, const Tensor& positions, const RopeTable& table) override;
  void matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) override;
  void write_kv(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                const Tensor& slot_mapping) override;
  void attention(const Tensor& q, const KvPool& pool, int64_t layer, const AttentionBatch& batch,
                 float scale, const Tensor& out) override;
  void copy_blocks(const KvPool& pool, const Tensor& pairs) override;
  void swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) override;
  void gelu(const Tensor& x, const Tensor& out) override;
  void add(const Tensor& a, const Tensor& b, const Tensor& out) override;
  void scale(const Tensor& x, float factor, const Tensor& out) override;
  void logits(const Tensor& hidden, const Tensor& rows, const Tensor& norm_weight, float eps,
              const Tensor& output_weight, const Tensor& out) override;

 private:
  // parallel_for / parallel_ranges without a heap-allocated std::function: the pool gets a
  // lambda holding one reference, which std::function stores inline.
  template <typename F>
  void for_tasks(size_t n_tasks, const F& f) {
    pool_.parallel_for(n_tasks, [&f](size_t task, size_t thread) { f(task, thread); });
  }
  // f(begin, end, thread) over [0, n) in about 4 ranges per thread of at least `grain` items.
  template <typename F>
  void for_ranges(size_t n, size_t grain, const F& f) {
    if (n == 0) return;
    const size_t n_chunks = std::min((n + grain - 1) / grain, 4 * pool_.n_threads());
    const size_t chunk = (n + n_chunks - 1) / n_chunks;
    const auto body = [&](size_t c, size_t thread) {
      const size_t begin = c * chunk, end = std::min(n, begin + chunk);
      if (begin < end) f(begin, end, thread);
    };
    for_tasks(n_chunks, body);
  }
  // Per-thread float scratch of at least n floats for thread t (grown before parallel work).
  void grow_thread_scratch(size_t n_floats);
  float* thread_scratch(size_t thread) { return thread_scratch_[thread].data(); }
  void matmul_float(const Tensor& x, const Tensor& w, const Tensor& out);
  void matmul_quantized(const Tensor& x, const Tensor& w, const Tensor& out);
  void matmul_dequantized(const Tensor& x, const Tensor& w, const Tensor& out);

  ThreadPool pool_;
  Kernels kernels_;
  std::vector<std::shared_ptr<const void>> kept_alive_;
  std::vector<uint8_t> activation_scratch_;         // x quantized to vec_dot_type
  std::vector<std::vector<float>> thread_scratch_;  // one per pool thread
  std::vector<float> logit_rows_;                   // gathered, normalised rows
  struct AttentionTask {
    int32_t seq, head, first, last;  // query rows [first, last) of one sequence and head
  };
  std::vector<AttentionTask> attention_tasks_;  // rebuilt per call, capacity kept
};

}  // namespace ingot::backend::cpu
