// The engine end to end with a fake model (no weights, no backend): greedy output against a
// direct reference, many submitting threads, cancellation freeing every KV block, stop strings,
// max/min tokens, end-of-generation, n > 1 sharing the prompt's KV, logprobs, rejections,
// shutdown and stop, and a failing step. Runs under ThreadSanitizer in CI.
#include "engine_test_util.h"

#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <set>

namespace ingot::engine::test {
namespace {

using namespace std::chrono_literals;

std::vector<int32_t> letters_prompt(uint64_t seed, int32_t n) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> p;
  for (int32_t i = 0; i < n; ++i) p.push_back(kFirstLetter + static_cast<int32_t>(rng() % 26));
  return p;
}

Request greedy_request(std::vector<int32_t> prompt, int32_t max_tokens) {
  Request r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.sampling.max_tokens = max_tokens;
  return r;
}

TEST(EngineFake, GreedyMatchesReferenceWithUsageTimingsAndText) {
  FakeEngine f = make_fake_engine();
  const auto prompt = letters_prompt(1, 37);
  RequestHandle h = f.engine->submit(greedy_request(prompt, 25));
  ASSERT_TRUE(h.valid());
  EXPECT_NE(h.id(), 0u);
  auto results = collect(h);
  ASSERT_EQ(results.size(), 1u);
  const ChoiceResult& c = results[0];
  EXPECT_EQ(c.tokens, fake_greedy(prompt, 25));
  EXPECT_EQ(c.text, letters(c.tokens));
  EXPECT_EQ(c.events.size(), 25u);  // one event per token, the last one final
  ASSERT_TRUE(c.finished);
  EXPECT_EQ(c.final_event.finish_reason, FinishReason::length);
  EXPECT_EQ(c.final_event.usage.n_prompt_tokens, 37);
  EXPECT_EQ(c.final_event.usage.n_completion_tokens, 25);
  EXPECT_EQ(c.final_event.request, h.id());
  const Timings& t = c.final_event.timings;
  EXPECT_GE(t.queue_ms, 0.0);
  EXPECT_GE(t.ttft_ms, t.queue_ms);
  EXPECT_GE(t.total_ms, t.ttft_ms);
  EXPECT_FALSE(h.next_event_for(1ms).has_value());
  EXPECT_TRUE(h.done());
  EXPECT_TRUE(idle(wait_for(f.core(), idle)));
}

TEST(EngineFake, ManyThreadsSubmitConcurrentlyUnderPreemption) {
  EngineConfig config = small_config();
  config.kv_blocks = 24;  // 384 tokens for up to 8 sequences of up to ~100: forces preemption
  config.max_batch_tokens = 48;
  FakeEngine f = make_fake_engine(config);
  constexpr int kThreads = 8, kPerThread = 6;
  const auto shared_prefix = letters_prompt(99, 40);
  std::atomic<int> n_ok{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) * 7919 + 1);
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<int32_t> prompt = (i % 2 == 0) ? shared_prefix : std::vector<int32_t>{};
        const auto tail = letters_prompt(rng(), 1 + static_cast<int32_t>(rng() % 30));
        prompt.insert(prompt.end(), tail.begin(), tail.end());
        const auto max_tokens = 1 + static_cast<int32_t>(rng() % 40);
        RequestHandle h = f.engine->submit(greedy_request(prompt, max_tokens));
        try {
          auto r = collect(h);
          if (r[0].tokens == fake_greedy(prompt, max_tokens) && r[0].final_event.finish_reason == FinishReason::length &&
              r[0].text == letters(r[0].tokens)) {
            ++n_ok;
          } else {
            std::lock_guard lock(failures_mutex);
            failures.push_back(fmt::format("thread {} request {}: got {} tokens ({}), reason {} {}", t, i,
                                           r[0].tokens.size(), max_tokens, to_string(r[0].final_event.finish_reason),
                                           r[0].final_event.message));
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(failures_mutex);
          failures.push_back(e.what());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(n_ok.load(), kThreads * kPerThread);
  for (const auto& f2 : failures) ADD_FAILURE() << f2;
  const EngineSnapshot s = wait_for(f.core(), idle);
  EXPECT_TRUE(idle(s));
  EXPECT_EQ(s.kv.n_used, 0);
  EXPECT_GT(s.kv.n_prefix_hit_tokens, 0u);  // the shared prefix was reused
  EXPECT_LE(f.runner->max_rows_seen(), config.max_batch_tokens);
  RecordProperty("preemptions", static_cast<int>(s.scheduler.n_preemptions));
}

TEST(EngineFake, PreemptionUnderKvPressureKeepsOutputsIdentical) {
  EngineConfig config = small_config();
  config.kv_blocks = 8;  // 6 requests x 5 blocks each cannot all run at once
  FakeEngine f = make_fake_engine(config);
  std::vector<std::vector<int32_t>> prompts;
  std::vector<RequestHandle> handles;
  for (int i = 0; i < 6; ++i) {
    prompts.push_back(letters_prompt(200 + static_cast<uint64_t>(i), 15));
    handles.push_back(f.engine->submit(greedy_request(prompts.back(), 60)));
  }
  for (size_t i = 0; i < handles.size(); ++i) {
    auto r = collect(handles[i]);
    EXPECT_EQ(r[0].tokens, fake_greedy(prompts[i], 60)) << "request " << i;
    EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::length);
  }
  const EngineSnapshot s = wait_for(f.core(), idle);
  EXPECT_TRUE(idle(s));
  EXPECT_GT(s.scheduler.n_preemptions, 0u);
}

TEST(EngineFake, CancelMidGenerationFreesAllBlocks) {
  FakeOptions slow;
  slow.step_delay = 2ms;
  FakeEngine f = make_fake_engine(small_config(), slow);
  RequestHandle h = f.engine->submit(greedy_request(letters_prompt(3, 100), 400));
  int n_tokens = 0;
  while (n_tokens < 5) {
    auto e = h.next_event_for(10s);
    ASSERT_TRUE(e.has_value());
    ASSERT_FALSE(e->finished);
    n_tokens += static_cast<int>(e->tokens.size());
  }
  EXPECT_GT(f.core().snapshot().kv.n_used, 0);
  h.cancel();
  auto rest = collect(h);
  ASSERT_TRUE(rest[0].finished);
  EXPECT_EQ(rest[0].final_event.finish_reason, FinishReason::cancelled);
  EXPECT_LT(rest[0].final_event.usage.n_completion_tokens, 400);
  const EngineSnapshot s = wait_for(f.core(), idle);
  EXPECT_TRUE(idle(s));
  EXPECT_EQ(s.kv.n_used, 0);
  EXPECT_EQ(s.kv.n_free + s.kv.n_cached_free, s.kv.n_total);
}

TEST(EngineFake, DroppingTheHandleCancelsAndCancelByIdWorks) {
  FakeOptions slow;
  slow.step_delay = 1ms;
  FakeEngine f = make_fake_engine(small_config(), slow);
  {
    RequestHandle h = f.engine->submit(greedy_request(letters_prompt(4, 20), 400));
    ASSERT_TRUE(h.next_event_for(10s).has_value());
  }  // the handle goes away mid-generation (a dead client)
  EXPECT_TRUE(idle(wait_for(f.core(), idle)));

  RequestHandle h2 = f.engine->submit(greedy_request(letters_prompt(5, 20), 400));
  ASSERT_TRUE(h2.next_event_for(10s).has_value());
  f.engine->cancel(h2.id());
  auto r = collect(h2);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::cancelled);
  EXPECT_TRUE(idle(wait_for(f.core(), idle)));
  f.engine->cancel(987654);  // unknown ids are ignored
}

