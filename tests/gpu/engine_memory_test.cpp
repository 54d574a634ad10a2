// The engine on the GPU (issue 8 tests): the reference fixtures (tests/reference/models/*)
// converted with the converter API to F32, F16 and BF16 GGUF and served by ingot::Engine on the
// CUDA backend. 64 concurrent greedy requests all complete; for F32 each output equals running it
// alone, for F16/BF16 how often it does is printed (a row of the results table), not asserted.
// After 1,000 short requests device memory (cudaMemGetInfo) is back at its post-warm-up
// baseline, and the KV pool is sized from --gpu-memory-utilization. The fixtures are found
// through $INGOT_SOURCE_DIR (else the source tree this was built from); absent: skipped.
#include <cuda_runtime.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "convert/converter.h"
#include "core/error.h"
#include "gpu_test_util.h"
#include "ingot/engine.h"

namespace ingot::gpu_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kConcurrent = 64;
constexpr int32_t kMaxTokens = 24;

fs::path source_dir() {
  if (const char* env = std::getenv("INGOT_SOURCE_DIR"); env != nullptr && *env != '\0') return env;
  return INGOT_SOURCE_DIR;
}

fs::path fixture_dir(const std::string& name) { return source_dir() / "tests/reference/models" / name; }

// Converts a fixture once per process (type: F32, F16, BF16) into a temporary folder.
std::string fixture_gguf(const std::string& name, const std::string& type) {
  static std::map<std::string, std::string> done;
  const std::string key = name + "/" + type;
  if (auto it = done.find(key); it != done.end()) return it->second;
  const fs::path dir = fs::temp_directory_path() / fmt::format("ingot-gpu-engine-{}", ::getpid());
  fs::create_directories(dir);
  convert::ConvertOptions o;
  o.hf_dir = fixture_dir(name);
  o.out_path = (dir / fmt::format("{}-{}.gguf", name, type)).string();
  o.type = type;
  o.progress = false;
  o.with_tokenizer = false;  // prompts are token ids
  (void)convert::convert_hf(o);
  return done[key] = o.out_path;
}

int device_index() {
  const char* env = std::getenv("INGOT_GPU_DEVICE");
  return env != nullptr ? std::atoi(env) : 0;
}

EngineOptions gpu_options(const std::string& type) {
  EngineOptions o;
  o.backend = "cuda";
  o.device = device_index();
  o.max_seqs = kConcurrent;
  o.max_batch_tokens = 512;
  o.kv_type = type == "F32" ? KvCacheType::f32 : KvCacheType::f16;
  return o;  // KV pool from the default --gpu-memory-utilization 0.90
}

std::vector<int32_t> random_prompt(uint64_t seed, int32_t n) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> p;
  for (int32_t i = 0; i < n; ++i) p.push_back(3 + static_cast<int32_t>(rng() % 997));
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

struct Outcome {
  std::vector<int32_t> tokens;
  std::optional<FinishReason> reason;
  std::string message;
};

Outcome collect(RequestHandle& h) {
  Outcome out;
  while (!h.done()) {
    std::optional<Event> e = h.next_event_for(120s);
    if (!e) {
      if (h.done()) break;
      out.message = "no event within 120 s";
      return out;
    }
    out.tokens.insert(out.tokens.end(), e->tokens.begin(), e->tokens.end());
    if (e->finished) {
      out.reason = e->finish_reason;
      out.message = e->message;
    }
  }
  return out;
}

size_t free_device_memory() {
  size_t free_bytes = 0, total = 0;
  EXPECT_EQ(cudaSetDevice(device_index()), cudaSuccess);
  EXPECT_EQ(cudaMemGetInfo(&free_bytes, &total), cudaSuccess);
  return free_bytes;
}

std::vector<std::vector<int32_t>> prompts_64() {
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < kConcurrent; ++i) prompts.push_back(random_prompt(1000 + static_cast<uint64_t>(i), 3 + (i * 37) % 150));
  return prompts;
}

class GpuEngine : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(GpuEngine, SixtyFourConcurrentRequestsMatchRunningAlone) {
  const auto& [name, type] = GetParam();
  if (!fs::exists(fixture_dir(name) / "config.json")) GTEST_SKIP() << "no fixture at " << fixture_dir(name);
  auto engine = ingot::Engine::open(fixture_gguf(name, type), gpu_options(type));
  ASSERT_EQ(engine->info().backend, "cuda");
  const auto prompts = prompts_64();

  std::vector<std::vector<int32_t>> alone;
  for (const auto& p : prompts) {
    RequestHandle h = engine->submit(greedy(p, kMaxTokens));
    Outcome o = collect(h);
    ASSERT_EQ(o.reason, FinishReason::length) << o.message;
    ASSERT_EQ(o.tokens.size(), static_cast<size_t>(kMaxTokens));
    alone.push_back(std::move(o.tokens));
  }
  EXPECT_NE(alone[0], alone[1]);  // different prompts, different outputs: the comparison means something

  std::vector<Outcome> together(kConcurrent);
  std::vector<std::thread> threads;
  for (int i = 0; i < kConcurrent; ++i) {
    threads.emplace_back([&, i] {
      RequestHandle h = engine->submit(greedy(prompts[static_cast<size_t>(i)], kMaxTokens));
      together[static_cast<size_t>(i)] = collect(h);
    });
  }
  for (auto& t : threads) t.join();

