// The metrics ingot exports (queue, KV blocks, prefix cache, preemptions, token counters,
// latency histograms, finished requests by reason), registered on a MetricsRegistry. The
// engine thread updates them once per step; the server renders them from its own thread.
#pragma once

#include "engine/metrics.h"
#include "engine/scheduler.h"
#include "ingot/request.h"
#include "kv/block_manager.h"

namespace ingot::engine {

class EngineMetrics {
 public:
  explicit EngineMetrics(MetricsRegistry& registry);

  // Gauges and cumulative counters from the scheduler and KV manager (call once per step).
  void update(const Scheduler& scheduler, const kv::KvStats& kv);
  void on_finished(FinishReason reason);

  Gauge& requests_waiting;
  Gauge& requests_running;
  Gauge& kv_blocks_capacity;
  Gauge& kv_blocks_used;
  Gauge& kv_blocks_cached;
  Gauge& kv_blocks_free;
  Counter& prefix_cache_queried_tokens;
  Counter& prefix_cache_hit_tokens;
  Counter& preemptions;
  Counter& prompt_tokens;       // prompt tokens of admitted requests (rate() = prompt tokens/s)
  Counter& generation_tokens;   // tokens sampled (rate() = generation tokens/s)
  Counter& computed_tokens;     // rows run through the model, prefill and recompute included
  Histogram& time_to_first_token;
  Histogram& inter_token_latency;
  Histogram& request_duration;

 private:
  Counter& on_finished_counter(FinishReason reason);
  MetricsRegistry& registry_;
};

}  // namespace ingot::engine
