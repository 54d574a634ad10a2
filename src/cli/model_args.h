// Shared pieces of the model commands (run, eval, perplexity, bench): finding the model file
// (-m, else $INGOT_MODEL, else the shipped ingot-tiny next to the build or install tree),
// loading it on the CPU backend with its tokenizer, and parsing "--prompt-ids" lists.
#pragma once

#include "backend/cpu/cpu_backend.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ingot::cli {

// The path to use: `given` when set; else $INGOT_MODEL; else the shipped model found relative
// to the executable (<bin>/../../../models/..., <bin>/../share/ingot/models/...). Says which on
// stderr when it was not given. Error(not_found) when nothing exists.
std::string resolve_model_path(const std::string& given);

struct LoadedModel {
  std::unique_ptr<backend::cpu::CpuBackend> backend;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;  // null when the file has no vocabulary
};

// Loads the model on the CPU backend (n_threads 0: all cores). With need_tokenizer a file
// without a vocabulary is an error.
LoadedModel load_model(const std::string& path, size_t n_threads, bool need_tokenizer);

// "1 2 3" or "1,2,3" -> ids. Error(invalid_argument) on anything else or an empty list.
std::vector<int32_t> parse_ids(const std::string& text);

// "f16" or "f32" -> the KV storage type.
quant::Type parse_kv_type(const std::string& name);

}  // namespace ingot::cli
