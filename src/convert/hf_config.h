// Hugging Face config.json -> the hyper-parameters a GGUF file records. Reads both layouts real
// checkpoints use: the older top-level `rope_theta` + `rope_scaling` {rope_type|type, factor, ...}
// and transformers 5's `rope_parameters` {rope_theta, rope_type, ...}. Maps the HF class
// (`architectures[0]`) to a GGUF architecture of the model registry. Pure JSON inspection.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace ingot::convert {

enum class HfRopeType { none, linear, yarn, llama3 };

struct HfConfig {
  std::string hf_arch;    // "LlamaForCausalLM"
  std::string arch;       // GGUF general.architecture: "llama", "qwen2", "qwen3"
  int64_t n_vocab = 0;
  int64_t n_ctx = 0;      // max_position_embeddings
  int64_t n_embd = 0;
  int64_t n_layers = 0;
  int64_t n_ff = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  double rms_eps = 1e-6;
  double rope_theta = 10000.0;
  HfRopeType rope_type = HfRopeType::none;
  double rope_factor = 1.0;
  int64_t rope_original_ctx = 0;
  double rope_low_freq_factor = 1.0;
  double rope_high_freq_factor = 4.0;
  double rope_beta_fast = 32.0;
  double rope_beta_slow = 1.0;
  bool tie_word_embeddings = false;
};

// Throws Error(unsupported) for an architecture or rope type we do not convert,
// Error(invalid_file) naming a missing or malformed field.
HfConfig parse_hf_config(const nlohmann::json& config);
HfConfig read_hf_config(const std::filesystem::path& dir);

}  // namespace ingot::convert
