// How Engine::open sizes the KV pool on the CPU backend (the GPU half, --gpu-memory-utilization,
// is in tests/gpu/engine_memory_test.cpp and kv/plan_gpu_kv's unit tests): no kv_blocks and no
// kv_memory_bytes means 1 GiB, capped at what max_seqs full-context sequences can use; the
// utilization is validated on every backend and otherwise ignored on the CPU.
#include "core/error.h"
#include "ingot/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

namespace ingot {
namespace {

const std::string& shipped_model() {
  static const std::string path = std::string(INGOT_SOURCE_DIR) + "/models/ingot-tiny/ingot-tiny-q8_0.gguf";
  return path;
}

EngineOptions cpu_options() {
  EngineOptions o;
  o.backend = "cpu";
  o.n_threads = 2;
  o.n_ctx = 512;
  o.max_seqs = 4;
  return o;
}

TEST(EngineKvSizing, CpuDefaultIsOneGibCappedAtFullContextSequences) {
  if (!std::filesystem::exists(shipped_model())) GTEST_SKIP() << "no shipped model at " << shipped_model();
  // 4 sequences of 512 tokens: 128 blocks, far below 1 GiB for this model.
  EngineOptions o = cpu_options();
  {
    auto engine = Engine::open(shipped_model(), o);
    EXPECT_EQ(engine->info().kv_blocks, 4 * 512 / 16);
    EXPECT_EQ(engine->info().kv_capacity_tokens, 4 * 512);
  }
  // Many sequences: the 1 GiB default binds. The pool is the largest whole number of blocks in it.
  o.max_seqs = 400;  // x 64 blocks of the 1024-token context: more than 1 GiB holds
  o.n_ctx = 0;  // the model's context length
  auto engine = Engine::open(shipped_model(), o);
  const EngineInfo& info = engine->info();
  ASSERT_GT(info.kv_blocks, 0);
  const uint64_t per_block = info.kv_bytes / static_cast<uint64_t>(info.kv_blocks);
  const uint64_t gib = uint64_t{1} << 30;
  const uint64_t cap = static_cast<uint64_t>(o.max_seqs) * static_cast<uint64_t>((info.n_ctx + 15) / 16);
  EXPECT_EQ(static_cast<uint64_t>(info.kv_blocks), std::min<uint64_t>(gib / per_block, cap));
  EXPECT_LE(info.kv_bytes, gib);
}

TEST(EngineKvSizing, UtilizationIsValidatedAndIgnoredOnTheCpu) {
  if (!std::filesystem::exists(shipped_model())) GTEST_SKIP() << "no shipped model at " << shipped_model();
  EngineOptions o = cpu_options();
  for (double bad : {0.0, -0.1, 1.5, std::nan("")}) {
    o.gpu_memory_utilization = bad;
    try {
      (void)Engine::open(shipped_model(), o);
      ADD_FAILURE() << "opened with --gpu-memory-utilization " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
      EXPECT_NE(std::string(e.what()).find("--gpu-memory-utilization"), std::string::npos) << e.what();
    }
  }
  o.gpu_memory_utilization = 0.01;  // a GPU setting: no effect on the CPU's pool
  auto engine = Engine::open(shipped_model(), o);
  EXPECT_EQ(engine->info().kv_blocks, 4 * 512 / 16);
}

}  // namespace
}  // namespace ingot
