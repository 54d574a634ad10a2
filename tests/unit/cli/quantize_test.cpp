// `ingot quantize` run as a user runs it ($INGOT_BIN) on a small llama-shaped GGUF written here:
// checks the per-tensor types the Q4_K_M and Q8_0 mixes choose (llama.cpp's rules, including the
// fallback for rows that are not a multiple of 256), general.file_type, that metadata is copied,
// that dequantized weights are close to the input, and that an unknown type is refused with
// the valid names listed.
#include "gguf/file.h"
#include "gguf/writer.h"
#include "quant/quant.h"

#include <gtest/gtest.h>

#include "cli/model_cli.h"

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ingot {
namespace {

constexpr int kLayers = 8, kEmbd = 256, kFf = 96, kVocab = 64;

// Deterministic weights: a smooth pattern plus a hash, so every block has spread.
std::vector<float> weights(size_t n, uint32_t seed) {
  std::vector<float> x(n);
  uint32_t state = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    x[i] = 0.05f * std::sin(static_cast<float>(i) * 0.37f + static_cast<float>(seed)) +
           0.02f * (static_cast<float>(state >> 8) / 16777216.0f - 0.5f);
  }
  return x;
}

struct Model {
  std::string path;
  std::map<std::string, std::vector<float>> tensors;
};

Model write_model(const std::string& dir) {
  Model m;
  m.path = dir + "/model-f32.gguf";
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "quantize-test");
  w.set_u32("llama.block_count", kLayers);
  w.set_u32("llama.attention.head_count", 8);
  w.set_u32("llama.attention.head_count_kv", 2);
  w.set_u32("general.file_type", 0);
  const auto add = [&](const std::string& name, std::vector<int64_t> dims) {
    size_t n = 1;
    for (int64_t d : dims) n *= static_cast<size_t>(d);
    m.tensors[name] = weights(n, static_cast<uint32_t>(m.tensors.size() + 1));
    const std::vector<float>& data = m.tensors[name];
    w.add_tensor(name, quant::Type::F32, dims,
                 std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size() * sizeof(float)));
  };
  add("token_embd.weight", {kEmbd, kVocab});
  add("output_norm.weight", {kEmbd});
  add("output.weight", {kEmbd, kVocab});
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", {kEmbd});
    add(p + "attn_q.weight", {kEmbd, kEmbd});
    add(p + "attn_k.weight", {kEmbd, 64});
    add(p + "attn_v.weight", {kEmbd, 64});
    add(p + "attn_output.weight", {kEmbd, kEmbd});
    add(p + "ffn_norm.weight", {kEmbd});
    add(p + "ffn_gate.weight", {kEmbd, kFf});
    add(p + "ffn_up.weight", {kEmbd, kFf});
    add(p + "ffn_down.weight", {kFf, kEmbd});  // rows of 96: no 256-block fits
  }
  w.write(m.path);
  return m;
}

class Quantize : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::ingot_bin())) GTEST_SKIP() << "no ingot binary at " << test::ingot_bin();
    dir_ = ::testing::TempDir() + "/ingot-quantize-test";
    std::filesystem::create_directories(dir_);
    model_ = write_model(dir_);
  }
  std::string dir_;
  Model model_;
};

// Relative RMSE of every tensor of `path` against the input weights.
double worst_relative_rmse(const Model& model, const gguf::File& file) {
  double worst = 0;
  for (const gguf::Tensor& t : file.tensors()) {
    const std::vector<float>& x = model.tensors.at(std::string(t.name));
    std::vector<float> y(x.size());
    quant::dequantize_row(t.type, t.data_ptr, y.data(), static_cast<int64_t>(y.size()));
    double e2 = 0, x2 = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      e2 += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
      x2 += static_cast<double>(x[i]) * x[i];
    }
    worst = std::max(worst, std::sqrt(e2 / x2));
  }
  return worst;
}

