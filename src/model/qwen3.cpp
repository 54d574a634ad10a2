// The qwen3 family (dense Qwen3): the llama decoder plus an RMSNorm over each head of Q and of
// K (weights [head_dim], shared by all heads) before rope; NeoX rope, no biases, head_dim
// given explicitly (`attention.key_length`, often not n_embd / n_heads).
#include "model/arch.h"

#include "model/hparams.h"

namespace ingot::model {
namespace {

void add_qwen3_tensors(const HyperParams& hp, int64_t layer, std::vector<TensorSpec>& out) {
  out.push_back({layer_tensor(layer, "attn_q_norm.weight"), {hp.head_dim}, true, true});
  out.push_back({layer_tensor(layer, "attn_k_norm.weight"), {hp.head_dim}, true, true});
}

}  // namespace

const ArchTraits& qwen3_traits() {
  static const ArchTraits traits{
      .name = "qwen3",
      .description = "Qwen3 dense (Q/K RMSNorm)",
      .rope_layout = backend::RopeLayout::neox,
      .qkv_bias = false,
      .qk_norm = true,
      .permute_qk = false,
      .add_layer_tensors = add_qwen3_tensors,
  };
  return traits;
}

}  // namespace ingot::model
