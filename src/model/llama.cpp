// The llama family: Llama 2/3/3.1/3.2, Mistral, TinyLlama, SmolLM. Pre-norm decoder with
// RMSNorm, SwiGLU FFN, GQA, no biases. Q/K rows are stored in the adjacent-pair rope layout
// (convert permutes them from Hugging Face's half-split order), so rope is "normal". Llama 3.1
// rope scaling arrives as per-pair factors in `rope_freqs.weight`. Tensor table: the common set.
#include "model/arch.h"

namespace ingot::model {

const ArchTraits& llama_traits() {
  static const ArchTraits traits{
      .name = "llama",
      .description = "Llama 2/3/3.1/3.2, Mistral, TinyLlama, SmolLM",
      .rope_layout = backend::RopeLayout::normal,
      .qkv_bias = false,
      .qk_norm = false,
      .permute_qk = true,
      .add_layer_tensors = nullptr,
  };
  return traits;
}

}  // namespace ingot::model
