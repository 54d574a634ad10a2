#include "model/hparams.h"

#include "core/error.h"
#include "gguf/file.h"

#include <fmt/format.h>

#include <cmath>

namespace ingot::model {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 24;  // a sanity bound on every size read here

int64_t positive(const gguf::File& file, const std::string& key, int64_t value) {
  if (value <= 0 || value > kMaxDim) {
    fail(ErrorCode::invalid_file, "{}: {} = {} is out of range (1..{})", file.path(), key, value,
         kMaxDim);
  }
  return value;
}

int64_t required(const gguf::File& file, const std::string& key) {
  return positive(file, key, static_cast<int64_t>(file.get_u64(key)));
}

backend::RopeScaling parse_scaling(const gguf::File& file, const std::string& key,
                                   std::string_view type) {
  if (type == "none" || type.empty()) return backend::RopeScaling::none;
  if (type == "linear") return backend::RopeScaling::linear;
  if (type == "yarn") return backend::RopeScaling::yarn;
  if (type == "llama3") return backend::RopeScaling::llama3;
  fail(ErrorCode::unsupported, "{}: {} = '{}' (supported: none, linear, yarn, llama3)", file.path(),
       key, type);
}

}  // namespace

HyperParams read_hyper_params(const gguf::File& file) {
  HyperParams hp;
  hp.arch = std::string(file.get_string("general.architecture"));
  hp.traits = &find_arch(hp.arch);
  hp.name = std::string(file.get_string_or("general.name", ""));
  const std::string p = hp.arch + ".";

  hp.n_ctx_train = required(file, p + "context_length");
  hp.n_embd = required(file, p + "embedding_length");
  hp.n_layers = required(file, p + "block_count");
  hp.n_ff = required(file, p + "feed_forward_length");
  hp.n_heads = required(file, p + "attention.head_count");
  hp.n_kv_heads = positive(file, p + "attention.head_count_kv",
                           static_cast<int64_t>(file.get_u64_or(p + "attention.head_count_kv",
                                                                static_cast<uint64_t>(hp.n_heads))));
  if (hp.n_heads % hp.n_kv_heads != 0) {
    fail(ErrorCode::invalid_file, "{}: {} attention heads are not a multiple of {} KV heads",
         file.path(), hp.n_heads, hp.n_kv_heads);
  }
  const auto default_head_dim = static_cast<uint64_t>(hp.n_embd / hp.n_heads);
  hp.head_dim = positive(file, p + "attention.key_length",
                         static_cast<int64_t>(file.get_u64_or(p + "attention.key_length", default_head_dim)));
  const int64_t value_dim = positive(
      file, p + "attention.value_length",
      static_cast<int64_t>(file.get_u64_or(p + "attention.value_length", static_cast<uint64_t>(hp.head_dim))));
  if (value_dim != hp.head_dim) {
    fail(ErrorCode::unsupported, "{}: key_length {} != value_length {} is not supported", file.path(),
         hp.head_dim, value_dim);
  }
  hp.rms_eps = file.get_f32_or(p + "attention.layer_norm_rms_epsilon", 1e-5f);
  if (!(hp.rms_eps > 0.0f) || !std::isfinite(hp.rms_eps)) {
    fail(ErrorCode::invalid_file, "{}: rms epsilon {} must be positive", file.path(), hp.rms_eps);
  }

  // The vocabulary size: <arch>.vocab_size, else the token table, else token_embd's rows.
  if (auto v = file.find_u64(p + "vocab_size")) {
    hp.n_vocab = positive(file, p + "vocab_size", static_cast<int64_t>(*v));
  } else if (file.find("tokenizer.ggml.tokens") != nullptr) {
    hp.n_vocab = positive(file, "tokenizer.ggml.tokens",
                          static_cast<int64_t>(file.array_size("tokenizer.ggml.tokens")));
  } else {
    const gguf::Tensor& embd = file.tensor("token_embd.weight");
    hp.n_vocab = positive(file, "token_embd.weight rows", embd.n_dims >= 2 ? embd.dims[1] : 0);
  }

  backend::RopeParams& rope = hp.rope;
  rope.head_dim = hp.head_dim;
  rope.n_rot = positive(file, p + "rope.dimension_count",
                        static_cast<int64_t>(file.get_u64_or(p + "rope.dimension_count",
                                                             static_cast<uint64_t>(hp.head_dim))));
  if (rope.n_rot > hp.head_dim || rope.n_rot % 2 != 0) {
    fail(ErrorCode::invalid_file, "{}: rope.dimension_count {} must be even and <= head_dim {}",
         file.path(), rope.n_rot, hp.head_dim);
  }
  rope.layout = hp.traits->rope_layout;
  rope.freq_base = file.get_f32_or(p + "rope.freq_base", 10000.0f);
  const std::string scaling_key = p + "rope.scaling.type";
  rope.scaling = parse_scaling(file, scaling_key, file.get_string_or(scaling_key, "none"));
  rope.factor = file.get_f32_or(p + "rope.scaling.factor", 1.0f);
  if (auto linear = file.find_f32(p + "rope.scale_linear"); linear && *linear != 1.0f &&
                                                             rope.scaling == backend::RopeScaling::none) {
    rope.scaling = backend::RopeScaling::linear;  // the older key
    rope.factor = *linear;
  }
  if (rope.scaling != backend::RopeScaling::none && rope.factor == 0.0f) rope.factor = 1.0f;
  rope.original_context = static_cast<int64_t>(
      file.get_u64_or(p + "rope.scaling.original_context_length", static_cast<uint64_t>(hp.n_ctx_train)));
  rope.attn_factor = file.get_f32_or(p + "rope.scaling.attn_factor", 1.0f);
  rope.beta_fast = file.get_f32_or(p + "rope.scaling.yarn_beta_fast", 32.0f);
  rope.beta_slow = file.get_f32_or(p + "rope.scaling.yarn_beta_slow", 1.0f);
  rope.ext_factor = file.get_f32_or(p + "rope.scaling.yarn_ext_factor",
                                    rope.scaling == backend::RopeScaling::yarn ? 1.0f : 0.0f);
  hp.has_rope_freqs = file.find_tensor("rope_freqs.weight") != nullptr;
  hp.tied_output = file.find_tensor("output.weight") == nullptr;
  // Validates the rope parameters now (without factors), so a bad file fails at load.
  try {
    (void)backend::make_rope_table(rope);
  } catch (const Error& e) {
    fail(ErrorCode::invalid_file, "{}: {}", file.path(), e.what());
  }
  return hp;
}

std::string describe(const HyperParams& hp) {
  static constexpr const char* kScaling[] = {"none", "linear", "yarn", "llama3"};
  std::string rope = fmt::format("rope {} {}", hp.rope.freq_base,
                                 hp.rope.layout == backend::RopeLayout::neox ? "neox" : "normal");
  if (hp.rope.scaling != backend::RopeScaling::none) {
    rope += fmt::format(" ({} x{})", kScaling[static_cast<int>(hp.rope.scaling)], hp.rope.factor);
  }
  if (hp.has_rope_freqs) rope += " (rope_freqs)";
  return fmt::format("{}, {} layers, d={}, heads {}/{} x {}, ff {}, vocab {}, ctx {}, {}{}", hp.arch,
                     hp.n_layers, hp.n_embd, hp.n_heads, hp.n_kv_heads, hp.head_dim, hp.n_ff,
                     hp.n_vocab, hp.n_ctx_train, rope, hp.tied_output ? ", tied output" : "");
}

}  // namespace ingot::model