TEST(EngineFake, CancelWhileWaitingInTheQueue) {
  EngineConfig config = small_config();
  config.max_seqs = 1;
  FakeOptions slow;
  slow.step_delay = 1ms;
  FakeEngine f = make_fake_engine(config, slow);
  RequestHandle first = f.engine->submit(greedy_request(letters_prompt(6, 10), 200));
  RequestHandle second = f.engine->submit(greedy_request(letters_prompt(7, 10), 200));
  ASSERT_TRUE(first.next_event_for(10s).has_value());
  second.cancel();
  auto r = collect(second);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::cancelled);
  EXPECT_EQ(r[0].tokens.size(), 0u);
  // Submitted and cancelled at once (both usually reach the loop in the same take).
  RequestHandle third = f.engine->submit(greedy_request(letters_prompt(8, 10), 200));
  third.cancel();
  EXPECT_EQ(collect(third)[0].final_event.finish_reason, FinishReason::cancelled);
  first.cancel();
  collect(first);
  EXPECT_TRUE(idle(wait_for(f.core(), idle)));
}

TEST(EngineFake, StopStringEndsOutputAndIsNeverEmitted) {
  FakeEngine f = make_fake_engine();
  const auto prompt = letters_prompt(11, 12);
  const std::string reference = letters(fake_greedy(prompt, 60));
  const std::string stop = reference.substr(20, 3);
  const size_t at = reference.find(stop);
  Request req = greedy_request(prompt, 60);
  req.sampling.stop = {stop, "this never appears"};
  RequestHandle h = f.engine->submit(std::move(req));
  auto r = collect(h);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::stop);
  EXPECT_EQ(r[0].text, reference.substr(0, at));
  // Streamed pieces never run ahead of the final text: every prefix is a prefix of it.
  std::string so_far;
  for (const Event& e : r[0].events) {
    so_far += e.text;
    EXPECT_EQ(reference.substr(0, so_far.size()), so_far);
  }
  EXPECT_TRUE(idle(wait_for(f.core(), idle)));
}

