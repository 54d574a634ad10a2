// The CUDA backend: every Backend op on one NVIDIA GPU. Device memory is owned by Buffers that
// cudaFree on destruction; ops are enqueued on one compute stream and return before the work is
// done; synchronize()/download() are the waits. Weights (cuda_weights.cpp) go into one arena
// reserved from the model's tensor table, streamed through two pinned staging halves on a copy
// stream (events guard their reuse), then the compute stream waits on an event. reserve()
// allocates all op scratch once (16-bit matmul operands, gathered logit rows, the pinned
// per-step upload arena); ops allocate nothing. Inputs that live
// on the device (ids, slots, block tables) are checked by kernels and surface as an Error at the
// next synchronize()/download(). Kernels are the simple correct versions: see docs/CUDA.md.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/device_error.h"

namespace ingot::cuda {

using backend::AttentionBatch;
using backend::Buffer;
using backend::KvPool;
using backend::KvPoolShape;
using backend::KvPoolStorage;
using backend::RopeTable;
using backend::Shape;
using backend::Tensor;
using backend::WorkspacePlan;

struct StreamDeleter {
  void operator()(cudaStream_t s) const noexcept;
};
struct EventDeleter {
  void operator()(cudaEvent_t e) const noexcept;
};
struct CublasDeleter {
  void operator()(cublasHandle_t h) const noexcept;
};
struct PinnedDeleter {
  void operator()(void* p) const noexcept;
};
using StreamHandle = std::unique_ptr<CUstream_st, StreamDeleter>;
using EventHandle = std::unique_ptr<CUevent_st, EventDeleter>;
using CublasHandle = std::unique_ptr<cublasContext, CublasDeleter>;
using PinnedMemory = std::unique_ptr<void, PinnedDeleter>;

class CudaBackend final : public backend::Backend {
 public:
  // Throws Error(invalid_argument) for a device index that does not exist, Error(device) when
  // the runtime refuses the device.
  explicit CudaBackend(int device);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string_view name() const noexcept override { return "cuda"; }
  int device() const noexcept { return device_; }
  // The compute stream every op is enqueued on.
  cudaStream_t stream() const noexcept { return stream_.get(); }

  Buffer alloc(size_t bytes) override;
  Tensor upload_weight(const void* host, quant::Type type, Shape shape,
                       std::shared_ptr<const void> keep_alive) override;
  bool begin_weights(uint64_t total_bytes) override;
  void end_weights() override;
  KvPoolStorage alloc_kv_pool(const KvPoolShape& shape) override;
  void reserve(const WorkspacePlan& plan) override;

  void upload(const Tensor& dst, const void* host, size_t bytes) override;
  void download(void* host, const Tensor& src, size_t bytes) override;
  void synchronize() override;

  void embed(const Tensor& ids, const Tensor& weight, const Tensor& out) override;
  void rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& out) override;
  void add_rms_norm(const Tensor& residual, const Tensor& x, const Tensor& weight, float eps,
                    const Tensor& out) override;
  void rope(const Tensor& x, const Tensor& positions, const RopeTable& table) override;
  void matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) override;
  void matmul_many(const Tensor& x, std::span<const MatmulTarget> targets) override;
  void rope_write_kv(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& positions,
                     const RopeTable& table, const KvPool& pool, int64_t layer,
                     const Tensor& slot_mapping) override;
  void matmul_swiglu(const Tensor& x, const Tensor& w_gate, const Tensor& w_up, const Tensor& gate,
                     const Tensor& up) override;
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

  // Decode-step graphs and device sampling (cuda_graphs.cpp, cuda_sample.cpp).
  bool captures_ops() const noexcept override;
  void run_captured(uint64_t key, const std::function<void()>& ops) override;
  void forget_captured() override;
  // Graphs on/off (default on unless INGOT_CUDA_GRAPHS=0); recordings made so far are dropped.
  void set_graphs_enabled(bool on);
  size_t n_captured() const noexcept;
  bool samples_on_device() const noexcept override { return true; }
  void sample(const Tensor& logits, const backend::SampleBatch& batch,
              std::span<backend::SampledToken> out) override;

 private:
  // Makes device_ current on the calling thread (ops may come from another thread than load).
  // Every public entry calls it first, so it also counts them (ops_).
  void activate() const;
  // The one-row output of the last norm, also written in 8 bits into activations_16_
  // (kernels/xq8.cuh) for the matmul right after it: valid only for the op call that follows
  // the norm's (no op in between can have changed x or the workspace).
  mutable uint64_t ops_ = 0;
  struct NormQ8 {
    const void* data = nullptr;
    int64_t k = 0;
    uint64_t op = 0;
  } norm_q8_;
  // Scratch for a norm's 8-bit output when `out` is one row the matvec could use, else null.
  uint8_t* norm_q8_scratch(const Tensor& out);
  void remember_norm_q8(const Tensor& out, bool written);
  // Whether x is the previous op's norm output, already in 8 bits in activations_16_.
  bool x_in_scratch(const Tensor& x) const;
  // Waits for the compute stream, then throws the first error kernels recorded, if any.
  void wait_and_check();
  // reserve()'s part for graphs (dropped) and the sampler's scratch (cuda_sample.cpp).
  void reserve_graphs_and_sampling(const WorkspacePlan& plan);
  struct GraphState;
  std::shared_ptr<GraphState> graphs_;
  struct SampleState;
  std::shared_ptr<SampleState> sampling_;
  DeviceErrorWord* device_error() const {
    return static_cast<DeviceErrorWord*>(error_device_.data());
  }
  // The prefill paths (cuda_matmul.cpp).
  void matmul_cublas_float(const Tensor& x, const Tensor& w, const Tensor& out);
  void matmul_cublas_dequantized(const Tensor& x, const Tensor& w, const Tensor& out);
  // out[m, n] (column-major, ldc) = w[k, m]^T * x[k, n], f32 accumulation, on the stream.
  void gemm(const void* w, size_t lda, const void* x, size_t ldb, cudaDataType type,
            cublasComputeType_t compute, int64_t m, int64_t n, int64_t k, float* out, size_t ldc);

  int device_ = 0;
  StreamHandle stream_;
  StreamHandle copy_stream_;
  CublasHandle cublas_;
  // Weights (cuda_weights.cpp): arenas and single weights, and the upload in progress
  // (pinned staging halves, their events, memcpy threads; only while uploading).
  struct WeightUpload;
  std::shared_ptr<WeightUpload> weight_upload_;
  void stage_weight(uint8_t* dst, const uint8_t* src, size_t bytes);
  void flush_weights();
  EventHandle weights_copied_;
  std::vector<Buffer> weights_;
  uint8_t* arena_ = nullptr;  // the arena being filled (between begin_weights and end_weights)
  uint64_t arena_size_ = 0;
  uint64_t arena_used_ = 0;
  // Per-step uploads: a pinned arena filled front to back, reset when the stream is idle.
  PinnedMemory step_arena_;
  size_t step_arena_size_ = 0;
  size_t step_arena_used_ = 0;
  // Op scratch planned by reserve().
  WorkspacePlan plan_{};
  Buffer activations_16_;  // x rounded to f16/bf16: max_tokens * max_row_elements * 2 bytes
  Buffer weights_16_;      // a chunk of dequantized weight rows in f16
  Buffer logit_rows_;      // gathered normalised rows: max_logit_rows * max_row_elements * 4
  Buffer error_device_;    // DeviceErrorWord
  PinnedMemory error_host_;
};

// The factory the CLI uses for `--backend cuda --device N`.
std::unique_ptr<backend::Backend> make_cuda_backend(int device);

}  // namespace ingot::cuda
