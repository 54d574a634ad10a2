// Reference parity: each small random-weight model of tests/reference/models (made by
// transformers, with its f32 logits) is converted with `ingot convert` to F32, F16, BF16 and
// Q8_0, evaluated with `ingot eval` on both prompts, and compared per position by
// error = max|ours - ref| / max|ref|: F32 < 1e-4, F16/BF16 < 1e-2, Q8_0 within 3e-2 of the same
// model dequantized (`ingot quantize X-Q8_0.gguf X-deq.gguf F32`: what is measured is the 8-bit
// activation arithmetic, not the weight rounding); `ingot run` must reproduce transformers'
// greedy 32-token continuation from F32. Runs in a few seconds.
#include "npy_reader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ingot::test::NpyArray;
using ingot::test::read_npy_f32;

struct CommandResult {
  int status = -1;
  std::string out;
};

CommandResult run(const std::string& command, bool with_stderr = true) {
  CommandResult r;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r"), &pclose);
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) r.out.append(buf, n);
  r.status = pclose(pipe.release());
  return r;
}

std::string bin() {
  const char* b = std::getenv("INGOT_BIN");
  return b != nullptr ? b : std::string(INGOT_BINARY_DIR) + "/bin/ingot";
}

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    if (!s.empty()) s.push_back(' ');
    s.append(std::to_string(id));
  }
  return s;
}

// max over positions of max|a - b| / max|b| (per position).
double max_position_error(const NpyArray& ours, const NpyArray& ref) {
  double worst = 0.0;
  for (int64_t r = 0; r < ref.rows; ++r) {
    double diff = 0.0, scale = 0.0;
    for (int64_t c = 0; c < ref.cols; ++c) {
      diff = std::max(diff, static_cast<double>(std::fabs(ours.at(r, c) - ref.at(r, c))));
      scale = std::max(scale, static_cast<double>(std::fabs(ref.at(r, c))));
    }
    worst = std::max(worst, diff / std::max(scale, 1e-30));
  }
  return worst;
}

struct Fixture {
  fs::path src;
  std::vector<std::vector<int32_t>> prompt_ids;
  std::vector<int32_t> greedy;
};

Fixture load_fixture(const std::string& name) {
  Fixture f;
  f.src = fs::path(INGOT_SOURCE_DIR) / "tests/reference/models" / name;
  std::ifstream in(f.src / "prompts.json");
  const nlohmann::json prompts = nlohmann::json::parse(in);
  for (const auto& p : prompts["prompts"]) f.prompt_ids.push_back(p.get<std::vector<int32_t>>());
  f.greedy = prompts["greedy_continuation"].get<std::vector<int32_t>>();
  return f;
}

// Converts the fixture to `type` in the build folder and returns the GGUF's path.
std::string convert(const std::string& name, const Fixture& f, const std::string& type) {
  const fs::path work = fs::path(INGOT_BINARY_DIR) / "reference_parity" / name;
  fs::create_directories(work);
  const fs::path gguf = work / (name + "-" + type + ".gguf");
  const CommandResult conv = run(bin() + " convert " + f.src.string() + " " + gguf.string() + " --type " + type);
  EXPECT_EQ(conv.status, 0) << conv.out;
  return gguf.string();
}

// Our logits [n_tokens, n_vocab] of prompt i through `ingot eval`.
NpyArray eval_logits(const std::string& gguf, const Fixture& f, size_t i) {
  const std::string npy = gguf + "-" + std::to_string(i) + ".npy";
  const CommandResult ev = run(bin() + " eval -m " + gguf + " --prompt-ids \"" + ids_text(f.prompt_ids[i]) +
                               "\" --logits " + npy);
  EXPECT_EQ(ev.status, 0) << ev.out;
  return read_npy_f32(npy);
}

// The Q8_0 GGUF's weights dequantized to an F32 GGUF (the same function, without 8-bit activations).
std::string dequantize(const std::string& q8_gguf) {
  const std::string out = q8_gguf + "-dequantized.gguf";
  const CommandResult r = run(bin() + " quantize " + q8_gguf + " " + out + " F32");
  EXPECT_EQ(r.status, 0) << r.out;
  return out;
}

// Parameter: "<fixture>/<type>". F32/F16/BF16 are compared with transformers' logits; Q8_0 with
// our logits of the same Q8_0 model dequantized to F32. F32 also checks the greedy continuation.
class ReferenceParity : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(ReferenceParity, Logits) {
  const auto& [name, type] = GetParam();
  ASSERT_TRUE(fs::exists(bin())) << "build the ingot binary first: " << bin();
  const Fixture f = load_fixture(name);
  const std::map<std::string, double> limits = {{"F32", 1e-4}, {"F16", 1e-2}, {"BF16", 1e-2}, {"Q8_0", 3e-2}};
  const double limit = limits.at(type);
  const std::string gguf = convert(name, f, type);
  const std::string f32_gguf = type == "Q8_0" ? dequantize(gguf) : std::string();
  ASSERT_FALSE(::testing::Test::HasFailure());
  for (size_t i = 0; i < f.prompt_ids.size(); ++i) {
    const NpyArray ours = eval_logits(gguf, f, i);
    const NpyArray against = type == "Q8_0" ? eval_logits(f32_gguf, f, i)
                                            : read_npy_f32((f.src / ("logits_" + std::to_string(i) + ".npy")).string());
    ASSERT_EQ(ours.rows, against.rows);
    ASSERT_EQ(ours.cols, against.cols);
    ASSERT_EQ(ours.rows, static_cast<int64_t>(f.prompt_ids[i].size()));
    const double err = max_position_error(ours, against);
    EXPECT_LT(err, limit) << name << " " << type << " prompt " << i;
    std::printf("%s %s prompt %zu: error %.3g (limit %.0e)\n", name.c_str(), type.c_str(), i, err, limit);
  }
  if (type != "F32") return;
  const CommandResult gen = run(bin() + " run -m " + gguf + " --prompt-ids \"" + ids_text(f.prompt_ids[0]) + "\" -n " +
                                    std::to_string(f.greedy.size()) + " --temp 0 --ignore-eos --print-ids",
                                false);
  ASSERT_EQ(gen.status, 0) << gen.out;
  std::vector<int32_t> got;
  std::istringstream words(gen.out);  // stdout: the generated ids, space-separated
  int32_t id;
  while (words >> id) got.push_back(id);
  EXPECT_EQ(got, f.greedy) << gen.out;
}

std::string param_name(const ::testing::TestParamInfo<std::pair<std::string, std::string>>& info) {
  return info.param.first + "_" + info.param.second;
}

using P = std::pair<std::string, std::string>;
INSTANTIATE_TEST_SUITE_P(Models, ReferenceParity,
                         ::testing::Values(P{"llama3", "F32"}, P{"llama3", "F16"}, P{"llama3", "BF16"}, P{"llama3", "Q8_0"},
                                           P{"smollm", "F32"}, P{"smollm", "F16"}, P{"smollm", "BF16"}, P{"smollm", "Q8_0"},
                                           P{"qwen2", "F32"}, P{"qwen2", "F16"}, P{"qwen2", "BF16"}, P{"qwen2", "Q8_0"},
                                           P{"qwen3", "F32"}, P{"qwen3", "F16"}, P{"qwen3", "BF16"}, P{"qwen3", "Q8_0"}),
                         param_name);

}  // namespace
