// `ingot convert`: a Hugging Face folder (config.json, safetensors, tokenizer.json,
// tokenizer_config.json, chat_template.jinja) -> one GGUF file that llama.cpp also loads.
// Tensors stream through: each is read from the mapped checkpoint, row-permuted where the
// llama layout needs it, converted or quantized by row ranges on a thread pool and written,
// so memory holds one tensor's output at a time. The per-tensor types come from quant's recipes.
#pragma once

#include "convert/hf_config.h"
#include "model/hparams.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ingot::gguf {
class Writer;
}
namespace ingot::quant {
struct Recipe;
}

namespace ingot::convert {

struct ConvertOptions {
  std::filesystem::path hf_dir;
  std::string out_path;
  std::string type = "F16";  // a quant recipe name: F32, F16, BF16, Q8_0, Q4_K_M, ...
  std::string name;          // general.name (default: the folder name)
  size_t n_threads = 0;      // 0: all hardware threads
  bool progress = true;
  bool with_tokenizer = true;  // false: tensors and hyper-parameters only (tests)
};

struct ConvertResult {
  HfConfig config;
  size_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;
  std::vector<std::string> warnings;
};

ConvertResult convert_hf(const ConvertOptions& options);

// The model registry's view of a config (so convert and load share one tensor table).
model::HyperParams hparams_of(const HfConfig& config, bool tied_output);

// general.* and <arch>.* keys as llama.cpp writes them (llama3 rope goes in rope_freqs.weight).
void write_model_metadata(const HfConfig& config, const std::string& name, const quant::Recipe& recipe,
                          gguf::Writer& writer);

// Per-pair rope divisors of the Llama 3 scheme (what llama.cpp stores as rope_freqs.weight).
std::vector<float> llama3_rope_factors(const HfConfig& config);

}  // namespace ingot::convert
