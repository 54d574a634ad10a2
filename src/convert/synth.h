// `ingot synth`: random-weight GGUF files with the real shapes of well-known models (for
// benchmarks both ingot and llama.cpp can load): hyper-parameters of the preset, a byte-level
// BPE ("gpt2") vocabulary of the real size made of synthetic tokens and merges, and weights
// drawn from a counter-based generator and quantized on the fly by the thread pool, so an 8B
// file streams to disk without holding more than one tensor's output in memory. Only the first
// 256 rows of each tensor are quantized; later rows copy one of them (chosen by a hash of the
// row index), which makes an 8B Q4_K_M file a few seconds' work instead of a minute's.
#pragma once

#include "convert/hf_config.h"

#include <cstddef>
#include <string>
#include <vector>

namespace ingot::convert {

struct SynthPreset {
  std::string name;  // "llama3.2-1b"
  HfConfig config;
};

const std::vector<SynthPreset>& synth_presets();
// Throws Error(invalid_argument) listing the preset names.
const SynthPreset& find_synth_preset(const std::string& name);

struct SynthOptions {
  std::string preset;
  std::string type = "Q8_0";  // a quant recipe name
  std::string out_path;
  bool untied = false;        // write a separate output.weight even where the model ties it
  uint64_t seed = 1;
  size_t n_threads = 0;
  bool progress = true;
};

struct SynthResult {
  size_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;
};

SynthResult synthesize(const SynthOptions& options);

}  // namespace ingot::convert
