// `ingot eval --logits`: a float32 .npy [n_tokens, n_vocab] header and size; bad prompts fail.
#include "model_cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace ingot::test {
namespace {

TEST(EvalCli, WritesNpy) {
  const auto out = (cli_work_dir() / "eval.npy").string();
  const CliResult r = run_ingot("eval -m " + small_model() + " --prompt-ids \"1 2 3 4 5\" --logits " + out);
  ASSERT_EQ(r.status, 0) << r.out;
  std::ifstream in(out, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 128u);
  EXPECT_EQ(bytes.substr(1, 5), "NUMPY");
  EXPECT_NE(bytes.find("'shape': (5, 1024)"), std::string::npos);
  const size_t header = 10 + (static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8));
  EXPECT_EQ(header % 64, 0u);
  EXPECT_EQ(bytes.size() - header, 5u * 1024u * 4u);
}

TEST(EvalCli, BadInput) {
  const auto out = (cli_work_dir() / "eval-bad.npy").string();
  CliResult r = run_ingot("eval -m " + small_model() + " --logits " + out);
  EXPECT_EQ(r.status, 1) << r.out;
  r = run_ingot("eval -m " + small_model() + " --prompt-ids \"1 x 2\" --logits " + out);
  EXPECT_EQ(r.status, 1) << r.out;
  r = run_ingot("eval -m /missing.gguf -p hi --logits " + out);
  EXPECT_EQ(r.status, 1) << r.out;
}

}  // namespace
}  // namespace ingot::test
