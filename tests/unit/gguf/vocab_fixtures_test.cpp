// Parses the real vocabulary GGUF files in $INGOT_SHARED_DIR/fixtures/vocab (written by
// llama.cpp's tools, not by us) and checks keys every vocabulary file carries.
#include "core/error.h"
#include "gguf/file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace ingot::gguf {
namespace {

std::vector<std::string> vocab_files() {
  std::vector<std::string> out;
  const std::filesystem::path dir = std::filesystem::path(INGOT_SHARED_DIR) / "fixtures" / "vocab";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".gguf") out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(VocabFixtures, EveryFileParsesWithItsVocabulary) {
  const auto files = vocab_files();
  if (files.empty()) GTEST_SKIP() << "no vocab fixtures under " << INGOT_SHARED_DIR << "/fixtures/vocab";
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    const auto start = std::chrono::steady_clock::now();
    const File file = File::open(path);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(file.version() == 2 || file.version() == 3);
    EXPECT_FALSE(file.get_string("general.architecture").empty());
    const std::string_view model = file.get_string("tokenizer.ggml.model");
    EXPECT_TRUE(model == "llama" || model == "gpt2") << model;
    const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
    EXPECT_GT(tokens.size(), 1000u);
    EXPECT_EQ(file.array_size("tokenizer.ggml.tokens"), tokens.size());
    if (file.find("tokenizer.ggml.token_type") != nullptr) {
      EXPECT_EQ(file.get_i32_array("tokenizer.ggml.token_type").size(), tokens.size());
    }
    if (file.find("tokenizer.ggml.scores") != nullptr) {
      EXPECT_EQ(file.get_f32_array("tokenizer.ggml.scores").size(), tokens.size());
    }
    if (model == "gpt2") {
      EXPECT_GT(file.get_string_array("tokenizer.ggml.merges").size(), 1000u);
    }
    EXPECT_LT(ms, 500.0) << "opening took " << ms << " ms";
    for (const auto& t : file.tensors()) {
      EXPECT_EQ(t.data().size(), t.n_bytes);
      EXPECT_GE(t.data().data(), file.bytes().data());
      EXPECT_LE(t.data().data() + t.n_bytes, file.bytes().data() + file.bytes().size());
    }
  }
}

TEST(VocabFixtures, LlamaSpmKnownValues) {
  const std::string path = std::string(INGOT_SHARED_DIR) + "/fixtures/vocab/ggml-vocab-llama-spm.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "missing " << path;
  const File file = File::open(path);
  EXPECT_EQ(file.get_string("general.architecture"), "llama");
  EXPECT_EQ(file.get_string("tokenizer.ggml.model"), "llama");
  const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 32000u);
  EXPECT_EQ(tokens[0], "<unk>");
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(file.get_u32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(file.get_u32("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(file.get_i64("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_THROW(file.get_string("tokenizer.ggml.bos_token_id"), Error);
  EXPECT_THROW(file.get_u32("no.such.key"), Error);
  EXPECT_EQ(file.get_u32_or("no.such.key", 7), 7u);
  EXPECT_FALSE(file.find_u32("no.such.key").has_value());
}

}  // namespace
}  // namespace ingot::gguf
