// Scheduler simulation with a fake deterministic "model" whose next token is a hash of the
// sequence so far, read back from a shadow of the paged KV memory through the step's block
// table and slots, so a wrong slot, block table, prefix hit or copy changes the output. Every
// run is compared with a plain reference loop that generates each request alone.
#include "core/error.h"
#include "engine/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace ingot::engine {
namespace {

constexpr int32_t kVocab = 1000;
constexpr int32_t kEos = 7;  // the driver ends a sequence on this token (the engine's job)

int32_t fake_next_token(std::span<const int32_t> context) {
  uint64_t h = 1469598103934665603ull;
  for (const int32_t t : context) h = (h ^ static_cast<uint32_t>(t)) * 1099511628211ull;
  return static_cast<int32_t>((h >> 17) % kVocab);
}

std::vector<int32_t> reference_output(std::vector<int32_t> tokens, int32_t max_tokens) {
  std::vector<int32_t> out;
  while (static_cast<int32_t>(out.size()) < max_tokens) {
    const int32_t t = fake_next_token(tokens);
    out.push_back(t);
    tokens.push_back(t);
    if (t == kEos) break;
  }
  return out;
}

struct Req {
  std::vector<int32_t> prompt;
  int32_t max_tokens;
};

struct SimResult {
  std::map<SeqId, std::vector<int32_t>> outputs;
  int n_steps = 0;
  uint64_t n_preemptions = 0;
  uint64_t n_prefix_hit_tokens = 0;
};

// Submits `reqs` (request i arrives before step arrival_step[i]), runs until all finish.
SimResult simulate(const SchedulerConfig& cfg, int32_t n_blocks, int32_t block_size,
                   const std::vector<Req>& reqs, const std::vector<int>& arrival_step,
                   const std::map<SeqId, int>& cancel_at_step = {}) {
  kv::KvBlockManager kv(n_blocks, block_size);
  Scheduler sched(cfg, kv);
  std::vector<int32_t> kv_memory(static_cast<size_t>(n_blocks * block_size), -1);
  SimResult r;
  size_t next = 0;
  for (int step = 0; step < 100000; ++step) {
    while (next < reqs.size() && arrival_step[next] <= step) {
      sched.add(next + 1, reqs[next].prompt, reqs[next].max_tokens);
      r.outputs[next + 1];
      ++next;
    }
    for (const auto& [id, at] : cancel_at_step) {
      if (at == step) sched.cancel(id);
    }
    if (!sched.has_work()) {
      if (next == reqs.size()) break;
      continue;
    }
    StepBatch b = sched.schedule();
    EXPECT_FALSE(b.empty()) << "step " << step << ": work waiting but nothing scheduled";
    EXPECT_LE(b.n_rows(), cfg.max_batch_tokens);
    EXPECT_LE(static_cast<int32_t>(b.seqs.size()), cfg.max_seqs);
    EXPECT_EQ(b.positions.size(), b.tokens.size());
    EXPECT_EQ(b.slots.size(), b.tokens.size());
    for (const kv::BlockCopy& c : b.copies) {
      for (int32_t i = 0; i < block_size; ++i) {
        kv_memory[static_cast<size_t>(c.dst * block_size + i)] = kv_memory[static_cast<size_t>(c.src * block_size + i)];
      }
    }
    // The "forward pass": write each new token's KV, then read each sequence's context back
    // through its block table.
    for (int32_t row = 0; row < b.n_rows(); ++row) kv_memory[static_cast<size_t>(b.slots[static_cast<size_t>(row)])] = b.tokens[static_cast<size_t>(row)];
    std::vector<int32_t> sampled;
    for (const StepSeq& s : b.seqs) {
      const auto table = b.block_table(s);
      EXPECT_EQ(s.n_blocks, (s.n_context + block_size - 1) / block_size);
      for (int32_t i = 0; i < s.n_query; ++i) {
        const int32_t pos = b.positions[static_cast<size_t>(s.query_start + i)];
        EXPECT_EQ(pos, s.n_context - s.n_query + i);
        EXPECT_EQ(b.slots[static_cast<size_t>(s.query_start + i)],
                  static_cast<int64_t>(table[static_cast<size_t>(pos / block_size)]) * block_size + pos % block_size);
      }
      if (!s.needs_logits) continue;
      EXPECT_EQ(b.logit_rows[static_cast<size_t>(s.logits_index)], s.query_start + s.n_query - 1);
      std::vector<int32_t> context;
      for (int32_t p = 0; p < s.n_context; ++p) {
        context.push_back(kv_memory[static_cast<size_t>(table[static_cast<size_t>(p / block_size)] * block_size + p % block_size)]);
      }
      sampled.push_back(fake_next_token(context));
    }
    for (const StepOutput& o : sched.on_step_done(b, sampled)) {
      r.outputs[o.seq].push_back(o.token);
      EXPECT_EQ(o.n_generated, static_cast<int32_t>(r.outputs[o.seq].size()));
      if (o.token == kEos && !o.finished_by_length) {
        EXPECT_TRUE(sched.finish(o.seq));
      }
    }
    r.n_steps = step + 1;
    const kv::KvStats st = kv.stats();
    EXPECT_EQ(st.n_used + st.n_free + st.n_cached_free, st.n_total);
  }
  EXPECT_FALSE(sched.has_work()) << "requests starved";
  EXPECT_EQ(kv.stats().n_used, 0) << "blocks leaked";
  r.n_preemptions = sched.stats().n_preemptions;
  r.n_prefix_hit_tokens = kv.stats().n_prefix_hit_tokens;
  return r;
}

std::vector<Req> random_requests(int n, uint32_t seed, int32_t max_prompt, int32_t max_gen, bool shared_prefix) {
  std::mt19937 rng(seed);
  std::vector<int32_t> system(40);
  for (auto& t : system) t = static_cast<int32_t>(rng() % kVocab);
  std::vector<Req> reqs;
  for (int i = 0; i < n; ++i) {
    Req r;
    if (shared_prefix && rng() % 2) r.prompt = system;
    const int32_t n_prompt = 1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(max_prompt));
    for (int32_t j = 0; j < n_prompt; ++j) r.prompt.push_back(static_cast<int32_t>(rng() % kVocab));
    r.max_tokens = 1 + static_cast<int32_t>(rng() % static_cast<uint32_t>(max_gen));
    reqs.push_back(r);
  }
  return reqs;
}

