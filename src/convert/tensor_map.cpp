#include "convert/tensor_map.h"

#include <array>
#include <charconv>

namespace ingot::convert {
namespace {

struct Pair {
  std::string_view gguf;
  std::string_view hf;
};

constexpr std::array<Pair, 3> kGlobal = {{
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
}};

constexpr std::array<Pair, 16> kLayer = {{
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_q_norm.weight", "self_attn.q_norm.weight"},
    {"attn_k_norm.weight", "self_attn.k_norm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    {"attn_output.bias", "self_attn.o_proj.bias"},
    {"ffn_down.bias", "mlp.down_proj.bias"},
}};

}  // namespace

std::optional<std::string> hf_name_of(std::string_view gguf_name) {
  for (const Pair& p : kGlobal) {
    if (p.gguf == gguf_name) return std::string(p.hf);
  }
  constexpr std::string_view kBlk = "blk.";
  if (gguf_name.substr(0, kBlk.size()) != kBlk) return std::nullopt;
  const std::string_view rest = gguf_name.substr(kBlk.size());
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  int64_t layer = 0;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + dot, layer);
  if (ec != std::errc() || ptr != rest.data() + dot) return std::nullopt;
  const std::string_view suffix = rest.substr(dot + 1);
  for (const Pair& p : kLayer) {
    if (p.gguf == suffix) return "model.layers." + std::to_string(layer) + "." + std::string(p.hf);
  }
  return std::nullopt;
}

int64_t permuted_source_row(int64_t gguf_row, int64_t head_dim) {
  const int64_t head = gguf_row / head_dim;
  const int64_t within = gguf_row % head_dim;  // = 2 * i + j
  const int64_t i = within / 2, j = within % 2;
  return head * head_dim + j * (head_dim / 2) + i;
}

}  // namespace ingot::convert
