// Quantization recipes: which type each tensor of a model gets under a named mix ("Q4_K_M",
// "Q8_0", "F16", ...). The rules are llama.cpp's (llama_tensor_get_type): 1-D tensors and norms
// keep their type, output.weight (or a tied token_embd) goes to Q6_K, some attn_v / ffn_down
// layers get more bits in the _M / _S mixes, and rows whose length does not fit a 256-block
// fall back to a 32-block type. Pure host logic over names and shapes: O(tensors).
#pragma once

#include "quant/types.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::quant {

struct Recipe {
  std::string_view name;   // as users type it: "Q4_K_M"
  uint32_t file_type;      // the general.file_type value llama.cpp writes (LLAMA_FTYPE_*)
  Type default_type;       // the type most tensors get
  std::string_view about;  // one line for --help and error messages
};

// Every recipe, in the order `ingot quantize --help` lists them.
std::span<const Recipe> all_recipes();
// Looks a recipe up by name, case-insensitively; aliases "Q4_K" -> Q4_K_M and so on. Throws
// Error(invalid_argument) listing the valid names when there is no such recipe.
const Recipe& find_recipe(std::string_view name);
// "Q4_0, Q4_1, ..." for messages.
std::string recipe_names();

// What the recipe needs to know of a tensor.
struct TensorShape {
  std::string name;
  Type type = Type::F32;                       // its type in the input file
  std::vector<int64_t> dims;                   // ggml order: dims[0] is the row length
};

// What the recipe needs to know of the model (from the GGUF metadata).
struct ModelShape {
  uint32_t n_layer = 0;      // {arch}.block_count
  uint32_t n_head = 0;       // {arch}.attention.head_count
  uint32_t n_head_kv = 0;    // {arch}.attention.head_count_kv (0: same as n_head)
  uint32_t n_expert = 0;     // {arch}.expert_count
  bool is_falcon = false;
};

struct TensorPlan {
  size_t index;       // into the input span
  Type target;        // the type to write
  bool fell_back;     // the recipe's type did not fit the row length
};

// The plan for every tensor, in llama.cpp's processing (and output) order: tensors sorted by
// layer number ("blk.N."; others first), then by name. Throws Error(unsupported) when a row
// length fits no block size of a type without a fallback.
std::vector<TensorPlan> plan_quantization(const Recipe& recipe, std::span<const TensorShape> tensors,
                                          const ModelShape& model);

}  // namespace ingot::quant
