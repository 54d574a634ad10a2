// The engine with the real CPU backend and a small random-weight llama model written to a GGUF
// file (with the test vocabulary, so text works too): 16 concurrent greedy requests each equal
// to the same request run alone, cancel mid-generation frees all its blocks, and a shared
// 1,000-token prefix is computed once (the second request reports it as cached and its output
// equals a run without the prefix cache). Runs under ThreadSanitizer in CI.
#include "engine_test_util.h"

#include "gguf/writer.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "tokenizer/detokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab_gguf.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <unistd.h>

namespace ingot::engine::test {
namespace {

using namespace std::chrono_literals;

// llama, 2 layers, d=64, 4 heads / 2 KV heads x 16, ff 128, vocab = the test vocabulary.
const std::string& tiny_model_path() {
  static const std::string path = [] {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("ingot-engine-test-{}", ::getpid());
    std::filesystem::create_directories(dir);
    const std::string file = (dir / "tiny-llama.gguf").string();
    model::HyperParams hp;
    hp.arch = "llama";
    hp.traits = &model::find_arch("llama");
    hp.n_vocab = kVocab;
    hp.n_embd = 64;
    hp.n_layers = 2;
    hp.n_ff = 128;
    hp.n_heads = 4;
    hp.n_kv_heads = 2;
    hp.head_dim = 16;
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", "engine-test-tiny");
    w.set_u32("llama.vocab_size", static_cast<uint32_t>(hp.n_vocab));
    w.set_u32("llama.context_length", 2048);
    w.set_u32("llama.embedding_length", static_cast<uint32_t>(hp.n_embd));
    w.set_u32("llama.block_count", static_cast<uint32_t>(hp.n_layers));
    w.set_u32("llama.feed_forward_length", static_cast<uint32_t>(hp.n_ff));
    w.set_u32("llama.attention.head_count", static_cast<uint32_t>(hp.n_heads));
    w.set_u32("llama.attention.head_count_kv", static_cast<uint32_t>(hp.n_kv_heads));
    w.set_u32("llama.attention.key_length", static_cast<uint32_t>(hp.head_dim));
    w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.set_f32("llama.rope.freq_base", 10000.0f);
    tokenizer::write_vocab(make_vocab(), w);
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const model::TensorSpec& spec : model::expected_tensors(hp)) {
      int64_t n = 1;
      for (const int64_t d : spec.dims) n *= d;
      std::vector<float> data(static_cast<size_t>(n));
      const bool is_norm = spec.name.find("norm") != std::string::npos;
      const float scale = spec.is_vector ? 0.1f : 2.0f / std::sqrt(static_cast<float>(spec.dims[0]));
      for (float& x : data) x = (is_norm ? 1.0f : 0.0f) + scale * normal(rng);
      std::vector<uint8_t> bytes(data.size() * sizeof(float));
      std::memcpy(bytes.data(), data.data(), bytes.size());
      w.add_tensor(spec.name, quant::Type::F32, spec.dims, std::move(bytes));
    }
    w.write(file);
    return file;
  }();
  return path;
}

EngineOptions test_options() {
  EngineOptions o;
  o.n_ctx = 2048;
  o.max_seqs = 16;
  o.max_batch_tokens = 128;
  o.kv_blocks = 512;  // 8192 tokens
  o.kv_type = KvCacheType::f32;
  o.n_threads = 2;
  return o;
}

std::vector<int32_t> random_prompt(uint64_t seed, int32_t n) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> p;
  for (int32_t i = 0; i < n; ++i) p.push_back(kFirstLetter + static_cast<int32_t>(rng() % 27));
  return p;
}

Request greedy(std::vector<int32_t> prompt, int32_t max_tokens) {
  Request r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.sampling.max_tokens = max_tokens;
  r.sampling.ignore_eos = true;
  return r;
}

