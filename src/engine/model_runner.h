// What the engine needs from a model: run one planned StepBatch (block copies first, then the
// forward pass) and return the logits of its logit rows. The backend-neutral seam of the
// engine: BackendModelRunner runs a model::Model on any Backend (CPU now, CUDA later); tests
// plug in a fake. Called only from the engine's loop thread after prepare().
#pragma once

#include "backend/sampling.h"
#include "engine/step_batch.h"

#include <cstdint>
#include <span>
#include <string_view>

namespace ingot::engine {

// Fixed limits of every step, known before the loop starts.
struct RunnerLimits {
  int32_t n_blocks = 0;          // KV pool blocks
  int32_t block_size = 16;
  int32_t max_batch_tokens = 0;  // rows per step
  int32_t max_seqs = 0;          // sequences (and logit rows) per step
  int32_t max_context = 0;       // tokens per sequence
};

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;

  virtual std::string_view backend_name() const noexcept = 0;
  virtual int32_t n_vocab() const noexcept = 0;
  // Allocates the KV pool and the step workspace. Called once, before the loop thread starts.
  virtual void prepare(const RunnerLimits& limits) = 0;
  // Runs batch.copies, then the step; writes logits[i * n_vocab + v] for batch.logit_rows[i].
  // Throws ingot::Error on failure (the engine fails the step's requests).
  virtual void run(const StepBatch& batch, std::span<float> logits) = 0;
  // True when run_and_sample() works: the backend samples on the device and the logits stay
  // there (the CUDA backend, unless INGOT_GPU_SAMPLING=0).
  virtual bool samples_on_device() const noexcept { return false; }
  // Runs the step like run(), then picks out[i] for sampling.rows[i], whose logit_row indexes
  // batch.logit_rows. Default: Error(unsupported).
  virtual void run_and_sample(const StepBatch& batch, const backend::SampleBatch& sampling,
                              std::span<backend::SampledToken> out);
};

}  // namespace ingot::engine