void expect_matches_reference(const std::vector<Req>& reqs, const SimResult& r) {
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(r.outputs.at(i + 1), reference_output(reqs[i].prompt, reqs[i].max_tokens)) << "request " << i + 1;
  }
}

TEST(Scheduler, AmplePoolMatchesReferenceWithoutPreemption) {
  const auto reqs = random_requests(40, 1, 60, 40, true);
  std::vector<int> arrivals(reqs.size());
  for (size_t i = 0; i < arrivals.size(); ++i) arrivals[i] = static_cast<int>(i) / 3;
  SchedulerConfig cfg{.max_batch_tokens = 64, .max_seqs = 8, .max_context = 256, .n_reserve_blocks = 0};
  const SimResult r = simulate(cfg, 1024, 16, reqs, arrivals);
  expect_matches_reference(reqs, r);
  EXPECT_EQ(r.n_preemptions, 0u);
  EXPECT_GT(r.n_prefix_hit_tokens, 0u);  // the shared 40-token system prompt: 32 tokens per hit
}

TEST(Scheduler, TinyPoolPreemptsAndResumesWithIdenticalOutput) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    const auto reqs = random_requests(30, seed, 50, 60, seed % 2 == 0);
    std::vector<int> arrivals(reqs.size(), 0);
    SchedulerConfig cfg{.max_batch_tokens = 32 + static_cast<int32_t>(seed), .max_seqs = 12, .max_context = 160,
                        .n_reserve_blocks = 0};
    // 20 blocks of 8 tokens: each request (at most 150 tokens) fits alone, a dozen do not.
    const SimResult r = simulate(cfg, 20, 8, reqs, arrivals);
    expect_matches_reference(reqs, r);
    EXPECT_GT(r.n_preemptions, 0u) << "seed " << seed << ": the pool was meant to run short";
  }
}