  int n_complete = 0, n_same = 0;
  std::string first_difference;
  for (int i = 0; i < kConcurrent; ++i) {
    const Outcome& o = together[static_cast<size_t>(i)];
    if (o.reason == FinishReason::length && o.tokens.size() == static_cast<size_t>(kMaxTokens)) ++n_complete;
    if (o.tokens == alone[static_cast<size_t>(i)]) {
      ++n_same;
    } else if (first_difference.empty()) {
      const auto& a = alone[static_cast<size_t>(i)];
      size_t k = 0;
      while (k < a.size() && k < o.tokens.size() && a[k] == o.tokens[k]) ++k;
      first_difference = fmt::format("request {} (prompt {} tokens) differs from token {}", i,
                                     prompts[static_cast<size_t>(i)].size(), k);
    }
  }
  EXPECT_EQ(n_complete, kConcurrent);
  const double differing = 1.0 - static_cast<double>(n_same) / kConcurrent;
  std::printf("engine %s %s: %d/%d complete, %d/%d identical to running alone%s%s\n", name.c_str(), type.c_str(),
              n_complete, kConcurrent, n_same, kConcurrent, first_difference.empty() ? "" : "; ",
              first_difference.c_str());
  // F32: must be identical; F16/BF16: reported (threshold 1: never fails).
  const double threshold = type == "F32" ? 0.0 : 1.0;
  record({"engine 64 req", type, name + " differing", differing, threshold, differing <= threshold});
  if (type == "F32") {
    EXPECT_EQ(n_same, kConcurrent) << first_difference;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GpuEngine,
                         ::testing::Combine(::testing::Values("llama3", "smollm", "qwen2", "qwen3"),
                                            ::testing::Values("F32", "F16", "BF16")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

TEST(GpuEngineMemory, ThousandRequestsReturnToThePostLoadBaseline) {
  if (!fs::exists(fixture_dir("llama3") / "config.json")) GTEST_SKIP() << "no fixture";
  auto engine = ingot::Engine::open(fixture_gguf("llama3", "F16"), gpu_options("F16"));
  auto run_wave = [&](int n_requests, uint64_t seed) {
    std::vector<RequestHandle> handles;
    for (int i = 0; i < n_requests; ++i) {
      Request r = greedy(random_prompt(seed + static_cast<uint64_t>(i), 1 + static_cast<int32_t>((seed + i) % 40)),
                         1 + static_cast<int32_t>((seed * 7 + i) % 8));
      if (i % 3 == 1) {  // sampled ones too
        r.sampling.temperature = 0.8f;
        r.sampling.top_p = 0.9f;
        r.sampling.seed = seed + static_cast<uint64_t>(i);
      }
      handles.push_back(engine->submit(std::move(r)));
    }
    int n_ok = 0;
    for (auto& h : handles) {
      const Outcome o = collect(h);
      if (o.reason == FinishReason::length) ++n_ok;
    }
    return n_ok;
  };
  // Warm-up: every batch size from 64 down to 1 and both matmul paths run once (lazy cuBLAS
  // workspaces, captured graphs), then the baseline.
  ASSERT_EQ(run_wave(kConcurrent, 1), kConcurrent);
  const size_t baseline = free_device_memory();
  int n_ok = 0;
  for (int wave = 0; wave < 1000 / 50; ++wave) n_ok += run_wave(50, 100 + static_cast<uint64_t>(wave) * 50);
  EXPECT_EQ(n_ok, 1000);
  const size_t after = free_device_memory();
  std::printf("device memory free: %zu bytes after warm-up, %zu after 1,000 requests (%+lld)\n", baseline, after,
              static_cast<long long>(after) - static_cast<long long>(baseline));
  EXPECT_EQ(after, baseline);
  record({"engine memory", "F16", "1000 req, bytes lost", static_cast<double>(baseline > after ? baseline - after : 0),
          0.0, after == baseline});
}

TEST(GpuEngineMemory, KvPoolFromGpuMemoryUtilization) {
  if (!fs::exists(fixture_dir("llama3") / "config.json")) GTEST_SKIP() << "no fixture";
  const std::string path = fixture_gguf("llama3", "F16");
  // Default 0.90 on an 80 GB card is far more than 64 full-context (256-token) sequences use:
  // the pool is capped there.
  {
    auto engine = ingot::Engine::open(path, gpu_options("F16"));
    EXPECT_EQ(engine->info().kv_blocks, kConcurrent * 256 / 16);
  }
  // A fraction below what is already in use: a clear error naming the numbers.
  size_t free_bytes = 0, total = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_bytes, &total), cudaSuccess);
  EngineOptions o = gpu_options("F16");
  o.gpu_memory_utilization = std::max(0.001, 0.5 * static_cast<double>(total - free_bytes) / static_cast<double>(total));
  try {
    auto engine = ingot::Engine::open(path, o);
    ADD_FAILURE() << "opened with --gpu-memory-utilization " << o.gpu_memory_utilization;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_range) << e.what();
    EXPECT_NE(std::string(e.what()).find("--gpu-memory-utilization"), std::string::npos) << e.what();
    std::printf("as expected: %s\n", e.what());
  }
  // --kv-memory wins over the fraction.
  o.kv_memory_bytes = 8192 * 10;  // 10 blocks of 2 layers x 1 KV head x 64 x 16 tokens x 2 B x (K, V)
  auto engine = ingot::Engine::open(path, o);
  EXPECT_EQ(engine->info().kv_blocks, 10);
  o.gpu_memory_utilization = 1.5;
  EXPECT_THROW(ingot::Engine::open(path, o), Error);
}

}  // namespace
}  // namespace ingot::gpu_test
