#include "model/weights.h"

#include "core/checked_math.h"
#include "core/error.h"
#include "core/progress_bar.h"
#include "gguf/file.h"
#include "quant/quant.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

namespace ingot::model {
namespace {

using quant::Type;

std::string shape_text(std::span<const int64_t> dims) {
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

bool computable(Type type) {
  return type == Type::F32 || type == Type::F16 || type == Type::BF16 || quant::is_supported(type);
}

void check_tensor(const gguf::File& file, const HyperParams& hp, const TensorSpec& spec) {
  const gguf::Tensor* t = file.find_tensor(spec.name);
  if (t == nullptr) {
    if (!spec.required) return;
    fail(ErrorCode::not_found, "{}: tensor '{}' is missing (a {} model of {} layers needs it, shape {})",
         file.path(), spec.name, hp.arch, hp.n_layers, shape_text(spec.dims));
  }
  const auto found = t->shape();
  const bool same = found.size() == spec.dims.size() &&
                    std::equal(found.begin(), found.end(), spec.dims.begin());
  if (!same) {
    fail(ErrorCode::invalid_file, "{}: tensor '{}' has shape {}, expected {} from the hyper-parameters ({})",
         file.path(), spec.name, shape_text(found), shape_text(spec.dims), describe(hp));
  }
  if (spec.is_vector && t->type != Type::F32) {
    fail(ErrorCode::invalid_file, "{}: tensor '{}' is {}, expected F32", file.path(), spec.name,
         quant::name(t->type));
  }
  if (!computable(t->type)) {
    fail(ErrorCode::unsupported, "{}: tensor '{}' has type {}, which ingot cannot compute with",
         file.path(), spec.name, quant::name(t->type));
  }
}

}  // namespace

void validate_tensors(const gguf::File& file, const HyperParams& hp) {
  for (const TensorSpec& spec : expected_tensors(hp)) check_tensor(file, hp, spec);
}

Weights bind_weights(const gguf::File& file, const HyperParams& hp, backend::Backend& backend,
                     const std::shared_ptr<const void>& keep_alive) {
  validate_tensors(file, hp);
  const auto shape_of = [](const gguf::Tensor& t) {
    return backend::Shape::of(t.dims[0], t.dims[1], t.dims[2], t.dims[3]);
  };
  // One arena for every weight the backend gets (rope_freqs stays on the host).
  uint64_t arena_bytes = 0, n_bytes = 0;
  for (const TensorSpec& spec : expected_tensors(hp)) {
    const gguf::Tensor* t = file.find_tensor(spec.name);
    if (t == nullptr || spec.name == "rope_freqs.weight") continue;
    arena_bytes = checked_add(arena_bytes, backend::weight_arena_bytes(t->type, shape_of(*t)), "weight bytes",
                              ErrorCode::invalid_file);
    n_bytes += t->n_bytes;
  }
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<ProgressBar> bar;
  if (backend.begin_weights(arena_bytes)) bar = std::make_unique<ProgressBar>("uploading weights", n_bytes);
  auto bind = [&](const std::string& name) -> backend::Tensor {
    const gguf::Tensor* t = file.find_tensor(name);
    if (t == nullptr) return {};
    backend::Tensor bound = backend.upload_weight(t->data_ptr, t->type, shape_of(*t), keep_alive);
    if (bar != nullptr) bar->advance(t->n_bytes);
    return bound;
  };
  Weights w;
  w.token_embd = bind("token_embd.weight");
  w.output_norm = bind("output_norm.weight");
  w.output = hp.tied_output ? w.token_embd : bind("output.weight");
  if (hp.has_rope_freqs) {
    const gguf::Tensor& t = file.tensor("rope_freqs.weight");
    w.rope_freqs.resize(static_cast<size_t>(t.n_elements));
    std::memcpy(w.rope_freqs.data(), t.data_ptr, w.rope_freqs.size() * sizeof(float));
    for (float f : w.rope_freqs) {
      if (!(f > 0.0f) || !std::isfinite(f)) {
        fail(ErrorCode::invalid_file, "{}: rope_freqs.weight holds {} (factors must be positive)",
             file.path(), f);
      }
    }
  }
  w.layers.resize(static_cast<size_t>(hp.n_layers));
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    auto b = [&](std::string_view suffix) { return bind(layer_tensor(l, suffix)); };
    lw.attn_norm = b("attn_norm.weight");
    lw.wq = b("attn_q.weight");
    lw.wk = b("attn_k.weight");
    lw.wv = b("attn_v.weight");
    lw.wo = b("attn_output.weight");
    if (hp.traits->qkv_bias) {
      lw.bq = b("attn_q.bias");
      lw.bk = b("attn_k.bias");
      lw.bv = b("attn_v.bias");
    }
    if (hp.traits->qk_norm) {
      lw.q_norm = b("attn_q_norm.weight");
      lw.k_norm = b("attn_k_norm.weight");
    }
    lw.ffn_norm = b("ffn_norm.weight");
    lw.ffn_gate = b("ffn_gate.weight");
    lw.ffn_up = b("ffn_up.weight");
    lw.ffn_down = b("ffn_down.weight");
  }
  backend.end_weights();
  if (bar != nullptr) {
    bar->finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("loaded {:.2f} GiB of weights in {:.1f} s ({:.1f} GB/s)",
                 static_cast<double>(n_bytes) / (1024.0 * 1024.0 * 1024.0), seconds,
                 seconds > 0.0 ? static_cast<double>(n_bytes) / seconds / 1e9 : 0.0);
  }
  return w;
}

}  // namespace ingot::model
