#include "convert/hf_config.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace ingot::convert {
namespace {

using nlohmann::json;

struct ArchName {
  const char* hf;
  const char* gguf;
};

constexpr ArchName kArchs[] = {
    {"LlamaForCausalLM", "llama"},
    {"MistralForCausalLM", "llama"},
    {"Qwen2ForCausalLM", "qwen2"},
    {"Qwen3ForCausalLM", "qwen3"},
};

int64_t get_int(const json& c, const char* key, int64_t fallback = -1) {
  if (!c.contains(key) || c[key].is_null()) {
    if (fallback >= 0) return fallback;
    fail(ErrorCode::invalid_file, "config.json: '{}' is missing", key);
  }
  if (!c[key].is_number_integer() || c[key].get<int64_t>() <= 0 || c[key].get<int64_t>() > (int64_t{1} << 30)) {
    fail(ErrorCode::invalid_file, "config.json: '{}' must be a positive integer, found {}", key, c[key].dump());
  }
  return c[key].get<int64_t>();
}

double get_number(const json& c, const char* key, double fallback) {
  if (!c.contains(key) || c[key].is_null()) return fallback;
  if (!c[key].is_number()) fail(ErrorCode::invalid_file, "config.json: '{}' must be a number", key);
  return c[key].get<double>();
}

void read_rope(const json& c, HfConfig& cfg) {
  // transformers 5: rope_parameters holds theta and the scaling; older: top-level rope_theta and
  // an optional rope_scaling object.
  const json* scaling = nullptr;
  if (c.contains("rope_parameters") && c["rope_parameters"].is_object()) {
    const json& rp = c["rope_parameters"];
    cfg.rope_theta = get_number(rp, "rope_theta", get_number(c, "rope_theta", 10000.0));
    scaling = &rp;
  } else {
    cfg.rope_theta = get_number(c, "rope_theta", 10000.0);
    if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) scaling = &c["rope_scaling"];
  }
  if (!(cfg.rope_theta > 0.0)) fail(ErrorCode::invalid_file, "config.json: rope_theta must be positive");
  if (scaling == nullptr) return;
  const json& s = *scaling;
  std::string type = "default";
  if (s.contains("rope_type") && s["rope_type"].is_string()) type = s["rope_type"].get<std::string>();
  else if (s.contains("type") && s["type"].is_string()) type = s["type"].get<std::string>();
  if (type == "default") return;
  cfg.rope_factor = get_number(s, "factor", 1.0);
  cfg.rope_original_ctx = s.contains("original_max_position_embeddings")
                              ? get_int(s, "original_max_position_embeddings")
                              : cfg.n_ctx;
  if (type == "linear") {
    cfg.rope_type = HfRopeType::linear;
  } else if (type == "yarn") {
    cfg.rope_type = HfRopeType::yarn;
    cfg.rope_beta_fast = get_number(s, "beta_fast", 32.0);
    cfg.rope_beta_slow = get_number(s, "beta_slow", 1.0);
  } else if (type == "llama3") {
    cfg.rope_type = HfRopeType::llama3;
    cfg.rope_low_freq_factor = get_number(s, "low_freq_factor", 1.0);
    cfg.rope_high_freq_factor = get_number(s, "high_freq_factor", 4.0);
    if (!s.contains("original_max_position_embeddings")) cfg.rope_original_ctx = 8192;
  } else {
    fail(ErrorCode::unsupported, "config.json: rope type '{}' is not supported (linear, yarn, llama3)", type);
  }
  if (!(cfg.rope_factor > 0.0)) fail(ErrorCode::invalid_file, "config.json: rope factor must be positive");
}

}  // namespace

HfConfig parse_hf_config(const json& c) {
  if (!c.is_object()) fail(ErrorCode::invalid_file, "config.json: not a JSON object");
  HfConfig cfg;
  if (c.contains("architectures") && c["architectures"].is_array() && !c["architectures"].empty() &&
      c["architectures"][0].is_string()) {
    cfg.hf_arch = c["architectures"][0].get<std::string>();
  } else {
    fail(ErrorCode::invalid_file, "config.json: 'architectures' is missing");
  }
  for (const ArchName& a : kArchs) {
    if (cfg.hf_arch == a.hf) cfg.arch = a.gguf;
  }
  if (cfg.arch.empty()) {
    std::string known;
    for (const ArchName& a : kArchs) known += std::string(known.empty() ? "" : ", ") + a.hf;
    fail(ErrorCode::unsupported, "config.json: architecture '{}' is not supported (supported: {})",
         cfg.hf_arch, known);
  }
  cfg.n_vocab = get_int(c, "vocab_size");
  cfg.n_embd = get_int(c, "hidden_size");
  cfg.n_layers = get_int(c, "num_hidden_layers");
  cfg.n_ff = get_int(c, "intermediate_size");
  cfg.n_heads = get_int(c, "num_attention_heads");
  cfg.n_kv_heads = get_int(c, "num_key_value_heads", cfg.n_heads);
  cfg.head_dim = get_int(c, "head_dim", cfg.n_embd / cfg.n_heads);
  cfg.n_ctx = get_int(c, "max_position_embeddings", 4096);
  cfg.rms_eps = get_number(c, "rms_norm_eps", 1e-6);
  cfg.tie_word_embeddings = c.value("tie_word_embeddings", false);
  if (cfg.n_heads % cfg.n_kv_heads != 0) {
    fail(ErrorCode::invalid_file, "config.json: {} heads are not a multiple of {} KV heads", cfg.n_heads,
         cfg.n_kv_heads);
  }
  if (cfg.head_dim % 2 != 0) fail(ErrorCode::invalid_file, "config.json: head_dim {} is odd", cfg.head_dim);
  read_rope(c, cfg);
  return cfg;
}

HfConfig read_hf_config(const std::filesystem::path& dir) {
  const auto path = dir / "config.json";
  std::ifstream in(path);
  if (!in) fail(ErrorCode::not_found, "{}: cannot open", path.string());
  json c = json::parse(in, nullptr, false);
  if (c.is_discarded()) fail(ErrorCode::invalid_file, "{}: not valid JSON", path.string());
  return parse_hf_config(c);
}

}  // namespace ingot::convert