TEST(EngineFake, EndOfGenerationMinTokensAndIgnoreEos) {
  // The script emits </s> as the 4th generated token of a 6-token prompt.
  FakeOptions script;
  script.script = std::vector<int32_t>(20, kFirstLetter);
  script.script[9] = kEos;
  FakeEngine f = make_fake_engine(small_config(), script);
  const auto prompt = letters_prompt(12, 6);
  {
    RequestHandle h = f.engine->submit(greedy_request(prompt, 10));
    auto r = collect(h);
    EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::stop);
    EXPECT_EQ(r[0].tokens.size(), 4u);
    EXPECT_EQ(r[0].text, "aaa");  // the EOS token has no text
  }
  {
    Request req = greedy_request(prompt, 10);
    req.sampling.ignore_eos = true;
    RequestHandle h = f.engine->submit(std::move(req));
    auto r = collect(h);
    EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::length);
    EXPECT_EQ(r[0].tokens.size(), 10u);
  }
  {
    Request req = greedy_request(prompt, 10);
    req.sampling.min_tokens = 6;  // EOS is suppressed by the sampler before min_tokens
    RequestHandle h = f.engine->submit(std::move(req));
    auto r = collect(h);
    EXPECT_EQ(r[0].tokens.size(), 10u);
    EXPECT_EQ(std::count(r[0].tokens.begin(), r[0].tokens.end(), kEos), 0);
  }
}

TEST(EngineFake, NChoicesShareThePromptKv) {
  FakeEngine f = make_fake_engine();
  const auto prompt = letters_prompt(21, 50);  // 3 full blocks + 2 tokens
  Request req = greedy_request(prompt, 12);
  req.sampling.n = 3;
  RequestHandle h = f.engine->submit(std::move(req));
  EXPECT_EQ(h.n_choices(), 3);
  auto r = collect(h);
  ASSERT_EQ(r.size(), 3u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(r[static_cast<size_t>(c)].tokens, fake_greedy(prompt, 12)) << "choice " << c;
    EXPECT_EQ(r[static_cast<size_t>(c)].final_event.choice, c);
    EXPECT_EQ(r[static_cast<size_t>(c)].final_event.usage.n_prompt_tokens, 50);
  }
  // The prompt was computed once: choices 1 and 2 were forked off choice 0's KV.
  const EngineSnapshot s = wait_for(f.core(), idle);
  EXPECT_TRUE(idle(s));
  EXPECT_EQ(s.scheduler.n_prompt_tokens_computed, 50u);
  EXPECT_EQ(s.kv.n_prefix_hit_tokens, 0u);
}

TEST(EngineFake, NChoicesWithOneTokenAndWithEarlyStops) {
  FakeEngine f = make_fake_engine();
  const auto prompt = letters_prompt(22, 20);
  Request one = greedy_request(prompt, 1);  // every choice ends with its first token
  one.sampling.n = 4;
  RequestHandle h = f.engine->submit(std::move(one));
  auto r = collect(h);
  for (const auto& c : r) {
    EXPECT_EQ(c.tokens, fake_greedy(prompt, 1));
    EXPECT_EQ(c.final_event.finish_reason, FinishReason::length);
  }
  // Sampled choices: some stop early on a stop string, the others run on; all end cleanly.
  Request mixed;
  mixed.prompt = prompt;
  mixed.sampling.temperature = 1.0f;
  mixed.sampling.seed = 5;
  mixed.sampling.max_tokens = 40;
  mixed.sampling.stop = {"e"};
  mixed.sampling.n = 6;
  RequestHandle h2 = f.engine->submit(std::move(mixed));
  auto r2 = collect(h2);
  for (const auto& c : r2) {
    EXPECT_TRUE(c.finished);
    EXPECT_EQ(c.text.find('e'), std::string::npos);
  }
  EXPECT_TRUE(idle(wait_for(f.core(), idle)));
}

