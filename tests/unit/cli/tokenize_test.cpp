// `ingot tokenize` run as a user runs it ($INGOT_BIN) on the shared vocab fixtures: the ids line
// must equal the fixture's .out line byte for byte; --jsonl must agree for every entry; flags
// for special tokens and BOS; clear errors for bad invocations.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ingot {
namespace {

struct TokenizeRun {
  int status = -1;
  std::string output;
};

std::string tokenize_bin() {
  const char* bin = std::getenv("INGOT_BIN");
  return bin != nullptr ? bin : std::string(INGOT_BINARY_DIR) + "/bin/ingot";
}

TokenizeRun run_tokenize(const std::string& args, bool with_stderr = false) {
  TokenizeRun r;
  const std::string command = tokenize_bin() + " tokenize " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 65536> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) r.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string& text, const std::string& sep) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    const size_t found = text.find(sep, pos);
    if (found == std::string::npos) {
      parts.push_back(text.substr(pos));
      return parts;
    }
    parts.push_back(text.substr(pos, found - pos));
    pos = found + sep.size();
  }
}

std::filesystem::path fixture_dir() {
  return std::filesystem::path(INGOT_SHARED_DIR) / "fixtures" / "vocab";
}

class Tokenize : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(tokenize_bin())) GTEST_SKIP() << "no ingot binary at " << tokenize_bin();
    if (!std::filesystem::exists(fixture_dir())) GTEST_SKIP() << "no shared fixtures at " << fixture_dir();
    gguf_ = (fixture_dir() / GetParam()).string();
    inputs_ = split(slurp(gguf_ + ".inp"), "\n__ggml_vocab_test__\n");
    outputs_ = split(slurp(gguf_ + ".out"), "\n");
    tmp_ = std::filesystem::temp_directory_path() / ("ingot-tokenize-" + std::to_string(::getpid()));
    std::filesystem::create_directories(tmp_);
  }
  void TearDown() override {
    if (!tmp_.empty()) std::filesystem::remove_all(tmp_);
  }
  std::string gguf_;
  std::vector<std::string> inputs_;
  std::vector<std::string> outputs_;
  std::filesystem::path tmp_;
};

TEST_P(Tokenize, IdsLineEqualsTheFixtureLine) {
  ASSERT_GE(inputs_.size(), 40u);
  for (size_t i = 0; i < 12 && i < inputs_.size(); ++i) {
    const auto path = tmp_ / "input.txt";
    std::ofstream(path, std::ios::binary) << inputs_[i];
    const TokenizeRun r = run_tokenize("-m " + gguf_ + " --file " + path.string());
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, outputs_[i] + "\n") << "entry " << i << ": '" << inputs_[i] << "'";
  }
}

TEST_P(Tokenize, JsonLinesAgreeWithEveryEntry) {
  const auto path = tmp_ / "input.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    for (const auto& s : inputs_) out << nlohmann::json{{"text", s}}.dump() << "\n";
  }
  const TokenizeRun r = run_tokenize("-m " + gguf_ + " --jsonl --file " + path.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const auto lines = split(r.output, "\n");
  ASSERT_EQ(lines.size(), inputs_.size() + 1);  // a trailing newline
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const auto reply = nlohmann::json::parse(lines[i]);
    std::string ids;
    for (int id : reply.at("ids")) {
      ids.push_back(' ');
      ids.append(std::to_string(id));
    }
    EXPECT_EQ(ids, i < outputs_.size() ? outputs_[i] : "") << "entry " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Tokenize,
                         ::testing::Values("ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf",
                                           "ggml-vocab-phi-3.gguf"),
                         [](const auto& info) {
                           std::string name(info.param.begin() + 11, info.param.end() - 5);
                           for (char& c : name) if (c == '-') c = '_';
                           return name;
                         });

class TokenizeFlags : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(tokenize_bin())) GTEST_SKIP() << "no ingot binary";
    spm_ = (fixture_dir() / "ggml-vocab-llama-spm.gguf").string();
    if (!std::filesystem::exists(spm_)) GTEST_SKIP() << "no shared fixtures";
  }
  std::string spm_;
};

TEST_F(TokenizeFlags, AddSpecialAddsBos) {
  const TokenizeRun plain = run_tokenize("-m " + spm_ + " 'Hello world'");
  const TokenizeRun bos = run_tokenize("-m " + spm_ + " --add-special 'Hello world'");
  ASSERT_EQ(plain.status, 0);
  EXPECT_EQ(plain.output, " 15043 3186\n");
  EXPECT_EQ(bos.output, " 1 15043 3186\n");
}

TEST_F(TokenizeFlags, ParseSpecialIsTheDefault) {
  EXPECT_EQ(run_tokenize("-m " + spm_ + " '</s>'").output, " 2\n");
  const TokenizeRun off = run_tokenize("-m " + spm_ + " --no-parse-special '</s>'");
  EXPECT_NE(off.output, " 2\n");
  EXPECT_GT(off.output.size(), 4u);
}

TEST_F(TokenizeFlags, PiecesShowIdAndText) {
  const TokenizeRun r = run_tokenize("-m " + spm_ + " --pieces 'Hello world'");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.output, "15043\t Hello\n3186\t world\n");
}

TEST_F(TokenizeFlags, BadInvocationsFailWithAMessage) {
  const TokenizeRun none = run_tokenize("'text'", true);
  EXPECT_NE(none.status, 0);
  EXPECT_NE(none.output.find("-m FILE"), std::string::npos) << none.output;
  const TokenizeRun missing = run_tokenize("-m /no/such/file.gguf 'x'", true);
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("/no/such/file.gguf"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace ingot
