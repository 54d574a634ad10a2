// The qwen2 family (Qwen2, Qwen2.5): the llama decoder plus biases on the Q, K and V
// projections, NeoX (half-split) rope as Hugging Face stores it (no row permutation).
#include "model/arch.h"

#include "model/hparams.h"

namespace ingot::model {
namespace {

void add_qwen2_tensors(const HyperParams& hp, int64_t layer, std::vector<TensorSpec>& out) {
  out.push_back({layer_tensor(layer, "attn_q.bias"), {hp.q_dim()}, true, true});
  out.push_back({layer_tensor(layer, "attn_k.bias"), {hp.kv_dim()}, true, true});
  out.push_back({layer_tensor(layer, "attn_v.bias"), {hp.kv_dim()}, true, true});
}

}  // namespace

const ArchTraits& qwen2_traits() {
  static const ArchTraits traits{
      .name = "qwen2",
      .description = "Qwen2, Qwen2.5 (QKV bias)",
      .rope_layout = backend::RopeLayout::neox,
      .qkv_bias = true,
      .qk_norm = false,
      .permute_qk = false,
      .add_layer_tensors = add_qwen2_tensors,
  };
  return traits;
}

}  // namespace ingot::model
