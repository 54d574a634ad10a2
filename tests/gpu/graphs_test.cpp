// CUDA graphs for decode steps: a tiny random llama on two CUDA backends, one replaying padded
// decode steps from graphs, one launching every op directly with graphs off. For 1, 3 and 8
// sequences over 12 steps with growing contexts (one crossing the 256-token context bucket, so
// a second graph is recorded), every logit is bit-identical; the graph backend recorded graphs
// and the direct one none. Also: a failing op inside a capture leaves the backend usable.
#include <gtest/gtest.h>

#include <cstring>

#include "../unit/model/decode_driver.h"
#include "../unit/model/tiny_gguf.h"
#include "backend/cuda/cuda_backend.h"
#include "core/error.h"
#include "model/model.h"

namespace ingot::gpu_test {
namespace {

model::ForwardPlan plan() {
  model::ForwardPlan p;
  p.max_tokens = 256;
  p.max_seqs = 8;
  p.max_blocks_per_seq = 32;
  p.max_logit_rows = 8;
  p.max_context = 512;
  return p;
}

test::TinySpec spec() {
  test::TinySpec s;
  s.n_vocab = 512;
  s.n_embd = 128;
  s.n_ff = 256;
  s.n_heads = 4;
  s.n_kv_heads = 2;
  s.head_dim = 32;
  s.n_layers = 3;
  s.n_ctx = 512;
  return s;
}

std::vector<std::vector<int32_t>> prompts_for(int n_seqs) {
  std::vector<std::vector<int32_t>> prompts;
  for (int s = 0; s < n_seqs; ++s) {
    std::vector<int32_t> p(static_cast<size_t>(s == n_seqs - 1 ? 250 : 5 + 29 * s));
    for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<int32_t>((i * 31 + static_cast<size_t>(s) * 7) % 512);
    prompts.push_back(std::move(p));
  }
  return prompts;
}

TEST(GpuGraphs, ReplayIsBitIdenticalToDirectLaunches) {
  const auto file = test::make_tiny_gguf(spec());
  cuda::CudaBackend graphs(0), direct(0);
  auto mg = model::Model::load(file, graphs);
  auto md = model::Model::load(file, direct);
  mg->plan(plan());
  md->plan(plan());
  graphs.set_graphs_enabled(true);
  direct.set_graphs_enabled(false);
  md->set_decode_mode(model::Model::DecodeMode::direct);
  ASSERT_TRUE(graphs.captures_ops());
  ASSERT_FALSE(direct.captures_ops());
  for (const int n_seqs : {1, 3, 8}) {
    for (const quant::Type kv : {quant::Type::F16, quant::Type::F32}) {
      auto pool_g = mg->alloc_kv(8 * 32, 16, kv);
      auto pool_d = md->alloc_kv(8 * 32, 16, kv);
      const auto prompts = prompts_for(n_seqs);
      const size_t before = graphs.n_captured();
      const test::DecodeRun rg = test::run_decode(*mg, pool_g.pool, 32, prompts, 12);
      const test::DecodeRun rd = test::run_decode(*md, pool_d.pool, 32, prompts, 12);
      EXPECT_GE(graphs.n_captured(), before + 2) << "the 256-token context bucket was crossed";
      ASSERT_EQ(rg.step_logits.size(), rd.step_logits.size());
      size_t differing = 0;
      for (size_t step = 0; step < rg.step_logits.size(); ++step) {
        const auto& a = rg.step_logits[step];
        const auto& b = rd.step_logits[step];
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
          ASSERT_FALSE(std::isnan(a[i]));
          if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) ++differing;
        }
      }
      EXPECT_EQ(differing, 0u) << n_seqs << " sequences, kv " << quant::name(kv);
      std::printf("graphs: %d sequences (bucket %lld), kv %s: 12 steps, %zu differing logits, %zu graphs\n",
                  n_seqs, static_cast<long long>(mg->decode_bucket(n_seqs)), std::string(quant::name(kv)).c_str(),
                  differing, graphs.n_captured());
    }
  }
  EXPECT_EQ(direct.n_captured(), 0u);
}

TEST(GpuGraphs, FailedCaptureLeavesTheBackendUsable) {
  cuda::CudaBackend b(0);
  b.reserve(backend::WorkspacePlan{.max_tokens = 8, .max_row_elements = 64, .max_context = 64, .max_logit_rows = 8});
  backend::Buffer xb, ob;
  const backend::Tensor x = b.alloc_tensor(quant::Type::F32, backend::Shape::of(64, 2), xb);
  const backend::Tensor out = b.alloc_tensor(quant::Type::F32, backend::Shape::of(32, 2), ob);
  EXPECT_THROW(b.run_captured(1, [&] { b.add(x, out, out); }), Error);  // shapes differ
  EXPECT_EQ(b.n_captured(), 0u);
  std::vector<float> host(128, 1.0f), back(128);
  b.upload(x, host.data(), host.size() * 4);
  b.run_captured(2, [&] { b.scale(x, 2.0f, x); });
  b.run_captured(2, [&] { b.scale(x, 2.0f, x); });  // replayed
  b.download(back.data(), x, back.size() * 4);
  EXPECT_EQ(back[0], 4.0f);
  EXPECT_EQ(back[127], 4.0f);
  EXPECT_EQ(b.n_captured(), 1u);
}

}  // namespace
}  // namespace ingot::gpu_test