TEST(EngineCpu, OpensTheModelAndReportsItsLimits) {
  auto engine = ingot::Engine::open(tiny_model_path(), test_options());
  const EngineInfo& info = engine->info();
  EXPECT_EQ(info.model_name, "engine-test-tiny");
  EXPECT_EQ(info.backend, "cpu");
  EXPECT_EQ(info.n_vocab, kVocab);
  EXPECT_EQ(info.n_ctx, 2048);
  EXPECT_EQ(info.kv_blocks, 512);
  EXPECT_EQ(info.kv_capacity_tokens, 512 * 16);
  EXPECT_EQ(info.kv_bytes, uint64_t{512} * 16 * 2 * 2 * 2 * 16 * 4);  // blocks x tokens x K,V x layers x kv_dim x f32
  ASSERT_NE(engine->tokenizer(), nullptr);
  // A text prompt goes through the model's tokenizer and the output comes back as text.
  Request req;
  req.prompt_text = "hello world";
  req.sampling.temperature = 0.0f;
  req.sampling.max_tokens = 8;
  req.sampling.ignore_eos = true;
  RequestHandle h = engine->submit(std::move(req));
  auto r = collect(h);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::length);
  EXPECT_EQ(r[0].tokens.size(), 8u);
  // The streamed text is what one streaming detokenizer makes of the tokens (random weights
  // emit byte tokens: a byte that can never form a character becomes U+FFFD, never raw).
  tokenizer::Detokenizer detok(*engine->tokenizer());
  std::string expected;
  for (const int32_t t : r[0].tokens) expected += detok.push(t);
  expected += detok.flush();
  EXPECT_EQ(r[0].text, expected);
  for (const Event& e : r[0].events) EXPECT_TRUE(tokenizer::is_valid_utf8(e.text)) << "event text is not UTF-8";
}

TEST(EngineCpu, KvPoolFromAMemoryBudget) {
  EngineOptions o = test_options();
  o.kv_blocks = 0;
  o.kv_memory_bytes = 1 << 20;  // 1 MiB / 8 KiB per F32 block = 128 blocks
  auto engine = ingot::Engine::open(tiny_model_path(), o);
  EXPECT_EQ(engine->info().kv_blocks, 128);
  o.kv_memory_bytes = 100;
  EXPECT_THROW(ingot::Engine::open(tiny_model_path(), o), Error);
}

TEST(EngineCpu, SixteenConcurrentGreedyRequestsMatchRunningAlone) {
  constexpr int kRequests = 16;
  constexpr int32_t kMaxTokens = 24;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < kRequests; ++i) prompts.push_back(random_prompt(100 + static_cast<uint64_t>(i), 5 + 7 * i));
  auto engine = ingot::Engine::open(tiny_model_path(), test_options());

  std::vector<std::vector<int32_t>> alone;
  for (const auto& p : prompts) {
    RequestHandle h = engine->submit(greedy(p, kMaxTokens));
    alone.push_back(collect(h)[0].tokens);
    ASSERT_EQ(alone.back().size(), static_cast<size_t>(kMaxTokens));
  }
  // Different outputs for different prompts: the comparison below means something.
  EXPECT_NE(alone[0], alone[1]);

  std::vector<std::vector<int32_t>> together(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      RequestHandle h = engine->submit(greedy(prompts[static_cast<size_t>(i)], kMaxTokens));
      together[static_cast<size_t>(i)] = collect(h)[0].tokens;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kRequests; ++i) EXPECT_EQ(together[static_cast<size_t>(i)], alone[static_cast<size_t>(i)]) << "request " << i;
  const EngineSnapshot s = wait_for(engine->core(), idle);
  EXPECT_TRUE(idle(s));
}

TEST(EngineCpu, NChoicesForkThePromptAndMatchASingleRun) {
  auto engine = ingot::Engine::open(tiny_model_path(), test_options());
  const auto prompt = random_prompt(9, 37);  // 2 full blocks + a partial one, copied on write
  RequestHandle single = engine->submit(greedy(prompt, 20));
  const auto expected = collect(single)[0].tokens;
  Request req = greedy(prompt, 20);
  req.sampling.n = 3;
  const uint64_t before = wait_for(engine->core(), idle).scheduler.n_prompt_tokens_computed;
  RequestHandle h = engine->submit(std::move(req));
  const auto r = collect(h);
  ASSERT_EQ(r.size(), 3u);
  for (const auto& c : r) EXPECT_EQ(c.tokens, expected);
  const EngineSnapshot s = wait_for(engine->core(), idle);
  EXPECT_TRUE(idle(s));
  // Block-granular prefix reuse from the single run, then one computation for all 3 choices.
  EXPECT_EQ(s.scheduler.n_prompt_tokens_computed - before, 37u - 32u);
}

