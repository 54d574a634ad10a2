// The KV pool's budget on a GPU (plan_gpu_kv): utilization x total device memory minus what is
// in use after the weights and the workspace, turned into blocks; edge cases and the error text.
#include "core/error.h"
#include "kv/kv_budget.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace ingot::kv {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

// Llama 3.1 8B: 32 layers x 8 KV heads x 128, F16: 2 MiB per block of 16 tokens.
KvLayout llama8b() {
  KvLayout l;
  l.n_layers = 32;
  l.n_kv_heads = 8;
  l.head_dim = 128;
  l.block_size = 16;
  l.bytes_per_element = 2;
  return l;
}

std::string error_of(const KvLayout& l, uint64_t total, uint64_t free, double util, ErrorCode expected) {
  try {
    (void)plan_gpu_kv(l, total, free, util);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), expected) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(GpuKvBudget, FractionOfTotalMinusWhatIsInUse) {
  // 80 GiB device, 10 GiB in use (weights + workspace + context): 0.9 allows 72, 62 are the KV's.
  const GpuKvPlan p = plan_gpu_kv(llama8b(), 80 * kGiB, 70 * kGiB, 0.90);
  EXPECT_EQ(p.total, 80 * kGiB);
  EXPECT_EQ(p.allowed, 72 * kGiB);
  EXPECT_EQ(p.in_use, 10 * kGiB);
  EXPECT_EQ(p.budget, 62 * kGiB);
  EXPECT_EQ(p.capacity.bytes_per_block, uint64_t{2} << 20);
  EXPECT_EQ(p.capacity.n_blocks, 62 * 512);  // 62 GiB / 2 MiB
  EXPECT_EQ(p.capacity.n_tokens, int64_t{62} * 512 * 16);
  EXPECT_LE(p.capacity.n_bytes, p.budget);
}

TEST(GpuKvBudget, WholeDeviceAndCap) {
  const GpuKvPlan all = plan_gpu_kv(llama8b(), 8 * kGiB, 8 * kGiB, 1.0);
  EXPECT_EQ(all.budget, 8 * kGiB);
  EXPECT_EQ(all.capacity.n_blocks, 4096);
  // Never more blocks than asked for (what max_seqs full-context sequences can use).
  const GpuKvPlan capped = plan_gpu_kv(llama8b(), 80 * kGiB, 70 * kGiB, 0.9, 100);
  EXPECT_EQ(capped.capacity.n_blocks, 100);
  EXPECT_EQ(capped.budget, 62 * kGiB);
}

TEST(GpuKvBudget, RoundsDownToWholeBlocks) {
  // 1 block + 1 byte of budget: one block.
  const uint64_t per_block = kv_bytes_per_block(llama8b());
  const uint64_t total = 4 * kGiB;
  const uint64_t free = per_block + 1;
  const GpuKvPlan p = plan_gpu_kv(llama8b(), total, free, 1.0);
  EXPECT_EQ(p.capacity.n_blocks, 1);
}

TEST(GpuKvBudget, NothingLeftNamesTheNumbers) {
  // 0.5 of 80 GiB is 40 GiB, but 41 GiB are in use already.
  const std::string e = error_of(llama8b(), 80 * kGiB, 39 * kGiB, 0.5, ErrorCode::out_of_range);
  EXPECT_NE(e.find("--gpu-memory-utilization 0.5 allows"), std::string::npos) << e;
  EXPECT_NE(e.find("40.00 GiB"), std::string::npos) << e;
  EXPECT_NE(e.find("80.00 GiB"), std::string::npos) << e;
  EXPECT_NE(e.find("41.00 GiB"), std::string::npos) << e;
  EXPECT_NE(e.find("--kv-memory"), std::string::npos) << e;
  // Exactly at the limit: nothing left either.
  (void)error_of(llama8b(), 80 * kGiB, 40 * kGiB, 0.5, ErrorCode::out_of_range);
}

TEST(GpuKvBudget, LessThanOneBlock) {
  const uint64_t per_block = kv_bytes_per_block(llama8b());
  const std::string e = error_of(llama8b(), 4 * kGiB, per_block - 1, 1.0, ErrorCode::out_of_range);
  EXPECT_NE(e.find(std::to_string(per_block)), std::string::npos) << e;
}

TEST(GpuKvBudget, BadInputs) {
  for (double util : {0.0, -0.5, 1.01, std::nan(""), std::numeric_limits<double>::infinity()}) {
    const std::string e = error_of(llama8b(), 80 * kGiB, 70 * kGiB, util, ErrorCode::invalid_argument);
    EXPECT_NE(e.find("--gpu-memory-utilization"), std::string::npos) << e;
  }
  (void)error_of(llama8b(), 10 * kGiB, 11 * kGiB, 0.9, ErrorCode::invalid_argument);  // free > total
  KvLayout bad = llama8b();
  bad.n_layers = 0;
  (void)error_of(bad, 80 * kGiB, 70 * kGiB, 0.9, ErrorCode::invalid_argument);
}

TEST(GpuKvBudget, HugeNumbersDoNotOverflow) {
  const uint64_t total = std::numeric_limits<uint64_t>::max() / 2;
  const GpuKvPlan p = plan_gpu_kv(llama8b(), total, total, 1.0);
  EXPECT_EQ(p.capacity.n_blocks, 1 << 30);  // capped at max_blocks
  EXPECT_LE(p.allowed, total);
}

}  // namespace
}  // namespace ingot::kv
