// `ingot convert` from the command line: a real conversion (hyper-parameters and tokenizer keys
// land in the file) and bad input (missing folder, unknown type, unsupported architecture,
// a tensor of the wrong shape) exits non-zero with a message.
#include "gguf/file.h"
#include "model_cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ingot::test {
namespace {

namespace fs = std::filesystem;

TEST(ConvertCli, ConvertsTheReferenceModel) {
  const auto src = fs::path(INGOT_SOURCE_DIR) / "tests/reference/models/qwen3";
  const auto out = cli_work_dir() / "qwen3-q8.gguf";
  const CliResult r = run_ingot("convert " + src.string() + " " + out.string() + " --type Q8_0");
  ASSERT_EQ(r.status, 0) << r.out;
  const gguf::File f = gguf::File::open(out.string());
  EXPECT_EQ(f.get_string("general.architecture"), "qwen3");
  EXPECT_EQ(f.get_u32("general.file_type"), 7u);
  EXPECT_EQ(f.get_u32("qwen3.block_count"), 2u);
  EXPECT_EQ(f.get_u32("qwen3.attention.key_length"), 64u);
  EXPECT_EQ(f.get_f32("qwen3.rope.freq_base"), 1000000.0f);
  EXPECT_EQ(f.array_size("tokenizer.ggml.tokens"), 1024u);
  EXPECT_FALSE(f.get_string("tokenizer.chat_template").empty());  // from chat_template.jinja
  EXPECT_EQ(f.tensor("blk.0.attn_q.weight").type, quant::Type::Q8_0);
  EXPECT_EQ(f.tensor("blk.0.attn_q_norm.weight").type, quant::Type::F32);
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);  // tied
}

TEST(ConvertCli, Llama3RopeBecomesFactors) {
  const auto src = fs::path(INGOT_SOURCE_DIR) / "tests/reference/models/llama3";
  const auto out = cli_work_dir() / "llama3-f16.gguf";
  const CliResult r = run_ingot("convert " + src.string() + " " + out.string() + " --type F16");
  ASSERT_EQ(r.status, 0) << r.out;
  const gguf::File f = gguf::File::open(out.string());
  const gguf::Tensor& t = f.tensor("rope_freqs.weight");
  EXPECT_EQ(t.n_elements, 32u);
  EXPECT_NE(f.find_tensor("output.weight"), nullptr);  // untied
}

TEST(ConvertCli, BadInput) {
  const auto out = cli_work_dir() / "bad.gguf";
  CliResult r = run_ingot("convert /nonexistent/dir " + out.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("not a directory"), std::string::npos) << r.out;
  const auto src = fs::path(INGOT_SOURCE_DIR) / "tests/reference/models/smollm";
  r = run_ingot("convert " + src.string() + " " + out.string() + " --type Q9_9");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("Q9_9"), std::string::npos) << r.out;
  // A copy of smollm whose config claims another architecture, then a wrong hidden size.
  const auto dir = cli_work_dir() / "bad_hf";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json"}) fs::copy(src / f, dir / f);
  std::ifstream in(src / "config.json");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string bad = config;
  bad.replace(bad.find("LlamaForCausalLM"), 16, "MambaForCausalLM");
  std::ofstream(dir / "config.json") << bad;
  r = run_ingot("convert " + dir.string() + " " + out.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("MambaForCausalLM"), std::string::npos) << r.out;
  bad = config;
  bad.replace(bad.find("\"hidden_size\": 128"), 18, "\"hidden_size\": 192");
  std::ofstream(dir / "config.json") << bad;
  r = run_ingot("convert " + dir.string() + " " + out.string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("model.embed_tokens.weight"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ingot::test
