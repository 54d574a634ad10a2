// The quantization recipes (quant/recipe.h): names and aliases, the general.file_type values
// llama.cpp writes, and the per-tensor rules on a llama-shaped tensor list (norms kept, output in
// Q6_K, attn_v/ffn_down promoted on use_more_bits layers, 32-block fallbacks, tied embeddings).
#include "core/error.h"
#include "quant/recipe.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ingot::quant {
namespace {

std::vector<TensorShape> llama_tensors(int n_layer, int64_t n_ff, bool with_output) {
  std::vector<TensorShape> t;
  t.push_back({"token_embd.weight", Type::F16, {512, 1000}});
  t.push_back({"output_norm.weight", Type::F32, {512}});
  if (with_output) t.push_back({"output.weight", Type::F16, {512, 1000}});
  for (int l = n_layer - 1; l >= 0; --l) {  // reverse order: the plan must sort by layer
    const std::string p = "blk." + std::to_string(l) + ".";
    t.push_back({p + "attn_norm.weight", Type::F32, {512}});
    t.push_back({p + "attn_q.weight", Type::F16, {512, 512}});
    t.push_back({p + "attn_k.weight", Type::F16, {512, 128}});
    t.push_back({p + "attn_v.weight", Type::F16, {512, 128}});
    t.push_back({p + "attn_output.weight", Type::F16, {512, 512}});
    t.push_back({p + "ffn_gate.weight", Type::F16, {512, n_ff}});
    t.push_back({p + "ffn_up.weight", Type::F16, {512, n_ff}});
    t.push_back({p + "ffn_down.weight", Type::F16, {n_ff, 512}});
  }
  return t;
}

std::map<std::string, std::string> types_by_name(const std::string& recipe, const std::vector<TensorShape>& tensors,
                                                 const ModelShape& model) {
  std::map<std::string, std::string> out;
  for (const TensorPlan& p : plan_quantization(find_recipe(recipe), tensors, model)) {
    out[tensors[p.index].name] = std::string(name(p.target));
  }
  return out;
}

TEST(QuantRecipe, NamesAliasesAndFileTypes) {
  EXPECT_EQ(find_recipe("q4_k_m").file_type, 15u);
  EXPECT_EQ(find_recipe("Q4_K").name, "Q4_K_M");
  EXPECT_EQ(find_recipe("Q5_K").name, "Q5_K_M");
  EXPECT_EQ(find_recipe("Q4_K_S").file_type, 14u);
  EXPECT_EQ(find_recipe("Q5_K_S").file_type, 16u);
  EXPECT_EQ(find_recipe("Q5_K_M").file_type, 17u);
  EXPECT_EQ(find_recipe("Q6_K").file_type, 18u);
  EXPECT_EQ(find_recipe("Q8_0").file_type, 7u);
  EXPECT_EQ(find_recipe("F16").file_type, 1u);
  EXPECT_EQ(find_recipe("BF16").file_type, 32u);
  EXPECT_EQ(find_recipe("Q4_0").file_type, 2u);
  EXPECT_EQ(find_recipe("IQ4_XS").file_type, 30u);
  try {
    find_recipe("Q7_K");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("Q4_K_M"), std::string::npos) << e.what();
  }
}

TEST(QuantRecipe, Q4_K_MOnALlamaShape) {
  const ModelShape model{16, 8, 8, 0, false};
  const auto types = types_by_name("Q4_K_M", llama_tensors(16, 1024, true), model);
  EXPECT_EQ(types.at("output_norm.weight"), "F32");
  EXPECT_EQ(types.at("output.weight"), "Q6_K");
  EXPECT_EQ(types.at("token_embd.weight"), "Q4_K");
  for (int l = 0; l < 16; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    // use_more_bits(l, 16): l < 2, l >= 14, or (l - 2) % 3 == 2.
    const bool more = l < 2 || l >= 14 || (l - 2) % 3 == 2;
    EXPECT_EQ(types.at(p + "attn_v.weight"), more ? "Q6_K" : "Q4_K") << l;
    EXPECT_EQ(types.at(p + "ffn_down.weight"), more ? "Q6_K" : "Q4_K") << l;
    EXPECT_EQ(types.at(p + "attn_q.weight"), "Q4_K") << l;
    EXPECT_EQ(types.at(p + "attn_norm.weight"), "F32") << l;
  }
}

