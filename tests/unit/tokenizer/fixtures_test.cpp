// Every .inp/.out pair of the shared vocab fixtures (real GGUF vocabularies with the ids their
// Hugging Face tokenizers produce): our encode must give identical ids, without BOS/EOS.
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ingot::tokenizer {
namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_inputs(const std::string& text) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    const size_t found = text.find(sep, pos);
    if (found == std::string::npos) {
      parts.push_back(text.substr(pos));
      break;
    }
    parts.push_back(text.substr(pos, found - pos));
    pos = found + sep.size();
  }
  return parts;
}

std::vector<std::vector<TokenId>> read_outputs(const std::string& text) {
  std::vector<std::vector<TokenId>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream ids(line);
    std::vector<TokenId> row;
    TokenId id;
    while (ids >> id) row.push_back(id);
    rows.push_back(row);
  }
  return rows;
}

std::string show(const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) {
    s.push_back(' ');
    s.append(std::to_string(id));
  }
  return s;
}

class VocabFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabFixture, EncodesLikeTheReference) {
  const std::filesystem::path dir = std::filesystem::path(INGOT_SHARED_DIR) / "fixtures" / "vocab";
  const std::filesystem::path gguf_path = dir / GetParam();
  if (!std::filesystem::exists(gguf_path)) GTEST_SKIP() << "no shared fixtures at " << dir;
  const gguf::File file = gguf::File::open(gguf_path.string());
  const Tokenizer tok(load_vocab(file));
  const auto inputs = split_inputs(read_all(gguf_path.string() + ".inp"));
  const auto outputs = read_outputs(read_all(gguf_path.string() + ".out"));
  ASSERT_GE(outputs.size() + 1, inputs.size());
  size_t n_checked = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<TokenId> expected = i < outputs.size() ? outputs[i] : std::vector<TokenId>{};
    const auto got = tok.encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(got, expected) << "input " << i << ": '" << inputs[i] << "'\n got:     " << show(got)
                             << "\n expected:" << show(expected);
    ++n_checked;
  }
  EXPECT_GE(n_checked, 40u);
}

const std::vector<std::string> fixture_names = {"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf",
                                                "ggml-vocab-phi-3.gguf"};

// A pair added to the shared folder must be listed above, or this fails and names it.
TEST(VocabFixtures, EveryPairInTheSharedFolderIsTested) {
  const std::filesystem::path dir = std::filesystem::path(INGOT_SHARED_DIR) / "fixtures" / "vocab";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no shared fixtures at " << dir;
  size_t n_pairs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".inp")) continue;
    const std::string gguf = name.substr(0, name.size() - 4);
    EXPECT_TRUE(std::filesystem::exists(dir / (gguf + ".out"))) << name << " has no .out";
    EXPECT_NE(std::find(fixture_names.begin(), fixture_names.end(), gguf), fixture_names.end())
        << gguf << " is in the shared fixtures but not tested: add it to fixture_names";
    ++n_pairs;
  }
  EXPECT_EQ(n_pairs, fixture_names.size());
}

INSTANTIATE_TEST_SUITE_P(Shared, VocabFixture, ::testing::ValuesIn(fixture_names),
                         [](const auto& info) {
                           std::string name(info.param.begin() + 11, info.param.end());
                           for (char& c : name) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace ingot::tokenizer
