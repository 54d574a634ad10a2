// Padded decode steps (Model::DecodeMode::padded, the path CUDA graphs replay) on the CPU
// backend, where run_captured simply runs the ops: for 1, 3 and 5 sequences over 12 steps with
// growing contexts (one crossing the 256-token context bucket), the logits equal the direct
// path's; decode_bucket() pads to powers of two within the plan.
#include "backend/cpu/cpu_backend.h"
#include "decode_driver.h"
#include "model/model.h"
#include "tiny_gguf.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ingot::model {
namespace {

std::vector<std::vector<int32_t>> prompts_for(int n_seqs, int64_t n_vocab) {
  std::vector<std::vector<int32_t>> prompts;
  for (int s = 0; s < n_seqs; ++s) {
    std::vector<int32_t> p(static_cast<size_t>(s == n_seqs - 1 && n_seqs > 1 ? 250 : 5 + 37 * s));
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<int32_t>((i * 13 + static_cast<size_t>(s)) % static_cast<size_t>(n_vocab));
    prompts.push_back(std::move(p));
  }
  return prompts;
}

ForwardPlan decode_plan() {
  ForwardPlan plan;
  plan.max_tokens = 256;
  plan.max_seqs = 8;
  plan.max_blocks_per_seq = 32;
  plan.max_logit_rows = 8;
  plan.max_context = 512;
  return plan;
}

TEST(DecodePadding, BucketsArePowersOfTwoWithinThePlan) {
  backend::cpu::CpuBackend backend(test::cpu_options(2));
  auto m = Model::load(test::make_tiny_gguf({}), backend);
  m->plan(decode_plan());
  EXPECT_EQ(m->decode_bucket(1), 1);
  EXPECT_EQ(m->decode_bucket(3), 4);
  EXPECT_EQ(m->decode_bucket(5), 8);
  EXPECT_EQ(m->decode_bucket(8), 8);
  ForwardPlan small = decode_plan();
  small.max_seqs = 6;
  small.max_logit_rows = 6;
  m->plan(small);
  EXPECT_EQ(m->decode_bucket(5), 6);  // capped at the plan
}

TEST(DecodePadding, PaddedStepsEqualDirectSteps) {
  backend::cpu::CpuBackend backend(test::cpu_options(2));
  test::TinySpec spec;
  spec.n_ctx = 512;
  auto m = Model::load(test::make_tiny_gguf(spec), backend);
  m->plan(decode_plan());
  const int64_t n_vocab = m->hparams().n_vocab;
  for (const int n_seqs : {1, 3, 5}) {
    const auto prompts = prompts_for(n_seqs, n_vocab);
    auto pool_direct = m->alloc_kv(8 * 32, 16, quant::Type::F32);
    auto pool_padded = m->alloc_kv(8 * 32, 16, quant::Type::F32);
    m->set_decode_mode(Model::DecodeMode::direct);
    const test::DecodeRun direct = test::run_decode(*m, pool_direct.pool, 32, prompts, 12);
    m->set_decode_mode(Model::DecodeMode::padded);
    const test::DecodeRun padded = test::run_decode(*m, pool_padded.pool, 32, prompts, 12);
    m->set_decode_mode(Model::DecodeMode::automatic);
    ASSERT_EQ(direct.step_logits.size(), padded.step_logits.size());
    for (size_t step = 0; step < direct.step_logits.size(); ++step) {
      const auto& a = direct.step_logits[step];
      const auto& b = padded.step_logits[step];
      double worst = 0.0;
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_TRUE(std::isfinite(b[i])) << n_seqs << " seqs, step " << step << ", element " << i;
        worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
      }
      EXPECT_LT(worst, 1e-5) << n_seqs << " seqs, step " << step;
    }
  }
}

}  // namespace
}  // namespace ingot::model
