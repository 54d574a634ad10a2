// The forward pass on small random models of every family: logits are finite; feeding a prompt
// token by token (decode steps over the KV cache) gives the logits of one prefill; two sequences
// in one flattened batch (a prefill chunk and a decode, separate block tables) match each run
// alone; an out-of-range token id or a prompt past the context is an Error.
#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "model/model.h"
#include "model/sequence_runner.h"
#include "tiny_gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace ingot::model {
namespace {

using test::cpu_options;

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double d = 0.0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, static_cast<double>(std::fabs(a[i] - b[i])));
  return d;
}

class Forward : public ::testing::TestWithParam<const char*> {};

TEST_P(Forward, PrefillEqualsDecodeSteps) {
  backend::cpu::CpuBackend backend(cpu_options(2));
  test::TinySpec spec;
  spec.arch = GetParam();
  auto m = Model::load(test::make_tiny_gguf(spec), backend);
  const std::vector<int32_t> prompt = {1, 5, 9, 33, 2, 63, 17, 8, 40, 41, 3, 0, 12, 19, 22, 30, 31, 7};
  const auto n_vocab = static_cast<size_t>(m->hparams().n_vocab);
  SequenceRunner all(*m, {.n_ctx = 64, .max_chunk = 64, .kv_type = quant::Type::F32});
  const std::vector<float> full = all.feed(prompt, true);
  for (float x : full) ASSERT_TRUE(std::isfinite(x));
  SequenceRunner steps(*m, {.n_ctx = 64, .max_chunk = 5, .kv_type = quant::Type::F32});
  for (size_t i = 0; i < prompt.size(); ++i) {
    const std::vector<float> one = steps.feed(std::span<const int32_t>(&prompt[i], 1));
    EXPECT_LT(max_abs_diff(one, std::span<const float>(full).subspan(i * n_vocab, n_vocab)), 1e-4) << i;
  }
  SequenceRunner chunked(*m, {.n_ctx = 64, .max_chunk = 5, .kv_type = quant::Type::F32});
  const std::vector<float> c = chunked.feed(prompt, true);
  EXPECT_LT(max_abs_diff(c, full), 1e-4);
}

TEST_P(Forward, TwoSequencesInOneBatch) {
  backend::cpu::CpuBackend backend(cpu_options(2));
  test::TinySpec spec;
  spec.arch = GetParam();
  auto m = Model::load(test::make_tiny_gguf(spec), backend);
  const int64_t n_vocab = m->hparams().n_vocab;
  const std::vector<int32_t> a = {4, 8, 15, 16, 23, 42, 1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41};  // 20
  const std::vector<int32_t> b = {9, 9, 10, 60, 61};
  // References: each alone, all logits.
  std::vector<float> ref_a, ref_b;
  {
    SequenceRunner r(*m, {.n_ctx = 32, .max_chunk = 32, .kv_type = quant::Type::F32});
    ref_a = r.feed(a, true);
  }
  {
    SequenceRunner r(*m, {.n_ctx = 32, .max_chunk = 32, .kv_type = quant::Type::F32});
    ref_b = r.feed(b, true);
  }
  // One pool of 8 blocks of 4; a uses blocks 6,1,3,0,7 (20 tokens); b uses 2,5 (5 tokens,
  // 4 already cached from an earlier step, the last one a decode in this step).
  auto kv = m->alloc_kv(8, 4, quant::Type::F32);
  const int64_t width = 5;
  std::vector<int32_t> tables = {6, 1, 3, 0, 7, 2, 5, 0, 0, 0};
  m->plan({.max_tokens = 32, .max_seqs = 2, .max_blocks_per_seq = width, .max_logit_rows = 32, .max_context = 32});
  auto slot = [&](int seq, int32_t pos) { return tables[static_cast<size_t>(seq * width + pos / 4)] * 4 + pos % 4; };
  std::vector<float> logits(static_cast<size_t>(32 * n_vocab));
  {  // step 1: b's first 4 tokens alone
    std::vector<int32_t> pos = {0, 1, 2, 3}, slots, rows = {3};
    for (int32_t p : pos) slots.push_back(slot(1, p));
    const int32_t qs[2] = {0, 4}, ctx[1] = {4};
    std::vector<int32_t> table_b(tables.begin() + width, tables.end());
    ForwardBatch fb{.tokens = std::span(b).first(4), .positions = pos, .slots = slots, .query_start = qs,
                    .context_len = ctx, .block_tables = table_b, .max_blocks_per_seq = width, .max_context = 4,
                    .logit_rows = rows};
    m->forward(fb, kv.pool, logits);
    EXPECT_LT(max_abs_diff(std::span(logits).first(static_cast<size_t>(n_vocab)),
                           std::span(ref_b).subspan(3 * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab))),
              1e-4);
  }
  {  // step 2: all of a (prefill) + b's 5th token (decode), logits for every a row and b's row
    std::vector<int32_t> tokens(a), pos, slots, rows;
    for (int32_t p = 0; p < 20; ++p) pos.push_back(p), slots.push_back(slot(0, p)), rows.push_back(p);
    tokens.push_back(b[4]);
    pos.push_back(4);
    slots.push_back(slot(1, 4));
    rows.push_back(20);
    const int32_t qs[3] = {0, 20, 21}, ctx[2] = {20, 5};
    ForwardBatch fb{.tokens = tokens, .positions = pos, .slots = slots, .query_start = qs, .context_len = ctx,
                    .block_tables = tables, .max_blocks_per_seq = width, .max_context = 20, .logit_rows = rows};
    m->forward(fb, kv.pool, logits);
    EXPECT_LT(max_abs_diff(std::span(logits).first(20 * static_cast<size_t>(n_vocab)), ref_a), 1e-4);
    EXPECT_LT(max_abs_diff(std::span(logits).subspan(20 * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab)),
                           std::span(ref_b).subspan(4 * static_cast<size_t>(n_vocab))),
              1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, Forward, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(ForwardErrors, BadTokenAndContext) {
  backend::cpu::CpuBackend backend(cpu_options(1));
  auto m = Model::load(test::make_tiny_gguf({}), backend);
  SequenceRunner r(*m, {.n_ctx = 8, .max_chunk = 8, .kv_type = quant::Type::F16});
  const std::vector<int32_t> bad = {1, 64};
  EXPECT_THROW(r.feed(bad), Error);
  const std::vector<int32_t> negative = {-1};
  EXPECT_THROW(r.feed(negative), Error);
  const std::vector<int32_t> long_prompt(9, 1);
  EXPECT_THROW(r.feed(long_prompt), Error);
  EXPECT_THROW(r.feed({}), Error);
}

}  // namespace
}  // namespace ingot::model
