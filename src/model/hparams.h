// Hyper-parameters of a decoder model as read from GGUF metadata (`general.architecture` and
// the `<arch>.*` keys llama.cpp's converter writes). Reading validates ranges and consistency
// (positive sizes, heads divisible by KV heads, even rotary width) so later code can compute
// shapes and buffer sizes from them without further checks. Cost: a few metadata lookups.
#pragma once

#include "backend/rope.h"
#include "model/arch.h"

#include <cstdint>
#include <string>

namespace ingot::gguf {
class File;
}

namespace ingot::model {

struct HyperParams {
  std::string arch;                     // general.architecture
  const ArchTraits* traits = nullptr;
  std::string name;                     // general.name (may be empty)
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;              // <arch>.context_length
  int64_t n_embd = 0;
  int64_t n_layers = 0;
  int64_t n_ff = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;                 // attention.key_length (== value_length)
  float rms_eps = 1e-5f;
  backend::RopeParams rope;             // freq_factors filled at weight binding
  bool has_rope_freqs = false;          // a rope_freqs.weight tensor is present
  bool tied_output = false;             // output.weight absent: the LM head is token_embd

  int64_t q_dim() const noexcept { return n_heads * head_dim; }
  int64_t kv_dim() const noexcept { return n_kv_heads * head_dim; }
};

// Reads and validates the hyper-parameters; Error(unsupported) for an unknown architecture,
// Error(not_found) naming a missing key, Error(invalid_file) for impossible values.
HyperParams read_hyper_params(const gguf::File& file);

// "llama, 2 layers, d=256, heads 4/1 x 64, ff 384, vocab 1024, ctx 256, rope 500000 (llama3 x8)"
std::string describe(const HyperParams& hp);

}  // namespace ingot::model
