// ingot::Engine::open: the model file -> backend, model, tokenizer, KV pool sized from the
// options -> a running engine. Picks the backend through engine/backend_select.h and turns
// EngineOptions into the engine core's limits.
#include "core/checked_math.h"
#include "core/error.h"
#include "engine/backend_runner.h"
#include "engine/backend_select.h"
#include "engine/engine.h"
#include "gguf/file.h"
#include "ingot/engine.h"
#include "kv/kv_budget.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

namespace ingot {

std::unique_ptr<Engine> Engine::open(const std::string& model_path, const EngineOptions& options) {
  if (options.max_seqs < 1 || options.max_batch_tokens < 1 || options.kv_block_size < 1 || options.n_ctx < 0 ||
      options.kv_blocks < 0) {
    fail(ErrorCode::invalid_argument,
         "engine options: max_seqs ({}), max_batch_tokens ({}) and kv_block_size ({}) must be positive, n_ctx ({}) "
         "and kv_blocks ({}) not negative",
         options.max_seqs, options.max_batch_tokens, options.kv_block_size, options.n_ctx, options.kv_blocks);
  }
  auto file = std::make_shared<const gguf::File>(gguf::File::open(model_path));
  engine::BackendRequest request;
  request.name = options.backend;
  request.device = options.device;
  request.n_threads = options.n_threads;
  engine::SelectedBackend selected = engine::select_backend(request);
  fmt::print(stderr, "backend: {}\n", selected.description);
  std::unique_ptr<backend::Backend> backend = std::move(selected.backend);
  auto model = model::Model::load(file, *backend);
  const model::HyperParams& hp = model->hparams();

  std::shared_ptr<const tokenizer::Tokenizer> tok;
  if (file->find("tokenizer.ggml.tokens") != nullptr) {
    tok = std::make_shared<const tokenizer::Tokenizer>(tokenizer::load_vocab(*file));
  }

  engine::EngineConfig config;
  config.n_ctx = static_cast<int32_t>(options.n_ctx > 0 ? std::min<int64_t>(options.n_ctx, hp.n_ctx_train) : hp.n_ctx_train);
  config.max_seqs = options.max_seqs;
  config.max_batch_tokens = options.max_batch_tokens;
  config.kv_block_size = options.kv_block_size;
  config.prefix_cache = options.prefix_cache;
  const quant::Type kv_type = options.kv_type == KvCacheType::f32 ? quant::Type::F32 : quant::Type::F16;
  kv::KvLayout layout;
  layout.n_layers = hp.n_layers;
  layout.n_kv_heads = hp.n_kv_heads;
  layout.head_dim = hp.head_dim;
  layout.block_size = options.kv_block_size;
  layout.bytes_per_element = kv_type == quant::Type::F32 ? 4 : 2;
  if (options.kv_blocks > 0) {
    config.kv_blocks = options.kv_blocks;
  } else {
    // Never more than max_seqs full-context sequences can use.
    const int64_t blocks_per_seq = (static_cast<int64_t>(config.n_ctx) + options.kv_block_size - 1) / options.kv_block_size;
    const uint64_t useful = std::min<uint64_t>(
        checked_mul(static_cast<uint64_t>(blocks_per_seq), static_cast<uint64_t>(options.max_seqs), "KV blocks",
                    ErrorCode::out_of_range),
        INT32_MAX);
    config.kv_blocks = kv::kv_capacity_for_budget(layout, options.kv_memory_bytes, static_cast<int32_t>(useful)).n_blocks;
  }

  EngineInfo info;
  info.model_name = hp.name;
  info.chat_template = std::string(file->get_string_or("tokenizer.chat_template", ""));
  info.kv_bytes = checked_mul(kv::kv_bytes_per_block(layout), static_cast<uint64_t>(config.kv_blocks), "KV bytes",
                              ErrorCode::out_of_range);
  auto runner = std::make_unique<engine::BackendModelRunner>(std::move(backend), std::move(model), kv_type);
  auto core = std::make_unique<engine::Engine>(std::move(runner), std::move(tok), config, std::move(info));
  const EngineInfo& used = core->info();
  spdlog::info("engine: {} on {}, context {}, KV cache {} blocks x {} tokens = {} tokens ({:.1f} MiB), max {} seqs, "
               "{} tokens per step",
               used.model_name.empty() ? model_path : used.model_name, used.backend, used.n_ctx, used.kv_blocks,
               used.kv_block_size, used.kv_capacity_tokens, static_cast<double>(used.kv_bytes) / (1024.0 * 1024.0),
               used.max_seqs, used.max_batch_tokens);
  return std::make_unique<Engine>(std::move(core));
}

}  // namespace ingot