TEST(Scheduler, CancelFreesEverythingAndOthersFinish) {
  const auto reqs = random_requests(20, 9, 30, 50, true);
  std::vector<int> arrivals(reqs.size(), 0);
  SchedulerConfig cfg{.max_batch_tokens = 40, .max_seqs = 6, .max_context = 128, .n_reserve_blocks = 2};
  const std::map<SeqId, int> cancels{{1, 3}, {5, 0}, {7, 10}, {20, 2}};
  const SimResult r = simulate(cfg, 24, 8, reqs, arrivals, cancels);
  for (size_t i = 0; i < reqs.size(); ++i) {
    const SeqId id = i + 1;
    const auto expected = reference_output(reqs[i].prompt, reqs[i].max_tokens);
    if (cancels.count(id)) {  // a prefix of the full output, then nothing
      const auto& got = r.outputs.at(id);
      EXPECT_TRUE(std::equal(got.begin(), got.end(), expected.begin())) << "request " << id;
    } else {
      EXPECT_EQ(r.outputs.at(id), expected) << "request " << id;
    }
  }
}

TEST(Scheduler, ChunksLongPromptsAndMixesDecodes) {
  kv::KvBlockManager kv(64, 16);
  Scheduler s(SchedulerConfig{.max_batch_tokens = 16, .max_seqs = 4, .max_context = 512, .n_reserve_blocks = 0}, kv);
  s.add(1, std::vector<int32_t>(5, 1), 10);
  s.add(2, std::vector<int32_t>(40, 2), 10);
  StepBatch b = s.schedule();  // 5 of seq 1 + 11 of seq 2
  ASSERT_EQ(b.seqs.size(), 2u);
  EXPECT_EQ(b.seqs[0].n_query, 5);
  EXPECT_TRUE(b.seqs[0].needs_logits);
  EXPECT_EQ(b.seqs[1].n_query, 11);
  EXPECT_FALSE(b.seqs[1].needs_logits);
  EXPECT_EQ(b.logit_rows, std::vector<int32_t>{4});
  s.on_step_done(b, std::vector<int32_t>{9});
  b = s.schedule();  // 1 decode of seq 1 + 15 more of seq 2
  ASSERT_EQ(b.seqs.size(), 2u);
  EXPECT_EQ(b.seqs[0].n_query, 1);
  EXPECT_FALSE(b.seqs[0].is_prefill);
  EXPECT_EQ(b.tokens[0], 9);
  EXPECT_EQ(b.positions[0], 5);
  EXPECT_EQ(b.seqs[1].n_query, 15);
  EXPECT_TRUE(b.seqs[1].is_prefill);
  EXPECT_EQ(b.positions[1], 11);
}

TEST(Scheduler, RejectsWhatCanNeverFit) {
  kv::KvBlockManager kv(4, 16);  // 64 tokens in all
  Scheduler s(SchedulerConfig{.max_batch_tokens = 64, .max_seqs = 4, .max_context = 100, .n_reserve_blocks = 0}, kv);
  try {
    s.add(1, std::vector<int32_t>(90, 1), 20);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_range);
    EXPECT_STREQ(e.what(),
                 "request 1 can never run: the prompt (90 tokens) plus max_tokens (20) is 110 tokens, over "
                 "the context length of 100");
  }
  try {
    s.add(2, std::vector<int32_t>(60, 1), 20);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::out_of_range);
    EXPECT_STREQ(e.what(),
                 "request 2 can never run: the prompt (60 tokens) plus max_tokens (20) needs 5 KV blocks, "
                 "but the whole KV cache has 4 blocks (64 tokens)");
  }
  EXPECT_THROW(s.add(3, {}, 5), Error);
  EXPECT_THROW(s.add(4, {1}, 0), Error);
  s.add(5, {1, 2}, 62);
  EXPECT_THROW(s.add(5, {1}, 1), Error);
  EXPECT_EQ(s.n_waiting(), 1u);
  EXPECT_THROW(Scheduler(SchedulerConfig{.max_batch_tokens = 0}, kv), Error);
}

