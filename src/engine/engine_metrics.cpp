#include "engine/engine_metrics.h"

#include <string>

namespace ingot::engine {

EngineMetrics::EngineMetrics(MetricsRegistry& r)
    : requests_waiting(r.gauge("ingot_requests_waiting", "Requests queued, not yet admitted")),
      requests_running(r.gauge("ingot_requests_running", "Requests admitted and generating")),
      kv_blocks_capacity(r.gauge("ingot_kv_blocks_capacity", "KV cache blocks in the pool")),
      kv_blocks_used(r.gauge("ingot_kv_blocks", "KV cache blocks by state", {{"state", "used"}})),
      kv_blocks_cached(r.gauge("ingot_kv_blocks", "KV cache blocks by state", {{"state", "cached"}})),
      kv_blocks_free(r.gauge("ingot_kv_blocks", "KV cache blocks by state", {{"state", "free"}})),
      prefix_cache_queried_tokens(r.counter("ingot_prefix_cache_queried_tokens_total",
                                            "Prompt tokens looked up in the prefix cache")),
      prefix_cache_hit_tokens(r.counter("ingot_prefix_cache_hit_tokens_total",
                                        "Prompt tokens whose KV came from the prefix cache")),
      preemptions(r.counter("ingot_preemptions_total", "Sequences preempted for lack of KV blocks (recomputed later)")),
      prompt_tokens(r.counter("ingot_prompt_tokens_total", "Prompt tokens of admitted requests")),
      generation_tokens(r.counter("ingot_generation_tokens_total", "Tokens generated")),
      computed_tokens(r.counter("ingot_computed_tokens_total", "Tokens run through the model, recomputation included")),
      time_to_first_token(r.histogram("ingot_time_to_first_token_seconds", "Time from arrival to the first token",
                                      latency_buckets_seconds())),
      inter_token_latency(r.histogram("ingot_inter_token_latency_seconds", "Time between consecutive tokens of a request",
                                      latency_buckets_seconds())),
      request_duration(r.histogram("ingot_request_duration_seconds", "Time from arrival to the last token",
                                   latency_buckets_seconds())),
      registry_(r) {
  for (const FinishReason reason : {FinishReason::stop, FinishReason::length, FinishReason::cancelled,
                                    FinishReason::rejected, FinishReason::error}) {
    on_finished_counter(reason);
  }
}

Counter& EngineMetrics::on_finished_counter(FinishReason reason) {
  return registry_.counter("ingot_requests_finished_total", "Requests finished, by reason",
                           {{"reason", std::string(to_string(reason))}});
}

void EngineMetrics::on_finished(FinishReason reason) { on_finished_counter(reason).inc(); }

void EngineMetrics::update(const Scheduler& scheduler, const kv::KvStats& kv) {
  requests_waiting.set(static_cast<double>(scheduler.n_waiting()));
  requests_running.set(static_cast<double>(scheduler.n_running()));
  kv_blocks_capacity.set(kv.n_total);
  kv_blocks_used.set(kv.n_used);
  kv_blocks_cached.set(kv.n_cached_free);
  kv_blocks_free.set(kv.n_free);
  prefix_cache_queried_tokens.advance_to(static_cast<double>(kv.n_prefix_queried_tokens));
  prefix_cache_hit_tokens.advance_to(static_cast<double>(kv.n_prefix_hit_tokens));
  preemptions.advance_to(static_cast<double>(scheduler.stats().n_preemptions));
  computed_tokens.advance_to(
      static_cast<double>(scheduler.stats().n_prompt_tokens_computed + scheduler.stats().n_decode_tokens));
}

}  // namespace ingot::engine
