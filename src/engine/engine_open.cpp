// ingot::Engine::open: the model file -> backend, model, tokenizer, KV pool sized from the
// options (on CUDA by default from --gpu-memory-utilization, after the weights and the
// workspace) -> a running engine. Picks the backend through engine/backend_select.h and turns
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
namespace {

constexpr uint64_t kCpuKvDefault = uint64_t{1} << 30;

double gib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

// KV blocks from --kv-memory, or on CUDA from --gpu-memory-utilization: the model's workspace
// is planned first (the runner plans the same bounds again, which allocates nothing new on the
// device), then what the device has left decides.
int32_t size_kv_pool(const EngineOptions& options, const engine::EngineConfig& config, const kv::KvLayout& layout,
                     model::Model& model, int32_t max_blocks) {
  const bool on_cuda = model.backend().name() == "cuda";
  if (!on_cuda || options.kv_memory_bytes > 0) {
    const uint64_t budget = options.kv_memory_bytes > 0 ? options.kv_memory_bytes : kCpuKvDefault;
    const kv::KvCapacity c = kv::kv_capacity_for_budget(layout, budget, max_blocks);
    if (on_cuda) {
      const engine::DeviceMemory mem = engine::cuda_device_memory(options.device);
      if (c.n_bytes > mem.free) {
        fail(ErrorCode::out_of_range, "--kv-memory {:.2f} GiB: device {} has {:.2f} GiB free (of {:.2f} GiB) after the weights",
             gib(c.n_bytes), options.device, gib(mem.free), gib(mem.total));
      }
    }
    return c.n_blocks;
  }
  model::ForwardPlan plan;
  plan.max_tokens = config.max_batch_tokens;
  plan.max_seqs = config.max_seqs;
  plan.max_blocks_per_seq = (static_cast<int64_t>(config.n_ctx) + config.kv_block_size - 1) / config.kv_block_size;
  plan.max_logit_rows = config.max_seqs;
  plan.max_context = plan.max_blocks_per_seq * config.kv_block_size;
  model.plan(plan);
  const engine::DeviceMemory mem = engine::cuda_device_memory(options.device);
  const kv::GpuKvPlan p = kv::plan_gpu_kv(layout, mem.total, mem.free, options.gpu_memory_utilization, max_blocks);
  spdlog::info("KV cache from --gpu-memory-utilization {:.2f}: {:.2f} of {:.2f} GiB allowed, {:.2f} GiB in use after "
               "the weights and the workspace, {:.2f} GiB for {} blocks = {} tokens{}",
               options.gpu_memory_utilization, gib(p.allowed), gib(p.total), gib(p.in_use), gib(p.capacity.n_bytes),
               p.capacity.n_blocks, p.capacity.n_tokens,
               p.capacity.n_blocks == max_blocks ? " (all that max_seqs full-context sequences can use)" : "");
  return p.capacity.n_blocks;
}

}  // namespace

std::unique_ptr<Engine> Engine::open(const std::string& model_path, const EngineOptions& options) {
  if (!(options.gpu_memory_utilization > 0.0 && options.gpu_memory_utilization <= 1.0)) {
    fail(ErrorCode::invalid_argument, "--gpu-memory-utilization {}: must be in (0, 1]", options.gpu_memory_utilization);
  }
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
    config.kv_blocks = size_kv_pool(options, config, layout, *model, static_cast<int32_t>(useful));
  }
  if (static_cast<int64_t>(config.kv_blocks) * config.kv_block_size < config.n_ctx) {
    spdlog::warn("the KV cache holds {} tokens, fewer than the context length {}: longer requests are rejected",
                 static_cast<int64_t>(config.kv_blocks) * config.kv_block_size, config.n_ctx);
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