TEST(EngineFake, SeededSamplingIsReproducibleAndChoicesDiffer) {
  FakeEngine f = make_fake_engine();
  auto run = [&] {
    Request req;
    req.prompt = letters_prompt(31, 20);
    req.sampling.temperature = 1.5f;
    req.sampling.seed = 77;
    req.sampling.max_tokens = 30;
    req.sampling.n = 2;
    RequestHandle h = f.engine->submit(std::move(req));
    return collect(h);
  };
  auto a = run(), b = run();
  EXPECT_EQ(a[0].tokens, b[0].tokens);
  EXPECT_EQ(a[1].tokens, b[1].tokens);
  EXPECT_NE(a[0].tokens, a[1].tokens);
}

TEST(EngineFake, LogprobsOnEveryTokenEvent) {
  FakeEngine f = make_fake_engine();
  Request req = greedy_request(letters_prompt(41, 8), 5);
  req.sampling.logprobs = true;
  req.sampling.top_logprobs = 3;
  RequestHandle h = f.engine->submit(std::move(req));
  auto r = collect(h);
  ASSERT_EQ(r[0].events.size(), 5u);
  for (const Event& e : r[0].events) {
    ASSERT_EQ(e.tokens.size(), 1u);
    ASSERT_EQ(e.logprobs.size(), 1u);
    ASSERT_EQ(e.top_logprobs.size(), 1u);
    EXPECT_EQ(e.logprobs[0].token, e.tokens[0]);
    EXPECT_LE(e.logprobs[0].logprob, 0.0f);
    ASSERT_EQ(e.top_logprobs[0].size(), 3u);
    EXPECT_EQ(e.top_logprobs[0][0].token, e.tokens[0]);  // greedy picks the most likely
  }
}

TEST(EngineFake, TextPromptIsTokenized) {
  FakeEngine f = make_fake_engine();
  Request req;
  req.prompt_text = "hello world";
  req.sampling.temperature = 0.0f;
  req.sampling.max_tokens = 4;
  RequestHandle h = f.engine->submit(std::move(req));
  auto r = collect(h);
  const auto ids = f.engine->tokenizer()->encode("hello world", true, true);
  EXPECT_EQ(r[0].final_event.usage.n_prompt_tokens, static_cast<int32_t>(ids.size()));
  EXPECT_EQ(r[0].tokens, fake_greedy(ids, 4));
}

TEST(EngineFake, RejectionsComeBackAtOnceWithAReason) {
  EngineConfig config = small_config();
  config.kv_blocks = 8;  // 128 tokens of KV, context 512
  FakeEngine f = make_fake_engine(config);
  auto rejected = [&](Request req, const std::string& needle) {
    RequestHandle h = f.engine->submit(std::move(req));
    auto e = h.poll();  // already there: no waiting
    ASSERT_TRUE(e.has_value()) << needle;
    EXPECT_TRUE(e->finished);
    EXPECT_EQ(e->finish_reason, FinishReason::rejected);
    EXPECT_NE(e->message.find(needle), std::string::npos) << e->message;
  };
  rejected(greedy_request(letters_prompt(1, 500), 100), "over the context length of 512");
  rejected(greedy_request(letters_prompt(1, 100), 100), "whole KV cache has 8 blocks");
  rejected(greedy_request({}, 10), "prompt is empty");
  rejected(greedy_request({5, 9999}, 10), "outside the vocabulary");
  Request bad = greedy_request({5, 6}, 10);
  bad.sampling.top_p = 0.0f;
  rejected(std::move(bad), "top_p");
  Request no_room;
  no_room.prompt = letters_prompt(2, 128);  // no max_tokens: the KV cache leaves nothing
  rejected(std::move(no_room), "leaves no room");
  Request n3 = greedy_request(letters_prompt(1, 600), 1);
  n3.sampling.n = 3;
  RequestHandle h = f.engine->submit(std::move(n3));
  auto r = collect(h, 1ms);
  ASSERT_EQ(r.size(), 3u);
  for (const auto& c : r) EXPECT_EQ(c.final_event.finish_reason, FinishReason::rejected);
  // A good request still runs afterwards.
  RequestHandle ok = f.engine->submit(greedy_request(letters_prompt(3, 20), 5));
  EXPECT_EQ(collect(ok)[0].tokens, fake_greedy(letters_prompt(3, 20), 5));
}

