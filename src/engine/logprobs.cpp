#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ingot::engine {

double log_sum_exp(std::span<const float> logits) {
  float max = -std::numeric_limits<float>::infinity();
  for (const float l : logits) max = std::max(max, l);  // NaN is skipped by max
  if (!std::isfinite(max)) return max;
  double sum = 0.0;
  for (const float l : logits) sum += std::exp(static_cast<double>(l) - max);
  return max + std::log(sum);
}

TokenLogprob token_logprob(std::span<const float> logits, double lse, int32_t token) {
  return {token, static_cast<float>(static_cast<double>(logits[static_cast<size_t>(token)]) - lse)};
}

std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, double lse, int32_t n_top) {
  const auto n = static_cast<size_t>(std::clamp<int64_t>(n_top, 0, static_cast<int64_t>(logits.size())));
  // Keep the best n in a min-heap ordered by (logit, -id): the root is the weakest kept.
  const auto better = [&](int32_t a, int32_t b) {
    const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  std::vector<int32_t> heap;
  heap.reserve(n + 1);
  for (int32_t t = 0; t < static_cast<int32_t>(logits.size()) && n > 0; ++t) {
    if (std::isnan(logits[static_cast<size_t>(t)])) continue;
    if (heap.size() < n) {
      heap.push_back(t);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(t, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = t;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort(heap.begin(), heap.end(), better);
  std::vector<TokenLogprob> out;
  out.reserve(heap.size());
  for (const int32_t t : heap) out.push_back(token_logprob(logits, lse, t));
  return out;
}

int32_t argmax(std::span<const float> logits) {
  int32_t best = 0;
  float best_logit = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > best_logit) {
      best_logit = logits[i];
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

}  // namespace ingot::engine
