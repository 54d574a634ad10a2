// The engine's device-sampling path (ModelRunner::samples_on_device / run_and_sample, used on
// CUDA) on the fake model: a runner that "samples on the device" by applying each SampleRow's
// modification list the way kernels/sample.cu does and taking the greedy argmax (+ logprobs of
// the raw row) gives exactly the tokens and logprobs of the host Sampler path — with repetition /
// presence / frequency penalties, logit bias, min_tokens bans, n = 3 choices (siblings sample
// their first token from the prompt's logit row), and many concurrent requests.
#include "engine/logprobs.h"
#include "engine_test_util.h"

#include <gtest/gtest.h>

#include <limits>

namespace ingot::engine::test {
namespace {

class DeviceSamplingRunner final : public ModelRunner {
 public:
  std::string_view backend_name() const noexcept override { return "fake-device"; }
  int32_t n_vocab() const noexcept override { return inner_.n_vocab(); }
  void prepare(const RunnerLimits& limits) override {
    inner_.prepare(limits);
    logits_.resize(static_cast<size_t>(limits.max_seqs) * kVocab);
  }
  void run(const StepBatch&, std::span<float>) override { fail(ErrorCode::internal, "host path used"); }
  bool samples_on_device() const noexcept override { return true; }
  void run_and_sample(const StepBatch& batch, const backend::SampleBatch& sampling,
                      std::span<backend::SampledToken> out) override {
    inner_.run(batch, std::span<float>(logits_).first(batch.logit_rows.size() * kVocab));
    ASSERT_EQ(out.size(), sampling.rows.size());
    for (size_t i = 0; i < sampling.rows.size(); ++i) {
      const backend::SampleRow& r = sampling.rows[i];
      EXPECT_LE(r.temperature, 0.0f);
      const std::span<const float> raw = std::span<const float>(logits_).subspan(static_cast<size_t>(r.logit_row) * kVocab, kVocab);
      std::vector<float> w(raw.begin(), raw.end());
      for (int32_t j = r.mods_begin; j < r.mods_begin + r.mods_count; ++j) {
        const backend::SampleMod& m = sampling.mods[static_cast<size_t>(j)];
        float v = w[static_cast<size_t>(m.token)] + m.bias;
        if (m.banned) v = -std::numeric_limits<float>::infinity();
        if (m.count > 0) {
          if (r.repetition_penalty != 1.0f) v = v > 0.0f ? v / r.repetition_penalty : v * r.repetition_penalty;
          v -= r.presence_penalty + r.frequency_penalty * static_cast<float>(m.count);
        }
        w[static_cast<size_t>(m.token)] = v;
      }
      backend::SampledToken& t = out[i];
      t.token = argmax(w);
      if (r.want_logprob) {
        const double lse = log_sum_exp(raw);
        t.logprob = token_logprob(raw, lse, t.token).logprob;
        const auto top = top_logprobs(raw, lse, r.n_top_logprobs);
        t.n_top = static_cast<int32_t>(top.size());
        for (size_t k = 0; k < top.size(); ++k) {
          t.top_token[k] = top[k].token;
          t.top_logprob[k] = top[k].logprob;
        }
      }
      ++n_rows_;
    }
  }
  int64_t n_rows() const { return n_rows_; }

 private:
  FakeRunner inner_;
  std::vector<float> logits_;
  int64_t n_rows_ = 0;
};

std::vector<Request> requests() {
  std::vector<Request> out;
  for (int i = 0; i < 12; ++i) {
    Request r;
    for (int k = 0; k < 20 + 7 * i; ++k) r.prompt.push_back(kFirstLetter + (k * (i + 3)) % 26);
    r.sampling.temperature = 0.0f;
    r.sampling.max_tokens = 30;
    r.sampling.ignore_eos = true;
    if (i % 3 == 0) r.sampling.repetition_penalty = 1.6f;
    if (i % 3 == 1) {
      r.sampling.presence_penalty = 0.8f;
      r.sampling.frequency_penalty = 0.4f;
      r.sampling.penalize_prompt = true;
      r.sampling.penalty_last_n = 8;
    }
    if (i % 4 == 2) r.sampling.logit_bias = {{kFirstLetter + 4, 3.0f}, {kSpace, -2.0f}};
    if (i % 5 == 3) {
      r.sampling.ignore_eos = false;
      r.sampling.min_tokens = 5;
    }
    if (i % 4 == 1) {
      r.sampling.logprobs = true;
      r.sampling.top_logprobs = 3;
    }
    if (i == 5) r.sampling.n = 3;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::vector<ChoiceResult>> run_all(ingot::Engine& engine) {
  std::vector<RequestHandle> handles;
  for (Request& r : requests()) handles.push_back(engine.submit(std::move(r)));
  std::vector<std::vector<ChoiceResult>> out;
  for (RequestHandle& h : handles) out.push_back(collect(h));
  return out;
}

TEST(EngineDeviceSampling, SameTokensAndLogprobsAsTheHostSampler) {
  FakeEngine host = make_fake_engine();
  auto runner = std::make_unique<DeviceSamplingRunner>();
  DeviceSamplingRunner* device_runner = runner.get();
  ingot::Engine device(std::make_unique<engine::Engine>(std::move(runner), make_tokenizer(), small_config()));
  const auto want = run_all(*host.engine);
  const auto got = run_all(device);
  EXPECT_GT(device_runner->n_rows(), 300);
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].size(), got[i].size()) << i;
    for (size_t c = 0; c < want[i].size(); ++c) {
      EXPECT_TRUE(got[i][c].finished);
      EXPECT_EQ(got[i][c].tokens, want[i][c].tokens) << "request " << i << " choice " << c;
      std::vector<TokenLogprob> a, b;
      for (const Event& e : want[i][c].events) a.insert(a.end(), e.logprobs.begin(), e.logprobs.end());
      for (const Event& e : got[i][c].events) b.insert(b.end(), e.logprobs.begin(), e.logprobs.end());
      ASSERT_EQ(a.size(), b.size()) << i;
      for (size_t k = 0; k < a.size(); ++k) {
        EXPECT_EQ(a[k].token, b[k].token);
        EXPECT_EQ(a[k].logprob, b[k].logprob);
      }
    }
  }
  // Penalties and bias changed some outputs (the comparison is not vacuous).
  int changed = 0;
  const auto reqs = requests();
  for (size_t i = 0; i < reqs.size(); ++i) changed += want[i][0].tokens != fake_greedy(reqs[i].prompt, 30);
  EXPECT_GE(changed, 3);
}

}  // namespace
}  // namespace ingot::engine::test
