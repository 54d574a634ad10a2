// `ingot perplexity` prints a finite PPL with its ± for a small text; too short a text or a
// missing file is an error.
#include "model_cli.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

namespace ingot::test {
namespace {

TEST(PerplexityCli, ScoresChunks) {
  const auto text = cli_work_dir() / "ppl.txt";
  {
    std::ofstream out(text);
    for (int i = 0; i < 40; ++i) out << "In the beginning God created the heaven and the earth. ";
  }
  const CliResult r = run_ingot("perplexity -m " + small_model() + " -f " + text.string() + " --ctx 64");
  ASSERT_EQ(r.status, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(PPL = ([0-9.]+) \+/- ([0-9.]+))"))) << r.out;
  EXPECT_GT(std::stod(m[1]), 1.0);
  const CliResult too_short = run_ingot("perplexity -m " + small_model() + " -f " + text.string() + " --ctx 256");
  EXPECT_EQ(too_short.status, 0) << too_short.out;  // 40 sentences are > 256 tokens
  const CliResult missing = run_ingot("perplexity -m " + small_model() + " -f /missing.txt");
  EXPECT_EQ(missing.status, 1) << missing.out;
}

}  // namespace
}  // namespace ingot::test
