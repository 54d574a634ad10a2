// Thread-safe metrics for the Prometheus endpoint: counters, gauges and fixed-bucket
// histograms, registered by name in a MetricsRegistry that renders the text exposition format
// (HELP and TYPE lines, label escaping, cumulative buckets). Updates are lock-free atomics
// (a few ns); registration and rendering take the registry's mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ingot::engine {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  // Raises the counter to `total` when that is higher (mirrors a cumulative count kept elsewhere).
  void advance_to(double total);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: strictly increasing upper bounds; a +Inf bucket is added.
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0.0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 1 ms to 60 s.
std::vector<double> latency_buckets_seconds();

class MetricsRegistry {
 public:
  // The same name + labels returns the same metric; a name reused with another type throws
  // Error(invalid_argument). References stay valid for the registry's lifetime.
  Counter& counter(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const MetricLabels& labels = {});

  // Prometheus text exposition format 0.0.4, families in registration order.
  std::string to_prometheus() const;

 private:
  enum class Kind { counter, gauge, histogram };
  struct Series {
    std::string labels;  // rendered: {a="x",b="y"} or empty
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name, help;
    Kind kind;
    std::vector<Series> series;
  };
  Series& series(const std::string& name, const std::string& help, Kind kind, const MetricLabels& labels);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

}  // namespace ingot::engine
