// Sampling on the device (kernels/sample.cu through CudaBackend::sample) against the host
// Sampler on fixed logits: greedy picks with logit bias, end-of-generation bans and
// repetition / presence / frequency penalties equal the host's over several steps; logprobs
// (chosen + top 5) equal the host's; under top-k, top-p, min-p and their mixes every device
// draw lies in the host semantics' candidate set (the host Sampler's draws too), frequencies pass
// a chi-square test against that distribution, ties are broken by lower id as on the host;
// the same seed and counter give the same token.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "backend/cuda/cuda_backend.h"
#include "core/error.h"
#include "engine/sampler.h"

namespace ingot::gpu_test {
namespace {

constexpr int32_t kVocab = 1000;

struct Fixture {
  cuda::CudaBackend gpu{0};
  backend::Buffer storage;
  backend::Tensor logits;
  std::vector<float> rows;  // [2][kVocab]: random, then ties

  Fixture() {
    gpu.reserve(backend::WorkspacePlan{.max_tokens = 8, .max_row_elements = 64, .max_context = 64,
                                       .max_logit_rows = 64, .n_vocab = kVocab});
    std::mt19937 rng(99);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    rows.resize(2 * kVocab);
    for (int32_t i = 0; i < kVocab; ++i) rows[static_cast<size_t>(i)] = normal(rng);
    for (int32_t i = 0; i < kVocab; ++i) rows[static_cast<size_t>(kVocab + i)] = i % 100 == 7 ? 4.0f : normal(rng) * 0.1f;
    logits = gpu.alloc_tensor(quant::Type::F32, backend::Shape::of(kVocab, 2), storage);
    gpu.upload(logits, rows.data(), rows.size() * 4);
    gpu.synchronize();
  }
  std::span<const float> row(int r) const {
    return std::span<const float>(rows).subspan(static_cast<size_t>(r) * kVocab, kVocab);
  }
  std::vector<backend::SampledToken> pick(const backend::SampleBatch& b) {
    std::vector<backend::SampledToken> out(b.rows.size());
    gpu.sample(logits, b, out);
    return out;
  }
};

Fixture& fx() {
  static Fixture f;
  return f;
}

int32_t host_argmax(std::span<const float> l) {
  return static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
}

TEST(GpuSampler, GreedyWithModifiersMatchesHost) {
  Fixture& f = fx();
  const std::span<const float> row = f.row(0);
  const int32_t top = host_argmax(row);
  std::vector<SamplingParams> configs(5);
  for (auto& p : configs) p.temperature = 0.0f;
  configs[1].logit_bias = {{top, -100.0f}, {3, 5.0f}, {4, 2.5f}};
  configs[2].min_tokens = 3;  // bans the end-of-generation token (the argmax) for 3 steps
  configs[3].repetition_penalty = 1.3f;
  configs[3].presence_penalty = 0.5f;
  configs[3].frequency_penalty = 0.3f;
  configs[3].penalize_prompt = true;
  configs[4] = configs[3];
  configs[4].logprobs = true;
  configs[4].top_logprobs = 5;
  configs[4].penalty_last_n = 4;
  std::vector<int32_t> prompt;
  {  // the prompt repeats the five most likely tokens so the penalties change the argmax
    std::vector<int32_t> ids(kVocab);
    for (int32_t i = 0; i < kVocab; ++i) ids[static_cast<size_t>(i)] = i;
    std::partial_sort(ids.begin(), ids.begin() + 5, ids.end(), [&](int32_t a, int32_t b) { return row[static_cast<size_t>(a)] > row[static_cast<size_t>(b)]; });
    for (int rep = 0; rep < 3; ++rep) prompt.insert(prompt.end(), ids.begin(), ids.begin() + 5);
  }
  for (size_t c = 0; c < configs.size(); ++c) {
    engine::Sampler host(configs[c], kVocab, prompt, {top}, 1);
    engine::Sampler dev(configs[c], kVocab, prompt, {top}, 1);
    for (int step = 0; step < 6; ++step) {
      const engine::SampleResult h = host.sample(row);
      backend::SampleBatch b;
      dev.device_row(0, b);
      const engine::SampleResult d = dev.accept(f.pick(b)[0]);
      ASSERT_EQ(d.token, h.token) << "config " << c << " step " << step;
      if (configs[c].logprobs) {
        EXPECT_NEAR(d.logprob.logprob, h.logprob.logprob, 1e-5);
        ASSERT_EQ(d.top.size(), h.top.size());
        for (size_t i = 0; i < h.top.size(); ++i) {
          EXPECT_EQ(d.top[i].token, h.top[i].token);
          EXPECT_NEAR(d.top[i].logprob, h.top[i].logprob, 1e-5);
        }
      }
    }
  }
}

// The host Sampler's candidate set and weights (min-p -> top-k -> top-p on p = exp((l-max)/T)).
std::map<int32_t, double> reference(std::span<const float> l, const SamplingParams& p) {
  const float mx = *std::max_element(l.begin(), l.end());
  const float inv_t = 1.0f / p.temperature;
  std::vector<std::pair<float, int32_t>> c;
  for (int32_t i = 0; i < static_cast<int32_t>(l.size()); ++i) {
    const float q = std::exp((l[static_cast<size_t>(i)] - mx) * inv_t);
    if (q >= p.min_p) c.emplace_back(q, i);
  }
  double set_mass = 0.0;
  for (const auto& x : c) set_mass += x.first;
  std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < c.size()) c.resize(static_cast<size_t>(p.top_k));
  if (p.top_k > 0) {
    set_mass = 0.0;
    for (const auto& x : c) set_mass += x.first;
  }
  if (p.top_p < 1.0f) {
    double m = 0.0;
    size_t h = 0;
    while (h < c.size() && m < p.top_p * set_mass) m += c[h++].first;
    c.resize(h);
  }
  std::map<int32_t, double> out;
  double total = 0.0;
  for (const auto& x : c) total += x.first;
  for (const auto& x : c) out[x.second] = x.first / total;
  return out;
}

// Chi-square of observed counts against expected probabilities, bins under 5 expected merged.
void expect_distribution(const std::map<int32_t, int>& counts, const std::map<int32_t, double>& expected, int n,
                         const std::string& what) {
  double chi = 0.0, rest_e = 0.0, rest_o = 0.0;
  int df = -1;
  for (const auto& [token, prob] : expected) {
    const double e = prob * n;
    const auto it = counts.find(token);
    const double o = it == counts.end() ? 0.0 : it->second;
    if (e < 5.0) {
      rest_e += e;
      rest_o += o;
      continue;
    }
    chi += (o - e) * (o - e) / e;
    ++df;
  }
  if (rest_e > 0.0) {
    chi += (rest_o - rest_e) * (rest_o - rest_e) / std::max(rest_e, 1e-9);
    ++df;
  }
  if (df <= 0) return;  // a single candidate
  // Wilson-Hilferty approximation of the 0.999 quantile.
  const double k = df, z = 3.09;
  const double crit = k * std::pow(1.0 - 2.0 / (9.0 * k) + z * std::sqrt(2.0 / (9.0 * k)), 3.0);
  EXPECT_LT(chi, crit) << what << ": chi-square " << chi << " with " << df << " degrees of freedom";
  std::printf("sampler %s: %zu candidates, chi-square %.1f (df %d, 0.999 critical %.1f)\n", what.c_str(),
              expected.size(), chi, df, crit);
}

TEST(GpuSampler, FiltersMatchHostAndFrequenciesMatchDistribution) {
  Fixture& f = fx();
  struct Config {
    const char* name;
    int row;
    float t;
    int32_t top_k;
    float top_p, min_p;
  };
  const Config configs[] = {
      {"top_k=20", 0, 1.0f, 20, 1.0f, 0.0f},      {"T=0.7 top_p=0.9", 0, 0.7f, 0, 0.9f, 0.0f},
      {"T=1.2 min_p=0.05", 0, 1.2f, 0, 1.0f, 0.05f}, {"top_k=50 top_p=0.8", 0, 1.0f, 50, 0.8f, 0.0f},
      {"T=2 all", 0, 2.0f, 0, 1.0f, 0.0f},          {"ties top_k=3", 1, 1.0f, 3, 1.0f, 0.0f},
      {"ties top_p=0.25", 1, 0.5f, 0, 0.25f, 0.0f},
  };
  constexpr int kDraws = 4096;
  for (const Config& c : configs) {
    SamplingParams p;
    p.temperature = c.t;
    p.top_k = c.top_k;
    p.top_p = c.top_p;
    p.min_p = c.min_p;
    const auto expected = reference(f.row(c.row), p);
    backend::SampleBatch b;
    engine::Sampler dev(p, kVocab, {}, {}, 1234);
    for (int i = 0; i < kDraws; ++i) {
      dev.device_row(c.row, b);
      b.rows.back().counter = static_cast<uint64_t>(i);
    }
    const auto picks = f.pick(b);
    std::map<int32_t, int> counts;
    for (const auto& t : picks) {
      ASSERT_TRUE(expected.count(t.token)) << c.name << ": device drew " << t.token << " outside the set";
      ++counts[t.token];
    }
    engine::Sampler host(p, kVocab, {}, {}, 1234);
    for (int i = 0; i < 512; ++i) {
      const int32_t t = host.sample(f.row(c.row)).token;
      ASSERT_TRUE(expected.count(t)) << c.name << ": host drew " << t << " outside the set";
    }
    for (const auto& [token, prob] : expected) {
      if (prob * kDraws > 20.0) {
        EXPECT_GT(counts[token], 0) << c.name << ": token " << token << " never drawn";
      }
    }
    expect_distribution(counts, expected, kDraws, c.name);
  }
}

TEST(GpuSampler, SeededDrawsAreDeterministic) {
  Fixture& f = fx();
  SamplingParams p;
  p.temperature = 1.5f;
  backend::SampleBatch b1, b2;
  engine::Sampler s1(p, kVocab, {}, {}, 77), s2(p, kVocab, {}, {}, 78);
  for (int i = 0; i < 64; ++i) {
    s1.device_row(0, b1);
    b1.rows.back().counter = static_cast<uint64_t>(i);
    s2.device_row(0, b2);
    b2.rows.back().counter = static_cast<uint64_t>(i);
  }
  const auto a = f.pick(b1), again = f.pick(b1), other = f.pick(b2);
  int same_seed_diff = 0, other_seed_diff = 0;
  std::set<int32_t> distinct;
  for (size_t i = 0; i < a.size(); ++i) {
    same_seed_diff += a[i].token != again[i].token;
    other_seed_diff += a[i].token != other[i].token;
    distinct.insert(a[i].token);
  }
  EXPECT_EQ(same_seed_diff, 0);
  EXPECT_GT(other_seed_diff, 10);
  EXPECT_GT(distinct.size(), 10u);
}

TEST(GpuSampler, BadRowsAreErrors) {
  Fixture& f = fx();
  backend::SampleBatch b;
  b.rows.emplace_back();
  b.rows.back().logit_row = 5;
  std::vector<backend::SampledToken> out(1);
  EXPECT_THROW(f.gpu.sample(f.logits, b, out), Error);
  b.rows.back().logit_row = 0;
  b.rows.back().mods_count = 3;
  EXPECT_THROW(f.gpu.sample(f.logits, b, out), Error);
  b.rows.back().mods_count = 0;
  f.gpu.sample(f.logits, b, out);
  EXPECT_EQ(out[0].token, host_argmax(f.row(0)));
}

}  // namespace
}  // namespace ingot::gpu_test
