// The real ModelRunner: a model::Model on any Backend (CPU now; CUDA plugs in unchanged). It
// owns the backend, the model and the paged KV pool, and turns each StepBatch into the model's
// ForwardBatch (32-bit slots, a block-table matrix padded to the widest sequence of the step)
// after running the step's block copies. Host-side cost per step: O(rows + seqs x blocks).
#pragma once

#include "backend/backend.h"
#include "engine/model_runner.h"
#include "model/model.h"

#include <memory>
#include <vector>

namespace ingot::engine {

class BackendModelRunner final : public ModelRunner {
 public:
  // `model` was loaded on `backend`. kv_type: F16 or F32.
  BackendModelRunner(std::unique_ptr<backend::Backend> backend, std::unique_ptr<model::Model> model,
                     quant::Type kv_type);
  ~BackendModelRunner() override;

  std::string_view backend_name() const noexcept override { return backend_->name(); }
  int32_t n_vocab() const noexcept override;
  void prepare(const RunnerLimits& limits) override;
  void run(const StepBatch& batch, std::span<float> logits) override;
  bool samples_on_device() const noexcept override { return device_sampling_; }
  void run_and_sample(const StepBatch& batch, const backend::SampleBatch& sampling,
                      std::span<backend::SampledToken> out) override;

  const model::Model& model() const noexcept { return *model_; }
  uint64_t kv_bytes() const noexcept;

 private:
  void run_copies(const StepBatch& batch);
  // The step's ForwardBatch over the host staging below (false: no row needs logits, so one
  // dummy row is computed).
  bool make_forward_batch(const StepBatch& batch, model::ForwardBatch& fb);

  std::unique_ptr<backend::Backend> backend_;  // destroyed last
  std::unique_ptr<model::Model> model_;
  quant::Type kv_type_;
  RunnerLimits limits_;
  backend::KvPoolStorage kv_;
  backend::Buffer pairs_storage_;
  backend::Tensor pairs_;  // I32 [2, max_pairs]
  int64_t max_pairs_ = 0;
  // Host staging, reused every step.
  std::vector<int32_t> slots_, query_start_, context_len_, block_tables_, pair_host_, dummy_rows_;
  std::vector<float> dummy_logits_;
  bool device_sampling_ = false;
};

}  // namespace ingot::engine
