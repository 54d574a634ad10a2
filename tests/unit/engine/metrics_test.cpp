#include "core/error.h"
#include "engine/engine_metrics.h"
#include "engine/metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace ingot::engine {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry r;
  r.counter("ingot_x_total", "An x\ncounter").inc(3);
  r.gauge("ingot_g", "A gauge", {{"state", "a\"b\\c"}}).set(1.5);
  Histogram& h = r.histogram("ingot_h_seconds", "A histogram", {0.1, 1.0}, {{"kind", "k"}});
  h.observe(0.05);
  h.observe(0.1);  // a bound is inclusive (le)
  h.observe(0.5);
  h.observe(7.0);
  const std::string text = r.to_prometheus();
  EXPECT_EQ(text,
            "# HELP ingot_x_total An x\\ncounter\n"
            "# TYPE ingot_x_total counter\n"
            "ingot_x_total 3\n"
            "# HELP ingot_g A gauge\n"
            "# TYPE ingot_g gauge\n"
            "ingot_g{state=\"a\\\"b\\\\c\"} 1.5\n"
            "# HELP ingot_h_seconds A histogram\n"
            "# TYPE ingot_h_seconds histogram\n"
            "ingot_h_seconds_bucket{kind=\"k\",le=\"0.1\"} 2\n"
            "ingot_h_seconds_bucket{kind=\"k\",le=\"1\"} 3\n"
            "ingot_h_seconds_bucket{kind=\"k\",le=\"+Inf\"} 4\n"
            "ingot_h_seconds_sum{kind=\"k\"} 7.65\n"
            "ingot_h_seconds_count{kind=\"k\"} 4\n");
}

TEST(Metrics, SameNameAndLabelsIsTheSameSeries) {
  MetricsRegistry r;
  Counter& a = r.counter("c_total", "c", {{"k", "1"}});
  Counter& b = r.counter("c_total", "c", {{"k", "1"}});
  Counter& c = r.counter("c_total", "c", {{"k", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  EXPECT_THROW(r.gauge("c_total", "c"), Error);
  EXPECT_THROW(r.counter("bad name", "x"), Error);
  EXPECT_THROW(Histogram({1.0, 1.0}), Error);
  a.advance_to(10);
  a.advance_to(5);  // never goes back
  EXPECT_EQ(a.value(), 10);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry r;
  Counter& c = r.counter("c_total", "c");
  Gauge& g = r.gauge("g", "g");
  Histogram& h = r.histogram("h", "h", latency_buckets_seconds());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        c.inc();
        g.add(1);
        h.observe(0.001 * (i % 100));
        if (i % 5000 == 0) r.counter("c_total", "c", {{"thread", std::to_string(t)}}).inc();
      }
    });
  }
  std::string last;
  for (int i = 0; i < 20; ++i) last = r.to_prometheus();  // rendering while others write
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 80000);
  EXPECT_EQ(g.value(), 80000);
  EXPECT_EQ(h.snapshot().count, 80000u);
  EXPECT_TRUE(contains(r.to_prometheus(), "c_total{thread=\"3\"} 4\n"));
}

TEST(EngineMetrics, ReflectsSchedulerAndKvState) {
  MetricsRegistry r;
  EngineMetrics m(r);
  kv::KvBlockManager kv(8, 4);
  Scheduler s(SchedulerConfig{.max_batch_tokens = 64, .max_seqs = 4, .max_context = 32, .n_reserve_blocks = 0}, kv);
  s.add(1, {1, 2, 3, 4, 5}, 3);
  s.add(2, {1, 2, 3}, 3);
  const StepBatch b = s.schedule();
  m.update(s, kv.stats());
  m.on_finished(FinishReason::length);
  m.on_finished(FinishReason::length);
  const std::string text = r.to_prometheus();
  EXPECT_TRUE(contains(text, "# TYPE ingot_requests_running gauge\ningot_requests_running 2\n"));
  EXPECT_TRUE(contains(text, "ingot_kv_blocks{state=\"used\"} 3\n"));
  EXPECT_TRUE(contains(text, "ingot_kv_blocks{state=\"free\"} 5\n"));
  EXPECT_TRUE(contains(text, "ingot_kv_blocks_capacity 8\n"));
  EXPECT_TRUE(contains(text, "ingot_computed_tokens_total 8\n"));
  EXPECT_TRUE(contains(text, "ingot_requests_finished_total{reason=\"length\"} 2\n"));
  EXPECT_TRUE(contains(text, "ingot_requests_finished_total{reason=\"stop\"} 0\n"));
  EXPECT_TRUE(contains(text, "# TYPE ingot_time_to_first_token_seconds histogram\n"));
  EXPECT_TRUE(contains(text, "ingot_preemptions_total 0\n"));
  EXPECT_EQ(b.n_rows(), 8);
}

}  // namespace
}  // namespace ingot::engine
