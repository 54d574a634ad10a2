// Weight binding: every tensor the hyper-parameters call for is looked up in the GGUF file,
// its presence, type and shape checked against the architecture's tensor table (an error names
// the tensor and the expected and found shapes), then handed to the backend (the CPU backend
// uses the mapped bytes in place; a GPU backend copies them once, into one arena sized here from
// the tensor table, with a progress bar and the load time logged). Nothing is converted here.
#pragma once

#include "backend/backend.h"
#include "model/hparams.h"

#include <memory>
#include <vector>

namespace ingot::gguf {
class File;
}

namespace ingot::model {

struct LayerWeights {
  backend::Tensor attn_norm, wq, wk, wv, wo;
  backend::Tensor bq, bk, bv;          // qwen2 (else data == nullptr)
  backend::Tensor q_norm, k_norm;      // qwen3 (else data == nullptr)
  backend::Tensor ffn_norm, ffn_gate, ffn_up, ffn_down;
};

struct Weights {
  backend::Tensor token_embd;
  backend::Tensor output_norm;
  backend::Tensor output;  // token_embd when tied
  std::vector<LayerWeights> layers;
  std::vector<float> rope_freqs;  // per-pair divisors from rope_freqs.weight (empty if none)
};

// Checks every tensor of expected_tensors(hp) against `file` without touching the backend:
// Error(not_found) for a missing tensor, Error(invalid_file) for a wrong shape or a norm/bias
// that is not F32, Error(unsupported) for a weight type we cannot compute with.
void validate_tensors(const gguf::File& file, const HyperParams& hp);

// validate_tensors, then binds every tensor. `keep_alive` owns the file mapping.
Weights bind_weights(const gguf::File& file, const HyperParams& hp, backend::Backend& backend,
                     const std::shared_ptr<const void>& keep_alive);

}  // namespace ingot::model
