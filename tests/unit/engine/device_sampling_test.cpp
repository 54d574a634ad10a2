// The host side of sampling on the device: Philox4x32-10 against the Random123 known-answer
// vectors; Sampler::device_row merges bias, end-of-generation bans and penalty counts into one
// entry per token, and applying those entries the way kernels/sample.cu does gives the host
// Sampler's greedy choice on random cases; accept() records the pick (counter, bans, window);
// the default ModelRunner does not sample on the device.
#include "backend/philox.h"
#include "core/error.h"
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace ingot::engine {
namespace {

TEST(Philox, KnownAnswers) {
  using backend::Philox4;
  const auto check = [](Philox4 ctr, uint32_t k0, uint32_t k1, Philox4 want) {
    const Philox4 got = backend::philox4x32_10(ctr, k0, k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(got.v[i], want.v[i]) << i;
  };
  check({{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}});
  check({{~0u, ~0u, ~0u, ~0u}}, ~0u, ~0u, {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}});
  check({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
        {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}});
  double sum = 0.0;
  for (uint64_t i = 0; i < 10000; ++i) {
    const double u = backend::philox_uniform(42, i);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000.0, 0.5, 0.02);
  EXPECT_EQ(backend::philox_uniform(42, 7), backend::philox_uniform(42, 7));
  EXPECT_NE(backend::philox_uniform(42, 7), backend::philox_uniform(43, 7));
}

const backend::SampleMod* find_mod(const backend::SampleBatch& b, int32_t token) {
  const backend::SampleRow& r = b.rows.back();
  for (int32_t i = r.mods_begin; i < r.mods_begin + r.mods_count; ++i) {
    if (b.mods[static_cast<size_t>(i)].token == token) return &b.mods[static_cast<size_t>(i)];
  }
  return nullptr;
}

TEST(DeviceRow, MergesModifiersAndAcceptRecordsThePick) {
  SamplingParams p;
  p.temperature = 0.8f;
  p.top_k = 40;
  p.logit_bias = {{5, 1.5f}};
  p.min_tokens = 2;
  p.repetition_penalty = 1.2f;
  p.penalize_prompt = true;
  p.logprobs = true;
  p.top_logprobs = 3;
  Sampler s(p, 100, std::vector<int32_t>{5, 9, 9}, {7}, 1234);
  backend::SampleBatch b;
  s.device_row(3, b);
  ASSERT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.rows[0].logit_row, 3);
  EXPECT_EQ(b.rows[0].seed, 1234u);
  EXPECT_EQ(b.rows[0].counter, 0u);
  EXPECT_EQ(b.rows[0].top_k, 40);
  EXPECT_EQ(b.rows[0].n_top_logprobs, 3);
  EXPECT_EQ(b.rows[0].want_logprob, 1);
  EXPECT_EQ(b.rows[0].mods_count, 3);
  ASSERT_NE(find_mod(b, 5), nullptr);
  EXPECT_EQ(find_mod(b, 5)->bias, 1.5f);
  EXPECT_EQ(find_mod(b, 5)->count, 1);
  EXPECT_EQ(find_mod(b, 7)->banned, 1);
  EXPECT_EQ(find_mod(b, 9)->count, 2);
  backend::SampledToken t;
  t.token = 9;
  t.logprob = -1.25f;
  t.n_top = 2;
  t.top_token[0] = 9;
  t.top_logprob[0] = -1.25f;
  t.top_token[1] = 4;
  t.top_logprob[1] = -2.0f;
  const SampleResult r = s.accept(t);
  EXPECT_EQ(r.token, 9);
  EXPECT_EQ(r.logprob.logprob, -1.25f);
  ASSERT_EQ(r.top.size(), 2u);
  EXPECT_EQ(r.top[1].token, 4);
  (void)s.accept(t);
  b.clear();
  s.device_row(0, b);
  EXPECT_EQ(b.rows[0].counter, 2u);
  EXPECT_EQ(find_mod(b, 7), nullptr);  // min_tokens reached: no ban
  EXPECT_EQ(find_mod(b, 9)->count, 4);
  t.token = -1;
  EXPECT_THROW(s.accept(t), Error);
}

// kernels/sample.cu's modification step, on the host.
std::vector<float> apply_like_device(std::vector<float> l, const backend::SampleBatch& b) {
  const backend::SampleRow& r = b.rows.back();
  for (int32_t i = r.mods_begin; i < r.mods_begin + r.mods_count; ++i) {
    const backend::SampleMod& m = b.mods[static_cast<size_t>(i)];
    float v = l[static_cast<size_t>(m.token)] + m.bias;
    if (m.banned) v = -std::numeric_limits<float>::infinity();
    if (m.count > 0) {
      if (r.repetition_penalty != 1.0f) v = v > 0.0f ? v / r.repetition_penalty : v * r.repetition_penalty;
      v -= r.presence_penalty + r.frequency_penalty * static_cast<float>(m.count);
    }
    l[static_cast<size_t>(m.token)] = v;
  }
  return l;
}

TEST(DeviceRow, DeviceModifiersGiveTheHostGreedyChoice) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int32_t> id(0, 49);
  for (int c = 0; c < 200; ++c) {
    std::vector<float> logits(50);
    for (float& x : logits) x = normal(rng);
    SamplingParams p;
    p.temperature = 0.0f;
    p.repetition_penalty = 1.0f + 0.1f * static_cast<float>(c % 5);
    p.presence_penalty = 0.2f * static_cast<float>(c % 3);
    p.frequency_penalty = 0.15f * static_cast<float>(c % 4);
    p.penalize_prompt = c % 2 == 0;
    p.min_tokens = c % 3;
    for (int i = 0; i < c % 4; ++i) p.logit_bias.emplace_back(id(rng), normal(rng) * 2.0f);
    std::vector<int32_t> prompt;
    for (int i = 0; i < 8; ++i) prompt.push_back(id(rng));
    const int32_t eog = id(rng);
    Sampler h(p, 50, prompt, {eog}, 1), d(p, 50, prompt, {eog}, 1);
    for (int step = 0; step < 4; ++step) {
      const int32_t want = h.sample(logits).token;
      backend::SampleBatch b;
      d.device_row(0, b);
      const std::vector<float> mod = apply_like_device(logits, b);
      int32_t best = 0;
      float best_v = -std::numeric_limits<float>::infinity();
      for (int32_t i = 0; i < 50; ++i) {
        if (mod[static_cast<size_t>(i)] > best_v) {
          best_v = mod[static_cast<size_t>(i)];
          best = i;
        }
      }
      ASSERT_EQ(best, want) << "case " << c << " step " << step;
      backend::SampledToken t;
      t.token = best;
      (void)d.accept(t);
    }
  }
}

}  // namespace
}  // namespace ingot::engine