TEST(Scheduler, FcfsAdmissionAndMaxSeqs) {
  kv::KvBlockManager kv(64, 16);
  Scheduler s(SchedulerConfig{.max_batch_tokens = 100, .max_seqs = 2, .max_context = 512, .n_reserve_blocks = 0}, kv);
  for (SeqId id = 1; id <= 4; ++id) s.add(id, std::vector<int32_t>(3, static_cast<int32_t>(id)), 2);
  StepBatch b = s.schedule();
  ASSERT_EQ(b.seqs.size(), 2u);
  EXPECT_EQ(b.seqs[0].seq, 1u);
  EXPECT_EQ(b.seqs[1].seq, 2u);
  EXPECT_EQ(s.n_waiting(), 2u);
  auto out = s.on_step_done(b, std::vector<int32_t>{11, 12});
  EXPECT_TRUE(s.finish(1));  // as if 11 were a stop token
  b = s.schedule();          // seq 2 decodes, seq 3 is admitted
  ASSERT_EQ(b.seqs.size(), 2u);
  EXPECT_EQ(b.seqs[0].seq, 2u);
  EXPECT_EQ(b.seqs[1].seq, 3u);
  out = s.on_step_done(b, std::vector<int32_t>{13, 14});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].finished_by_length);  // seq 2: max_tokens 2 reached
  EXPECT_FALSE(out[1].finished_by_length);
  EXPECT_EQ(s.find(2), nullptr);
  EXPECT_FALSE(s.cancel(2));
  EXPECT_TRUE(s.cancel(4));  // cancel while waiting
  EXPECT_EQ(s.n_waiting(), 0u);
}

}  // namespace
}  // namespace ingot::engine

namespace ingot::engine {
namespace {

// n = 3 choices: one prefill, then two forks that share the prompt's blocks; each choice
// continues exactly as if it had been generated alone from prompt + its first token.
TEST(Scheduler, ForkedChoicesShareThePromptAndDiverge) {
  constexpr int32_t bs = 8;
  kv::KvBlockManager kv(32, bs);
  Scheduler s(SchedulerConfig{.max_batch_tokens = 64, .max_seqs = 8, .max_context = 128, .n_reserve_blocks = 0}, kv);
  std::vector<int32_t> prompt(20);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i * 7 % 13);
  s.add(1, prompt, 6);
  std::vector<int32_t> memory(32 * bs, -1);
  std::map<SeqId, std::vector<int32_t>> out;
  int n_copies = 0;
  for (int step = 0; s.has_work() && step < 100; ++step) {
    StepBatch b = s.schedule();
    for (const kv::BlockCopy& c : b.copies) {
      ++n_copies;
      std::copy_n(memory.begin() + c.src * bs, bs, memory.begin() + c.dst * bs);
    }
    for (int32_t r = 0; r < b.n_rows(); ++r) memory[static_cast<size_t>(b.slots[static_cast<size_t>(r)])] = b.tokens[static_cast<size_t>(r)];
    std::vector<int32_t> sampled;
    for (const StepSeq& q : b.seqs) {
      if (!q.needs_logits) continue;
      std::vector<int32_t> context;
      const auto table = b.block_table(q);
      for (int32_t p = 0; p < q.n_context; ++p) context.push_back(memory[static_cast<size_t>(table[static_cast<size_t>(p / bs)] * bs + p % bs)]);
      sampled.push_back(fake_next_token(context));
    }
    const auto outputs = s.on_step_done(b, sampled);
    for (const StepOutput& o : outputs) {
      out[o.seq].push_back(o.token);
      if (o.token == kEos && !o.finished_by_length) s.finish(o.seq);
    }
    if (step == 0) {
      EXPECT_EQ(kv.stats().n_used, 3);
      s.fork(1, 2, 500);  // the other choices' samplers picked 500 and 501
      s.fork(1, 3, 501);
      out[2] = {500};
      out[3] = {501};
      EXPECT_EQ(kv.stats().n_used, 3);  // shared, not copied
      EXPECT_THROW(s.fork(1, 2, 1), Error);
    }
  }
  EXPECT_GT(n_copies, 0);  // the shared partial block was copied on write
  auto with = [&](int32_t first) {
    std::vector<int32_t> t = prompt;
    t.push_back(first);
    std::vector<int32_t> expected{first};
    for (int32_t x : reference_output(t, 5)) expected.push_back(x);
    return expected;
  };
  EXPECT_EQ(out[1], reference_output(prompt, 6));
  EXPECT_EQ(out[2], with(500));
  EXPECT_EQ(out[3], with(501));
  EXPECT_EQ(kv.stats().n_used, 0);
}

}  // namespace
}  // namespace ingot::engine