TEST(EngineFake, DuplicateExplicitIdIsRejected) {
  FakeOptions slow;
  slow.step_delay = 1ms;
  FakeEngine f = make_fake_engine(small_config(), slow);
  Request a = greedy_request(letters_prompt(1, 5), 300);
  a.id = 42;
  Request b = a;
  RequestHandle ha = f.engine->submit(std::move(a));
  ASSERT_TRUE(ha.next_event_for(10s).has_value());
  RequestHandle hb = f.engine->submit(std::move(b));
  auto rb = collect(hb);
  EXPECT_EQ(rb[0].final_event.finish_reason, FinishReason::rejected);
  EXPECT_NE(rb[0].final_event.message.find("already in use"), std::string::npos);
  ha.cancel();
  EXPECT_EQ(collect(ha)[0].final_event.finish_reason, FinishReason::cancelled);
}

TEST(EngineFake, ShutdownDrainsThenRejects) {
  FakeEngine f = make_fake_engine();
  std::vector<RequestHandle> handles;
  for (int i = 0; i < 5; ++i) handles.push_back(f.engine->submit(greedy_request(letters_prompt(50 + i, 10), 20)));
  f.engine->shutdown(30s);
  for (auto& h : handles) {
    auto r = collect(h, 1ms);  // everything is already there
    EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::length);
    EXPECT_EQ(r[0].tokens.size(), 20u);
  }
  RequestHandle late = f.engine->submit(greedy_request(letters_prompt(1, 10), 5));
  auto r = collect(late, 1ms);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::rejected);
  EXPECT_NE(r[0].final_event.message.find("shutting down"), std::string::npos);
  f.engine->stop();  // idempotent after shutdown
}

TEST(EngineFake, ShutdownTimeoutAndStopCancelRunningRequests) {
  FakeOptions slow;
  slow.step_delay = 2ms;
  FakeEngine f = make_fake_engine(small_config(), slow);
  RequestHandle h = f.engine->submit(greedy_request(letters_prompt(1, 10), 400));
  ASSERT_TRUE(h.next_event_for(10s).has_value());
  f.engine->shutdown(20ms);
  auto r = collect(h, 1ms);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::cancelled);

  FakeEngine g = make_fake_engine(small_config(), slow);
  RequestHandle h2 = g.engine->submit(greedy_request(letters_prompt(1, 10), 400));
  ASSERT_TRUE(h2.next_event_for(10s).has_value());
  g.engine->stop();
  EXPECT_EQ(collect(h2, 1ms)[0].final_event.finish_reason, FinishReason::cancelled);
}

TEST(EngineFake, AFailingStepEndsItsRequestsWithAnErrorAndTheEngineGoesOn) {
  FakeOptions failing;
  failing.fail_at_step = 3;
  FakeEngine f = make_fake_engine(small_config(), failing);
  RequestHandle h = f.engine->submit(greedy_request(letters_prompt(1, 10), 50));
  auto r = collect(h);
  EXPECT_EQ(r[0].final_event.finish_reason, FinishReason::error);
  EXPECT_NE(r[0].final_event.message.find("fake device failure"), std::string::npos);
  EXPECT_TRUE(idle(wait_for(f.core(), idle)));
  RequestHandle ok = f.engine->submit(greedy_request(letters_prompt(2, 10), 5));
  EXPECT_EQ(collect(ok)[0].tokens, fake_greedy(letters_prompt(2, 10), 5));
}

TEST(EngineFake, MetricsCountTokensAndFinishedRequests) {
  FakeEngine f = make_fake_engine();
  for (int i = 0; i < 3; ++i) {
    RequestHandle h = f.engine->submit(greedy_request(letters_prompt(60 + i, 10), 7));
    collect(h);
  }
  wait_for(f.core(), idle);
  const std::string text = f.engine->metrics().to_prometheus();
  EXPECT_NE(text.find("ingot_generation_tokens_total 21"), std::string::npos) << text;
  EXPECT_NE(text.find("ingot_requests_finished_total{reason=\"length\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("ingot_time_to_first_token_seconds_count 3"), std::string::npos) << text;
}

TEST(EngineFake, TokenIdsOnlyWithoutATokenizer) {
  FakeEngine f = make_fake_engine(small_config(), {}, /*with_tokenizer=*/false);
  RequestHandle h = f.engine->submit(greedy_request(letters_prompt(70, 10), 6));
  auto r = collect(h);
  EXPECT_EQ(r[0].tokens, fake_greedy(letters_prompt(70, 10), 6));
  EXPECT_EQ(r[0].text, "");
  Request text;
  text.prompt_text = "abc";
  RequestHandle ht = f.engine->submit(std::move(text));
  EXPECT_EQ(collect(ht, 1ms)[0].final_event.finish_reason, FinishReason::rejected);
}

}  // namespace
}  // namespace ingot::engine::test