TEST_F(Quantize, Q4_K_MChoosesLlamaCppTypes) {
  const std::string out = dir_ + "/model-q4_k_m.gguf";
  const test::CliResult r = test::run_ingot("quantize " + model_.path + " " + out + " Q4_K_M --threads 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("bits per weight"), std::string::npos) << r.out;
  const gguf::File file = gguf::File::open(out);
  EXPECT_EQ(file.get_u32("general.file_type"), 15u);
  EXPECT_EQ(file.get_u32("general.quantization_version"), 2u);
  EXPECT_EQ(file.get_string("general.name"), "quantize-test");
  EXPECT_EQ(file.tensors().size(), model_.tensors.size());

  const auto type_of = [&](const std::string& name) { return quant::name(file.tensor(name).type); };
  EXPECT_EQ(type_of("output.weight"), "Q6_K");
  EXPECT_EQ(type_of("token_embd.weight"), "Q4_K");
  EXPECT_EQ(type_of("output_norm.weight"), "F32");
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    // use_more_bits(l, 8): layers 0, 3, 6, 7 get Q6_K for attn_v and ffn_down.
    const bool more = l == 0 || l == 3 || l == 6 || l == 7;
    EXPECT_EQ(type_of(p + "attn_norm.weight"), "F32") << l;
    EXPECT_EQ(type_of(p + "attn_q.weight"), "Q4_K") << l;
    EXPECT_EQ(type_of(p + "attn_k.weight"), "Q4_K") << l;
    EXPECT_EQ(type_of(p + "attn_v.weight"), more ? "Q6_K" : "Q4_K") << l;
    EXPECT_EQ(type_of(p + "attn_output.weight"), "Q4_K") << l;
    EXPECT_EQ(type_of(p + "ffn_gate.weight"), "Q4_K") << l;
    // Rows of 96 fall back: Q6_K -> Q8_0, Q4_K -> Q5_0.
    EXPECT_EQ(type_of(p + "ffn_down.weight"), more ? "Q8_0" : "Q5_0") << l;
  }
  EXPECT_LT(worst_relative_rmse(model_, file), 0.12);
}

TEST_F(Quantize, Q8_0IsCloseAndKeepsOutputInQ8_0) {
  const std::string out = dir_ + "/model-q8_0.gguf";
  const test::CliResult r = test::run_ingot("quantize " + model_.path + " " + out + " q8_0");
  ASSERT_EQ(r.status, 0) << r.out;
  const gguf::File file = gguf::File::open(out);
  EXPECT_EQ(file.get_u32("general.file_type"), 7u);
  EXPECT_EQ(quant::name(file.tensor("output.weight").type), "Q8_0");
  EXPECT_EQ(quant::name(file.tensor("blk.3.ffn_down.weight").type), "Q8_0");
  EXPECT_EQ(quant::name(file.tensor("blk.3.ffn_norm.weight").type), "F32");
  EXPECT_LT(worst_relative_rmse(model_, file), 0.01);
}

TEST_F(Quantize, F16ConvertsEveryMatrix) {
  const std::string out = dir_ + "/model-f16.gguf";
  const test::CliResult r = test::run_ingot("quantize " + model_.path + " " + out + " F16 -t 1");
  ASSERT_EQ(r.status, 0) << r.out;
  const gguf::File file = gguf::File::open(out);
  EXPECT_EQ(file.get_u32("general.file_type"), 1u);
  EXPECT_EQ(quant::name(file.tensor("output.weight").type), "F16");
  EXPECT_EQ(quant::name(file.tensor("blk.0.ffn_down.weight").type), "F16");
  EXPECT_EQ(quant::name(file.tensor("output_norm.weight").type), "F32");
  EXPECT_LT(worst_relative_rmse(model_, file), 0.001);
}

TEST_F(Quantize, UnknownTypeListsValidOnes) {
  const test::CliResult r = test::run_ingot("quantize " + model_.path + " " + dir_ + "/never.gguf Q9_X");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("unknown quantization type 'Q9_X'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Q4_K_M"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/never.gguf"));
}

}  // namespace
}  // namespace ingot
