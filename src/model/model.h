// Model: a loaded decoder (hyper-parameters + bound weights over a mapped GGUF file) and its
// forward pass, written once against the backend op interface for every family in the
// registry. The forward entry takes one flattened step — token ids, positions, KV slot of each
// token, per-sequence query ranges, context lengths and block tables, and the rows that need
// logits — over a paged KV pool, so the engine's StepBatch maps onto it directly. Activation
// buffers are allocated once by plan(); forward() allocates nothing.
#pragma once

#include "backend/backend.h"
#include "model/hparams.h"
#include "model/weights.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ingot::gguf {
class File;
}

namespace ingot::model {

// Upper bounds of one step, fixed at plan time.
struct ForwardPlan {
  int64_t max_tokens = 512;         // rows per step
  int64_t max_seqs = 1;
  int64_t max_blocks_per_seq = 0;   // block table width
  int64_t max_logit_rows = 1;
  int64_t max_context = 0;          // longest sequence (0: the model's context length)
  bool operator==(const ForwardPlan&) const = default;
};

// One step, host memory. All ids I32. Row r of the step is tokens[r] at positions[r], written
// to KV slot slots[r] (block * block_size + offset; negative skips the write).
struct ForwardBatch {
  std::span<const int32_t> tokens;        // [n_rows]
  std::span<const int32_t> positions;     // [n_rows]
  std::span<const int32_t> slots;         // [n_rows]
  std::span<const int32_t> query_start;   // [n_seqs + 1]: sequence s owns rows [qs[s], qs[s+1])
  std::span<const int32_t> context_len;   // [n_seqs]: its tokens in the cache after this step
  std::span<const int32_t> block_tables;  // [n_seqs * max_blocks_per_seq], row s = blocks of s
  int64_t max_blocks_per_seq = 0;
  int64_t max_context = 0;                // max of context_len
  std::span<const int32_t> logit_rows;    // rows whose logits are returned, in this order
};

class Model {
 public:
  // Opens, validates and binds a GGUF model. Errors name the file and the tensor or key.
  static std::unique_ptr<Model> load(const std::string& path, backend::Backend& backend);
  // Same, for an already opened file (tests).
  static std::unique_ptr<Model> load(std::shared_ptr<const gguf::File> file, backend::Backend& backend);

  const HyperParams& hparams() const noexcept { return hp_; }
  const gguf::File& file() const noexcept { return *file_; }
  const Weights& weights() const noexcept { return weights_; }
  backend::Backend& backend() const noexcept { return *backend_; }
  // Bytes of all weight tensors and their element count.
  uint64_t weight_bytes() const noexcept { return weight_bytes_; }
  uint64_t n_params() const noexcept { return n_params_; }

  // A zero-filled KV pool shaped for this model.
  backend::KvPoolStorage alloc_kv(int64_t n_blocks, int64_t block_size, quant::Type type) const;

  // Allocates the activations of the largest step (call before forward; again to grow).
  void plan(const ForwardPlan& plan);
  const ForwardPlan& current_plan() const noexcept { return plan_; }

  // Runs one step and writes logits[i * n_vocab + v] for each logit_rows[i]. Throws
  // Error(invalid_argument) for a batch outside the plan or inconsistent (an out-of-range
  // token id, mismatched sizes).
  void forward(const ForwardBatch& batch, const backend::KvPool& pool, std::span<float> logits);
  // The same step with the logits left on the device: row i of the returned F32 view
  // [n_vocab, >= logit_rows.size()] holds logit_rows[i]. Enqueued, not waited for; the view is
  // valid until the next forward or plan.
  backend::Tensor forward_device(const ForwardBatch& batch, const backend::KvPool& pool);

  // How decode steps (every sequence has one query row) run. padded: the batch is padded to a
  // bucket (1, 2, 4, 8, 16, ... up to the plan) and the layers go through
  // Backend::run_captured, recorded once per (bucket, context bucket, pool) and replayed.
  // automatic (default): padded when the backend captures (CUDA graphs on), else direct.
  enum class DecodeMode { automatic, direct, padded };
  void set_decode_mode(DecodeMode mode) noexcept { decode_mode_ = mode; }
  // The bucket a decode step of n_seqs sequences is padded to under this plan.
  int64_t decode_bucket(int64_t n_seqs) const noexcept;

 private:
  Model() = default;
  void check_batch(const ForwardBatch& batch) const;
  // Enqueues the layers and the LM head on n rows (inputs already uploaded into act_).
  void enqueue_layers(int64_t n, int64_t n_out, const backend::AttentionBatch& attn_batch,
                      const backend::KvPool& pool);
  backend::Tensor forward_padded_decode(const ForwardBatch& batch, const backend::KvPool& pool);

  std::shared_ptr<const gguf::File> file_;
  backend::Backend* backend_ = nullptr;
  HyperParams hp_;
  Weights weights_;
  backend::RopeTable rope_;
  uint64_t weight_bytes_ = 0;
  uint64_t n_params_ = 0;

  ForwardPlan plan_{};
  bool planned_ = false;
  struct Activations;
  std::shared_ptr<Activations> act_;
  DecodeMode decode_mode_ = DecodeMode::automatic;
  // Host staging of a padded decode step, reused (the backend copies it on upload).
  std::vector<int32_t> pad_tokens_, pad_positions_, pad_slots_, pad_query_start_, pad_context_,
      pad_table_, pad_rows_;
};

}  // namespace ingot::model
