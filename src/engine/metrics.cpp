#include "engine/metrics.h"

#include "core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ingot::engine {

void Counter::advance_to(double total) {
  double current = value_.load(std::memory_order_relaxed);
  while (total > current && !value_.compare_exchange_weak(current, total, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  for (size_t i = 1; i < bounds_.size(); ++i) {
    if (!(bounds_[i - 1] < bounds_[i])) fail(ErrorCode::invalid_argument, "histogram bounds must increase strictly");
  }
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  const size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;  // from the buckets, so +Inf and _count always agree
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> latency_buckets_seconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
          1.0,   2.5,    5.0,   10.0, 20.0,  30.0, 60.0};
}

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(const std::string& v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

bool valid_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
  });
}

std::string render_labels(const MetricLabels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!valid_name(labels[i].first)) fail(ErrorCode::invalid_argument, "bad metric label name '{}'", labels[i].first);
    out += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, escape_label(labels[i].second));
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// `labels` ({a="x"} or empty) with one more label appended.
std::string with_label(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return "{" + extra + "}";
  return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

}  // namespace

MetricsRegistry::Series& MetricsRegistry::series(const std::string& name, const std::string& help, Kind kind,
                                                 const MetricLabels& labels) {
  if (!valid_name(name)) fail(ErrorCode::invalid_argument, "bad metric name '{}'", name);
  const std::string rendered = render_labels(labels);
  Family* family = nullptr;
  for (auto& f : families_) {
    if (f->name == name) family = f.get();
  }
  if (family == nullptr) {
    families_.push_back(std::make_unique<Family>(Family{name, help, kind, {}}));
    family = families_.back().get();
  } else if (family->kind != kind) {
    fail(ErrorCode::invalid_argument, "metric '{}' is already registered with another type", name);
  }
  for (auto& s : family->series) {
    if (s.labels == rendered) return s;
  }
  family->series.push_back(Series{rendered, nullptr, nullptr, nullptr});
  return family->series.back();
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  Series& s = series(name, help, Kind::counter, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  Series& s = series(name, help, Kind::gauge, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                      const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  Series& s = series(name, help, Kind::histogram, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

std::string MetricsRegistry::to_prometheus() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& f : families_) {
    static constexpr const char* kTypes[] = {"counter", "gauge", "histogram"};
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f->name, escape_help(f->help), f->name,
                       kTypes[static_cast<int>(f->kind)]);
    for (const Series& s : f->series) {
      if (s.counter) out += fmt::format("{}{} {}\n", f->name, s.labels, number(s.counter->value()));
      if (s.gauge) out += fmt::format("{}{} {}\n", f->name, s.labels, number(s.gauge->value()));
      if (s.histogram) {
        const Histogram::Snapshot snap = s.histogram->snapshot();
        for (size_t i = 0; i < snap.cumulative.size(); ++i) {
          const std::string le = i < snap.bounds.size() ? number(snap.bounds[i]) : "+Inf";
          out += fmt::format("{}_bucket{} {}\n", f->name, with_label(s.labels, "le=\"" + le + "\""), snap.cumulative[i]);
        }
        out += fmt::format("{}_sum{} {}\n", f->name, s.labels, number(snap.sum));
        out += fmt::format("{}_count{} {}\n", f->name, s.labels, snap.count);
      }
    }
  }
  return out;
}

}  // namespace ingot::engine