TEST(QuantRecipe, TiedEmbeddingsTakeTheOutputType) {
  const ModelShape model{4, 8, 8, 0, false};
  EXPECT_EQ(types_by_name("Q4_K_M", llama_tensors(4, 1024, false), model).at("token_embd.weight"), "Q6_K");
  EXPECT_EQ(types_by_name("Q8_0", llama_tensors(4, 1024, false), model).at("token_embd.weight"), "Q8_0");
  EXPECT_EQ(types_by_name("Q4_0", llama_tensors(4, 1024, true), model).at("output.weight"), "Q6_K");
}

TEST(QuantRecipe, SmallMixesPromoteEarlyLayers) {
  const ModelShape model{16, 32, 8, 0, false};  // n_gqa 4
  const auto s = types_by_name("Q4_K_S", llama_tensors(16, 1024, true), model);
  for (int l = 0; l < 16; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    EXPECT_EQ(s.at(p + "attn_v.weight"), l < 4 ? "Q5_K" : "Q4_K") << l;
    EXPECT_EQ(s.at(p + "ffn_down.weight"), l < 2 ? "Q5_K" : "Q4_K") << l;
  }
  const auto q2 = types_by_name("Q2_K", llama_tensors(16, 1024, true), model);
  EXPECT_EQ(q2.at("blk.5.attn_v.weight"), "Q4_K");  // n_gqa >= 4
  EXPECT_EQ(q2.at("blk.5.ffn_down.weight"), "Q3_K");
  EXPECT_EQ(q2.at("blk.5.attn_output.weight"), "Q3_K");
  EXPECT_EQ(q2.at("blk.5.attn_q.weight"), "Q2_K");
  const auto q6 = types_by_name("Q6_K", llama_tensors(16, 1024, true), model);
  EXPECT_EQ(q6.at("blk.0.attn_v.weight"), "Q6_K");
  EXPECT_EQ(q6.at("output.weight"), "Q6_K");
}

TEST(QuantRecipe, RowsThatDoNotFit256FallBack) {
  const ModelShape model{8, 8, 8, 0, false};
  const auto tensors = llama_tensors(8, 96, true);  // ffn_down rows of 96
  const auto m = types_by_name("Q4_K_M", tensors, model);
  EXPECT_EQ(m.at("blk.0.ffn_down.weight"), "Q8_0");  // Q6_K -> Q8_0
  EXPECT_EQ(m.at("blk.1.ffn_down.weight"), "Q5_0");  // Q4_K -> Q5_0
  EXPECT_EQ(types_by_name("Q5_K_S", tensors, model).at("blk.1.ffn_down.weight"), "Q5_1");
  EXPECT_EQ(types_by_name("Q3_K_S", tensors, model).at("blk.1.ffn_down.weight"), "Q4_0");
  EXPECT_EQ(types_by_name("IQ4_XS", tensors, model).at("blk.3.ffn_down.weight"), "IQ4_NL");
  // Rows of 48 fit no 32-block either: F16.
  std::vector<TensorShape> odd{{"blk.0.ffn_down.weight", Type::F32, {48, 64}}};
  EXPECT_EQ(types_by_name("Q4_K_S", odd, ModelShape{1, 1, 1, 0, false}).at("blk.0.ffn_down.weight"), "F16");
  // A legacy type has no fallback: an error that names the tensor.
  EXPECT_THROW(plan_quantization(find_recipe("Q4_0"), odd, ModelShape{1, 1, 1, 0, false}), Error);
}

TEST(QuantRecipe, PlanIsInLayerThenNameOrder) {
  const ModelShape model{12, 8, 8, 0, false};
  const auto tensors = llama_tensors(12, 1024, true);
  const auto plan = plan_quantization(find_recipe("Q8_0"), tensors, model);
  ASSERT_EQ(plan.size(), tensors.size());
  EXPECT_EQ(tensors[plan[0].index].name, "output.weight");
  EXPECT_EQ(tensors[plan[3].index].name, "blk.0.attn_k.weight");
  EXPECT_EQ(tensors[plan.back().index].name, "blk.11.ffn_up.weight");
}

}  // namespace
}  // namespace ingot::quant
