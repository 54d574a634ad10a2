#include "model/arch.h"

#include "core/error.h"
#include "model/hparams.h"

#include <fmt/format.h>

#include <array>

namespace ingot::model {
namespace {

const std::array<const ArchTraits* (*)(), 3> kFamilies = {
    [] { return &llama_traits(); },
    [] { return &qwen2_traits(); },
    [] { return &qwen3_traits(); },
};

}  // namespace

std::string layer_tensor(int64_t layer, std::string_view suffix) {
  return fmt::format("blk.{}.{}", layer, suffix);
}

std::vector<std::string_view> known_arch_names() {
  std::vector<std::string_view> names;
  for (auto family : kFamilies) names.push_back(family()->name);
  return names;
}

const ArchTraits& find_arch(std::string_view name) {
  for (auto family : kFamilies) {
    if (family()->name == name) return *family();
  }
  fail(ErrorCode::unsupported, "unknown architecture '{}' (supported: {})", name,
       fmt::join(known_arch_names(), ", "));
}

std::vector<TensorSpec> expected_tensors(const HyperParams& hp) {
  const int64_t d = hp.n_embd;
  const int64_t q_dim = hp.q_dim();
  const int64_t kv_dim = hp.kv_dim();
  std::vector<TensorSpec> out;
  out.push_back({"token_embd.weight", {d, hp.n_vocab}});
  if (hp.has_rope_freqs) out.push_back({"rope_freqs.weight", {hp.rope.n_rot / 2}, true, true});
  for (int64_t l = 0; l < hp.n_layers; ++l) {
    out.push_back({layer_tensor(l, "attn_norm.weight"), {d}, true, true});
    out.push_back({layer_tensor(l, "attn_q.weight"), {d, q_dim}});
    out.push_back({layer_tensor(l, "attn_k.weight"), {d, kv_dim}});
    out.push_back({layer_tensor(l, "attn_v.weight"), {d, kv_dim}});
    out.push_back({layer_tensor(l, "attn_output.weight"), {q_dim, d}});
    if (hp.traits->add_layer_tensors != nullptr) hp.traits->add_layer_tensors(hp, l, out);
    out.push_back({layer_tensor(l, "ffn_norm.weight"), {d}, true, true});
    out.push_back({layer_tensor(l, "ffn_gate.weight"), {d, hp.n_ff}});
    out.push_back({layer_tensor(l, "ffn_up.weight"), {d, hp.n_ff}});
    out.push_back({layer_tensor(l, "ffn_down.weight"), {hp.n_ff, d}});
  }
  out.push_back({"output_norm.weight", {d}, true, true});
  out.push_back({"output.weight", {d, hp.n_vocab}, false});  // absent: tied to token_embd
  return out;
}

}  // namespace ingot::model
