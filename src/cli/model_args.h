// Shared pieces of the model commands (run, eval, perplexity, bench): finding the model file
// (-m, else $INGOT_MODEL, else the shipped ingot-tiny next to the build or install tree),
// --backend/--device/--threads, loading it on the chosen backend (said once on stderr) with its
// tokenizer, and parsing "--prompt-ids" lists.
#pragma once

#include "backend/backend.h"
#include "engine/backend_select.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ingot::cli {

// The path to use: `given` when set; else $INGOT_MODEL; else the shipped model found relative
// to the executable (<bin>/../../../models/..., <bin>/../share/ingot/models/...). Says which on
// stderr when it was not given. Error(not_found) when nothing exists.
std::string resolve_model_path(const std::string& given);

// Adds --backend cpu|cuda and --device N to a model command (the command keeps its own -t).
void add_backend_options(CLI::App* cmd, engine::BackendRequest& request);

struct LoadedModel {
  std::unique_ptr<backend::Backend> backend;
  std::string backend_description;  // as printed on stderr
  size_t n_threads = 0;             // CPU threads (0 on cuda)
  std::unique_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;  // null when the file has no vocabulary
};

// Loads the model on the backend `request` picks (n_threads 0: all cores), printing
// "backend: ..." on stderr. With need_tokenizer a file without a vocabulary is an error.
LoadedModel load_model(const std::string& path, const engine::BackendRequest& request, bool need_tokenizer);

// "1 2 3" or "1,2,3" -> ids. Error(invalid_argument) on anything else or an empty list.
std::vector<int32_t> parse_ids(const std::string& text);

// "f16" or "f32" -> the KV storage type.
quant::Type parse_kv_type(const std::string& name);

}  // namespace ingot::cli