TEST(EngineCpu, CancelMidGenerationFreesAllItsBlocks) {
  auto engine = ingot::Engine::open(tiny_model_path(), test_options());
  RequestHandle h = engine->submit(greedy(random_prompt(7, 200), 1500));
  for (int n = 0; n < 3; ++n) {
    auto e = h.next_event_for(60s);
    ASSERT_TRUE(e.has_value());
    ASSERT_FALSE(e->finished);
  }
  const EngineSnapshot during = engine->core().snapshot();
  EXPECT_GE(during.kv.n_used, 200 / 16);
  h.cancel();
  auto r = collect(h);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::cancelled);
  const EngineSnapshot after = wait_for(engine->core(), idle);
  EXPECT_TRUE(idle(after));
  EXPECT_EQ(after.kv.n_used, 0);
  EXPECT_EQ(after.kv.n_free + after.kv.n_cached_free, after.kv.n_total);
}

TEST(EngineCpu, SharedThousandTokenPrefixIsComputedOnce) {
  const auto prefix = random_prompt(5, 1000);
  auto with_tail = [&](uint64_t seed, int32_t n) {
    auto p = prefix;
    const auto tail = random_prompt(seed, n);
    p.insert(p.end(), tail.begin(), tail.end());
    return p;
  };
  const auto first = with_tail(1, 10), second = with_tail(2, 12);
  auto engine = ingot::Engine::open(tiny_model_path(), test_options());
  RequestHandle h1 = engine->submit(greedy(first, 8));
  const auto r1 = collect(h1);
  EXPECT_EQ(r1[0].final_event.usage.n_cached_prompt_tokens, 0);
  const uint64_t computed_before = wait_for(engine->core(), idle).scheduler.n_prompt_tokens_computed;

  RequestHandle h2 = engine->submit(greedy(second, 8));
  const auto r2 = collect(h2);
  EXPECT_EQ(r2[0].final_event.usage.n_prompt_tokens, 1012);
  EXPECT_EQ(r2[0].final_event.usage.n_cached_prompt_tokens, 992);  // 62 full blocks of the prefix
  const uint64_t computed_after = wait_for(engine->core(), idle).scheduler.n_prompt_tokens_computed;
  EXPECT_EQ(computed_after - computed_before, 1012u - 992u);

  // The cached KV gives the same output as computing everything.
  EngineOptions no_cache = test_options();
  no_cache.prefix_cache = false;
  auto fresh = ingot::Engine::open(tiny_model_path(), no_cache);
  RequestHandle h3 = fresh->submit(greedy(second, 8));
  const auto r3 = collect(h3);
  EXPECT_EQ(r3[0].final_event.usage.n_cached_prompt_tokens, 0);
  EXPECT_EQ(r3[0].tokens, r2[0].tokens);
}

}  // namespace
}  // namespace ingot::engine::test

namespace ingot::engine::test {
namespace {

// The shipped ingot-tiny model with its own tokenizer: text prompts, 16 at once, each greedy
// output equal to running it alone.
TEST(EngineCpu, ShippedTinyModelSixteenTextPromptsMatchAlone) {
  const std::string path = std::string(INGOT_SOURCE_DIR) + "/models/ingot-tiny/ingot-tiny-q8_0.gguf";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no shipped model at " << path;
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "about 2 minutes under ThreadSanitizer; the random-weight model tests cover the threading";
#endif
  EngineOptions o;
  o.n_ctx = 512;
  o.max_seqs = 16;
  o.max_batch_tokens = 256;
  o.kv_blocks = 256;
  o.n_threads = 2;
  auto engine = ingot::Engine::open(path, o);
  ASSERT_NE(engine->tokenizer(), nullptr);
  const std::vector<std::string> starts = {"In the beginning", "And the LORD said", "Blessed are", "The earth",
                                           "And it came to pass", "For God so", "Let there be", "He that"};
  auto request = [&](size_t i) {
    Request r;
    r.prompt_text = starts[i % starts.size()] + (i >= starts.size() ? " unto" : "");
    r.sampling.temperature = 0.0f;
    r.sampling.max_tokens = 10;
    r.sampling.ignore_eos = true;
    return r;
  };
  constexpr size_t kRequests = 16;
  std::vector<std::string> alone;
  for (size_t i = 0; i < kRequests; ++i) {
    RequestHandle h = engine->submit(request(i));
    alone.push_back(collect(h)[0].text);
  }
  std::vector<std::string> together(kRequests);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      RequestHandle h = engine->submit(request(i));
      together[i] = collect(h)[0].text;
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < kRequests; ++i) EXPECT_EQ(together[i], alone[i]) << "request " << i;
  EXPECT_FALSE(alone[0].empty());
  EXPECT_TRUE(idle(wait_for(engine->core(), idle)));
}

}  // namespace
}  // namespace ingot::engine::test
