// The architecture registry: for each supported `general.architecture` the traits the generic
// decoder needs (rope layout, QKV bias, Q/K norm, whether convert permutes Q/K rows) and its
// tensor table. One file per family (llama.cpp, qwen2.cpp, qwen3.cpp) defines its entry; the
// registry is a constexpr-sized list searched by name, so an unknown name fails loudly here.
#pragma once

#include "backend/rope.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::model {

struct HyperParams;

// One expected tensor: its GGUF name and shape in ggml order (dims[0] = row length).
struct TensorSpec {
  std::string name;
  std::vector<int64_t> dims;
  bool required = true;
  bool is_vector = false;  // norms and biases: must be F32
};

struct ArchTraits {
  std::string_view name;                 // general.architecture
  std::string_view description;          // for messages and docs
  backend::RopeLayout rope_layout = backend::RopeLayout::normal;
  bool qkv_bias = false;                 // blk.N.attn_{q,k,v}.bias
  bool qk_norm = false;                  // blk.N.attn_{q,k}_norm.weight, RMSNorm per head
  bool permute_qk = false;               // convert reorders Q/K rows to the adjacent-pair layout
  // Adds this family's per-layer tensors beyond the common llama set (may be null).
  void (*add_layer_tensors)(const HyperParams& hp, int64_t layer, std::vector<TensorSpec>& out) = nullptr;
};

// Families, defined in their own files.
const ArchTraits& llama_traits();
const ArchTraits& qwen2_traits();
const ArchTraits& qwen3_traits();

// The traits of an architecture name; throws Error(unsupported) listing the known names.
const ArchTraits& find_arch(std::string_view name);
std::vector<std::string_view> known_arch_names();

// Every tensor a model of these hyper-parameters must (or may) have, in file order.
std::vector<TensorSpec> expected_tensors(const HyperParams& hp);

// "blk.<layer>.<suffix>"
std::string layer_tensor(int64_t layer, std::string_view suffix);

}  // namespace ingot::model
