// Tensor-name mapping and the Q/K row permutation of the GGUF llama layout.
#include "convert/hf_config.h"
#include "convert/tensor_map.h"
#include "core/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace ingot::convert {
namespace {

TEST(TensorMap, Names) {
  EXPECT_EQ(hf_name_of("token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(hf_name_of("output.weight"), "lm_head.weight");
  EXPECT_EQ(hf_name_of("blk.12.attn_q.weight"), "model.layers.12.self_attn.q_proj.weight");
  EXPECT_EQ(hf_name_of("blk.0.attn_k.bias"), "model.layers.0.self_attn.k_proj.bias");
  EXPECT_EQ(hf_name_of("blk.3.attn_q_norm.weight"), "model.layers.3.self_attn.q_norm.weight");
  EXPECT_EQ(hf_name_of("blk.1.ffn_norm.weight"), "model.layers.1.post_attention_layernorm.weight");
  EXPECT_FALSE(hf_name_of("rope_freqs.weight").has_value());
  EXPECT_FALSE(hf_name_of("blk.x.attn_q.weight").has_value());
}

TEST(TensorMap, PermutationInterleavesHalves) {
  // head_dim 8: GGUF rows (0..7) read HF rows 0,4,1,5,2,6,3,7 — the pair (x[i], x[i+4]) adjacent.
  const int64_t expect[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(permuted_source_row(r, 8), expect[r]);
  EXPECT_EQ(permuted_source_row(9, 8), 12);  // second head
  std::set<int64_t> seen;
  for (int64_t r = 0; r < 64 * 4; ++r) seen.insert(permuted_source_row(r, 64));
  EXPECT_EQ(seen.size(), 256u);  // a bijection
}

TEST(HfConfig, OldAndNewRopeLayouts) {
  nlohmann::json old_cfg = {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 1024}, {"hidden_size", 256},
                            {"num_hidden_layers", 2}, {"intermediate_size", 384}, {"num_attention_heads", 4},
                            {"num_key_value_heads", 1}, {"max_position_embeddings", 256}, {"rms_norm_eps", 1e-5},
                            {"rope_theta", 500000.0},
                            {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                                              {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 32}}}};
  HfConfig c = parse_hf_config(old_cfg);
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_type, HfRopeType::llama3);
  EXPECT_EQ(c.rope_original_ctx, 32);
  nlohmann::json new_cfg = old_cfg;
  new_cfg.erase("rope_theta");
  new_cfg.erase("rope_scaling");
  new_cfg["architectures"] = {"Qwen3ForCausalLM"};
  new_cfg["rope_parameters"] = {{"rope_theta", 1000000.0}, {"rope_type", "default"}};
  c = parse_hf_config(new_cfg);
  EXPECT_EQ(c.arch, "qwen3");
  EXPECT_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.rope_type, HfRopeType::none);
  new_cfg["rope_parameters"] = {{"rope_theta", 1e6}, {"rope_type", "yarn"}, {"factor", 4.0},
                                {"original_max_position_embeddings", 32768}};
  c = parse_hf_config(new_cfg);
  EXPECT_EQ(c.rope_type, HfRopeType::yarn);
  EXPECT_EQ(c.rope_factor, 4.0);
  new_cfg["architectures"] = {"GPTNeoXForCausalLM"};
  EXPECT_THROW(parse_hf_config(new_cfg), Error);
  new_cfg["architectures"] = {"Qwen2ForCausalLM"};
  new_cfg["num_key_value_heads"] = 3;
  EXPECT_THROW(parse_hf_config(new_cfg), Error);
  new_cfg["num_key_value_heads"] = 2;
  new_cfg["rope_parameters"]["rope_type"] = "longrope";
  EXPECT_THROW(parse_hf_config(new_cfg), Error);
}

}  // namespace
}  // namespace ingot::convert
