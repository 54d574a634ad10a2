// `ingot inspect` run as a user runs it ($INGOT_BIN): on files our Writer makes and on the real
// vocabulary files in $INGOT_SHARED_DIR/fixtures/vocab, in text and --json form, and on a bad file.
#include "gguf/writer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/model_cli.h"
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace ingot {
namespace {

class Inspect : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::ingot_bin())) GTEST_SKIP() << "no ingot binary at " << test::ingot_bin();
  }
};

std::string write_model() {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back("tok" + std::to_string(i));
  tokens[5] = "quote\"and\nnewline";
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  const std::vector<int32_t> short_array{1, -2, 3};
  w.set_array("short", gguf::Array::of<int32_t>(short_array));
  const int64_t dims_a[] = {64, 4};
  const int64_t dims_b[] = {256};
  w.add_tensor("blk.0.attn_q.weight", quant::Type::Q8_0, dims_a, std::vector<uint8_t>(2 * 4 * 34, 0));
  w.add_tensor("output_norm.weight", quant::Type::F32, dims_b, std::vector<uint8_t>(256 * 4, 0));
  const std::string path = ::testing::TempDir() + "/inspect_test.gguf";
  w.write(path);
  return path;
}

TEST_F(Inspect, TextShowsMetadataTensorsAndTotals) {
  const std::string path = write_model();
  const test::CliResult r = test::run_ingot("inspect " + path);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("GGUF v3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("general.architecture"), std::string::npos);
  EXPECT_NE(r.out.find("\"llama\""), std::string::npos);
  EXPECT_NE(r.out.find("[string; 100]"), std::string::npos);
  EXPECT_NE(r.out.find("... (100 items)"), std::string::npos);  // long arrays abbreviated
  EXPECT_EQ(r.out.find("tok99"), std::string::npos);
  EXPECT_NE(r.out.find("[1, -2, 3]"), std::string::npos);
  EXPECT_NE(r.out.find("\"quote\\\"and\\nnewline\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("blk.0.attn_q.weight"), std::string::npos);
  EXPECT_NE(r.out.find("Q8_0"), std::string::npos);
  EXPECT_NE(r.out.find("[64, 4]"), std::string::npos);
  // 256 + 256 parameters, 272 + 1024 bytes -> 20.25 bits per weight
  EXPECT_NE(r.out.find("2 tensors, 512 parameters, 1296 bytes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("20.250 bits per weight"), std::string::npos) << r.out;
}

TEST_F(Inspect, JsonIsOneObjectWithTruncatedLongArrays) {
  const std::string path = write_model();
  const test::CliResult r = test::run_ingot("inspect --json --array-items 10 " + path);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["metadata"]["general.architecture"], "llama");
  EXPECT_EQ(j["metadata"]["llama.block_count"], 2);
  EXPECT_EQ(j["metadata_types"]["llama.block_count"], "uint32");
  EXPECT_NEAR(j["metadata"]["llama.attention.layer_norm_rms_epsilon"].get<double>(), 1e-5, 1e-12);
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.add_bos_token"], true);
  EXPECT_EQ(j["metadata"]["short"], nlohmann::json::parse("[1,-2,3]"));
  const auto& tokens = j["metadata"]["tokenizer.ggml.tokens"];
  EXPECT_EQ(tokens["count"], 100);
  EXPECT_EQ(tokens["truncated"], true);
  ASSERT_EQ(tokens["items"].size(), 10u);
  EXPECT_EQ(tokens["items"][5], "quote\"and\nnewline");
  EXPECT_EQ(j["metadata_types"]["tokenizer.ggml.tokens"], "array[string]");
  ASSERT_EQ(j["tensors"].size(), 2u);
  EXPECT_EQ(j["tensors"][0]["name"], "blk.0.attn_q.weight");
  EXPECT_EQ(j["tensors"][0]["type"], "Q8_0");
  EXPECT_EQ(j["tensors"][0]["shape"], nlohmann::json::parse("[64,4]"));
  EXPECT_EQ(j["tensors"][0]["bytes"], 272);
  EXPECT_EQ(j["totals"]["tensors"], 2);
  EXPECT_EQ(j["totals"]["parameters"], 512);
  EXPECT_EQ(j["totals"]["bytes"], 1296);
  EXPECT_DOUBLE_EQ(j["totals"]["bits_per_weight"].get<double>(), 20.25);
  // --array-items 0: everything in full
  const auto all = nlohmann::json::parse(test::run_ingot("inspect --json --array-items 0 " + path).out);
  EXPECT_EQ(all["metadata"]["tokenizer.ggml.tokens"].size(), 100u);
}

TEST_F(Inspect, RealVocabularyFiles) {
  const std::filesystem::path dir = std::filesystem::path(INGOT_SHARED_DIR) / "fixtures" / "vocab";
  struct Expected {
    const char* file;
    const char* model;
    size_t n_tokens;
  };
  const Expected cases[] = {{"ggml-vocab-llama-spm.gguf", "llama", 32000},
                            {"ggml-vocab-gpt-2.gguf", "gpt2", 50257},
                            {"ggml-vocab-phi-3.gguf", "llama", 32064}};
  int n_run = 0;
  for (const auto& c : cases) {
    const auto path = dir / c.file;
    if (!std::filesystem::exists(path)) continue;
    SCOPED_TRACE(c.file);
    ++n_run;
    const test::CliResult r = test::run_ingot("inspect --json " + path.string());
    ASSERT_EQ(r.status, 0) << r.out.substr(0, 2000);
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_FALSE(j["metadata"]["general.architecture"].get<std::string>().empty());
    EXPECT_EQ(j["metadata"]["tokenizer.ggml.model"], c.model);
    EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["count"], c.n_tokens);
    EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["items"].size(), 64u);
    EXPECT_EQ(j["metadata_types"]["tokenizer.ggml.tokens"], "array[string]");
    const test::CliResult text = test::run_ingot("inspect " + path.string());
    ASSERT_EQ(text.status, 0);
    EXPECT_NE(text.out.find(fmt::format("[string; {}]", c.n_tokens)), std::string::npos);
  }
  if (n_run == 0) GTEST_SKIP() << "no vocab fixtures under " << dir;
}

TEST_F(Inspect, BadFilesFailWithAMessage) {
  const std::string path = ::testing::TempDir() + "/inspect_bad.gguf";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const unsigned char v1[8] = {'G', 'G', 'U', 'F', 1, 0, 0, 0};
    std::fwrite(v1, 1, sizeof(v1), f);
    std::fclose(f);
  }
  const test::CliResult r = test::run_ingot("inspect " + path);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("version 1"), std::string::npos) << r.out;
  const test::CliResult missing = test::run_ingot("inspect /nonexistent/model.gguf");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.out.find("cannot open"), std::string::npos) << missing.out;
}

}  // namespace
}  // namespace ingot
