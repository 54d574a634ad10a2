// Builds small random-weight GGUF models in memory for model tests: any family of the registry,
// F32 weights drawn from a fixed seed, with hooks to break one tensor or key.
#pragma once

#include "backend/cpu/cpu_backend.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "model/arch.h"
#include "model/hparams.h"

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace ingot::test {

inline backend::cpu::CpuOptions cpu_options(size_t n_threads) {
  backend::cpu::CpuOptions o;
  o.n_threads = n_threads;
  return o;
}

struct TinySpec {
  std::string arch = "llama";
  int64_t n_vocab = 64, n_embd = 32, n_layers = 2, n_ff = 48, n_heads = 4, n_kv_heads = 2, head_dim = 8;
  int64_t n_ctx = 128;
  bool tied = false;
  // Called before writing: may change the dims of a tensor (by name) or drop it (return false).
  std::function<bool(const std::string& name, std::vector<int64_t>& dims)> edit_tensor;
  std::function<void(gguf::Writer&)> edit_metadata;
};

inline std::shared_ptr<const gguf::File> make_tiny_gguf(const TinySpec& s) {
  gguf::Writer w;
  const std::string p = s.arch + ".";
  w.set_string("general.architecture", s.arch);
  w.set_u32(p + "vocab_size", static_cast<uint32_t>(s.n_vocab));
  w.set_u32(p + "context_length", static_cast<uint32_t>(s.n_ctx));
  w.set_u32(p + "embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(p + "block_count", static_cast<uint32_t>(s.n_layers));
  w.set_u32(p + "feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(p + "attention.head_count", static_cast<uint32_t>(s.n_heads));
  w.set_u32(p + "attention.head_count_kv", static_cast<uint32_t>(s.n_kv_heads));
  w.set_u32(p + "attention.key_length", static_cast<uint32_t>(s.head_dim));
  w.set_f32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_f32(p + "rope.freq_base", 10000.0f);
  if (s.edit_metadata) s.edit_metadata(w);

  model::HyperParams hp;
  hp.arch = s.arch;
  try {
    hp.traits = &model::find_arch(s.arch);
  } catch (...) {
    hp.traits = &model::llama_traits();  // an unknown name still gets llama-shaped tensors
  }
  hp.n_vocab = s.n_vocab;
  hp.n_embd = s.n_embd;
  hp.n_layers = s.n_layers;
  hp.n_ff = s.n_ff;
  hp.n_heads = s.n_heads;
  hp.n_kv_heads = s.n_kv_heads;
  hp.head_dim = s.head_dim;
  hp.tied_output = s.tied;
  auto storage = std::make_shared<std::vector<std::vector<float>>>();
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (model::TensorSpec spec : model::expected_tensors(hp)) {
    if (spec.name == "output.weight" && s.tied) continue;
    if (s.edit_tensor && !s.edit_tensor(spec.name, spec.dims)) continue;
    int64_t n = 1;
    for (int64_t d : spec.dims) n *= d;
    std::vector<float> data(static_cast<size_t>(n));
    const bool is_norm = spec.name.find("norm") != std::string::npos;
    const float scale = spec.is_vector ? 0.1f : 1.0f / std::sqrt(static_cast<float>(spec.dims[0]));
    for (float& x : data) x = (is_norm ? 1.0f : 0.0f) + scale * normal(rng);
    storage->push_back(std::move(data));
    const auto& back = storage->back();
    w.add_tensor(spec.name, quant::Type::F32, spec.dims,
                 std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(back.data()), back.size() * 4));
  }
  return std::make_shared<const gguf::File>(gguf::File::from_buffer(w.to_bytes()));
}

}  // namespace ingot::test
