#include "engine/sampler.h"

#include "core/error.h"
#include "engine/logprobs.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ingot::engine {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab, std::span<const int32_t> prompt,
                 std::vector<int32_t> eog_tokens, uint64_t seed)
    : params_(params), n_vocab_(n_vocab), rng_(seed), seed_(seed) {
  if (n_vocab <= 0) fail(ErrorCode::invalid_argument, "sampler: vocabulary size must be positive, got {}", n_vocab);
  validate(params_, n_vocab);
  if (!params_.ignore_eos) suppressed_ = std::move(eog_tokens);
  suppressed_.insert(suppressed_.end(), params_.stop_token_ids.begin(), params_.stop_token_ids.end());
  std::erase_if(suppressed_, [&](int32_t t) { return t < 0 || t >= n_vocab; });
  if (params_.penalize_prompt) {
    for (const int32_t t : prompt) {
      if (t >= 0 && t < n_vocab) remember(t);
    }
  }
}

uint64_t Sampler::seed_for(const SamplingParams& params, int32_t choice, uint64_t fallback) {
  if (!params.seed) return fallback + static_cast<uint64_t>(choice) * 0x9e3779b97f4a7c15ull;
  return *params.seed + static_cast<uint64_t>(choice) * 0x9e3779b97f4a7c15ull;
}

void Sampler::remember(int32_t token) {
  history_.push_back(token);
  ++counts_[token];
  if (params_.penalty_last_n > 0 && history_.size() - window_start_ > static_cast<size_t>(params_.penalty_last_n)) {
    const int32_t old = history_[window_start_++];
    if (--counts_[old] == 0) counts_.erase(old);
  }
  if (window_start_ > 4096 && window_start_ * 2 > history_.size()) {  // keep the history bounded
    history_.erase(history_.begin(), history_.begin() + static_cast<ptrdiff_t>(window_start_));
    window_start_ = 0;
  }
}

bool Sampler::modifies_logits() const {
  const bool penalties = !counts_.empty() && (params_.repetition_penalty != 1.0f ||
                                              params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f);
  const bool suppress = n_generated_ < params_.min_tokens && !suppressed_.empty();
  return penalties || suppress || !params_.logit_bias.empty();
}

void Sampler::apply_modifiers(std::span<float> logits) const {
  for (const auto& [token, bias] : params_.logit_bias) logits[static_cast<size_t>(token)] += bias;
  if (n_generated_ < params_.min_tokens) {
    for (const int32_t t : suppressed_) logits[static_cast<size_t>(t)] = kNegInf;
  }
  const float r = params_.repetition_penalty;
  for (const auto& [token, count] : counts_) {
    float& l = logits[static_cast<size_t>(token)];
    if (r != 1.0f) l = l > 0.0f ? l / r : l * r;
    l -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(count);
  }
}

// The smallest number of most likely candidates whose mass reaches `target`, moved to the
// front of candidates_ (in no particular order). Quickselect on mass: expected O(n).
size_t Sampler::nucleus_size(double target) {
  const auto by_prob = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  // Invariant: the answer is in (lo, hi]; [0, lo) are the lo most likely, with mass `above`.
  size_t lo = 0, hi = candidates_.size();
  double above = 0.0;
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    const auto first = candidates_.begin();
    std::nth_element(first + static_cast<ptrdiff_t>(lo), first + static_cast<ptrdiff_t>(mid),
                     first + static_cast<ptrdiff_t>(hi), by_prob);
    double mass = 0.0;
    for (size_t i = lo; i < mid; ++i) mass += candidates_[i].first;
    if (above + mass >= target) {
      hi = mid;
    } else {
      above += mass;
      lo = mid;
    }
  }
  return hi;
}

// Collects tokens whose probability relative to the most likely one, exp((l - max) / T), is at
// least `cutoff` into candidates_; returns the mass of those at least min_p (the min-p set).
double Sampler::collect(std::span<const float> logits, float max, float cutoff) {
  const float inv_t = 1.0f / params_.temperature;
  candidates_.clear();
  double mass = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!(logits[i] > kNegInf)) continue;  // -inf and NaN
    const float p = std::exp((logits[i] - max) * inv_t);
    if (p < params_.min_p) continue;
    mass += p;
    if (p >= cutoff) candidates_.emplace_back(p, static_cast<int32_t>(i));
  }
  return mass;
}

// min-p, top-k and top-p on temperature-scaled probabilities, then one draw. When top-k or
// top-p is on, a first pass keeps only tokens at least 1e-4 as likely as the best; the result
// is exact whenever that set holds the top k and the nucleus, else a full pass redoes it.
int32_t Sampler::draw(std::span<const float> logits) {
  float max = kNegInf;
  for (const float l : logits) max = std::max(max, l);  // NaN never wins
  if (!(max > kNegInf)) fail(ErrorCode::internal, "sampler: every logit is -inf or NaN");
  const bool top_k = params_.top_k > 0, top_p = params_.top_p < 1.0f;
  const float prefilter = std::max(params_.min_p, 1e-4f);
  double set_mass = collect(logits, max, top_k || top_p ? prefilter : 0.0f);
  const auto exact = [&] {
    if (top_k) return candidates_.size() >= static_cast<size_t>(params_.top_k);
    if (!top_p) return true;
    double kept = 0.0;
    for (const auto& c : candidates_) kept += c.first;
    return kept >= params_.top_p * set_mass;
  };
  if (prefilter > params_.min_p && (top_k || top_p) && !exact()) set_mass = collect(logits, max, params_.min_p);
  if (top_k && static_cast<size_t>(params_.top_k) < candidates_.size()) {
    const auto by_prob = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    const auto kth = candidates_.begin() + params_.top_k;
    std::nth_element(candidates_.begin(), kth - 1, candidates_.end(), by_prob);
    candidates_.erase(kth, candidates_.end());
  }
  if (top_k) {  // top-p applies to the top-k set
    set_mass = 0.0;
    for (const auto& c : candidates_) set_mass += c.first;
  }
  if (top_p) candidates_.resize(nucleus_size(params_.top_p * set_mass));
  double total = 0.0;
  for (const auto& c : candidates_) total += c.first;
  const double u = rng_.uniform() * total;
  double cumulative = 0.0;
  for (const auto& c : candidates_) {
    cumulative += c.first;
    if (u < cumulative) return c.second;
  }
  return candidates_.back().second;
}

SampleResult Sampler::sample(std::span<const float> logits) {
  if (logits.size() != static_cast<size_t>(n_vocab_)) {
    fail(ErrorCode::internal, "sampler: {} logits for a vocabulary of {}", logits.size(), n_vocab_);
  }
  std::span<const float> used = logits;
  if (modifies_logits()) {
    work_.assign(logits.begin(), logits.end());
    apply_modifiers(work_);
    used = work_;
  }
  SampleResult r;
  r.token = params_.is_greedy() ? argmax(used) : draw(used);
  if (params_.logprobs || params_.top_logprobs > 0) {
    const double lse = log_sum_exp(logits);
    r.logprob = token_logprob(logits, lse, r.token);
    r.top = top_logprobs(logits, lse, params_.top_logprobs);
  }
  ++n_generated_;
  remember(r.token);
  return r;
}

void Sampler::device_row(int32_t logit_row, backend::SampleBatch& batch) const {
  backend::SampleRow row;
  row.logit_row = logit_row;
  row.temperature = params_.is_greedy() ? 0.0f : params_.temperature;
  row.top_k = params_.top_k >= n_vocab_ ? 0 : params_.top_k;
  row.top_p = params_.top_p;
  row.min_p = params_.min_p;
  row.repetition_penalty = params_.repetition_penalty;
  row.presence_penalty = params_.presence_penalty;
  row.frequency_penalty = params_.frequency_penalty;
  row.seed = seed_;
  row.counter = static_cast<uint64_t>(n_generated_);
  row.n_top_logprobs = params_.top_logprobs;
  row.want_logprob = params_.logprobs || params_.top_logprobs > 0 ? 1 : 0;
  row.mods_begin = static_cast<int32_t>(batch.mods.size());
  // One entry per token, in the order apply_modifiers() applies them.
  std::unordered_map<int32_t, size_t> at;
  auto entry = [&](int32_t token) -> backend::SampleMod& {
    const auto [it, fresh] = at.try_emplace(token, batch.mods.size());
    if (fresh) {
      batch.mods.emplace_back();
      batch.mods.back().token = token;
    }
    return batch.mods[it->second];
  };
  for (const auto& [token, bias] : params_.logit_bias) entry(token).bias += bias;
  if (n_generated_ < params_.min_tokens) {
    for (const int32_t t : suppressed_) entry(t).banned = 1;
  }
  const bool penalties = params_.repetition_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                         params_.frequency_penalty != 0.0f;
  if (penalties) {
    for (const auto& [token, count] : counts_) entry(token).count = count;
  }
  row.mods_count = static_cast<int32_t>(batch.mods.size()) - row.mods_begin;
  batch.rows.push_back(row);
}

SampleResult Sampler::accept(const backend::SampledToken& picked) {
  if (picked.token < 0 || picked.token >= n_vocab_) {
    fail(ErrorCode::internal, "sampler: every logit is -inf or NaN (device pick {})", picked.token);
  }
  SampleResult r;
  r.token = picked.token;
  if (params_.logprobs || params_.top_logprobs > 0) {
    r.logprob = {picked.token, picked.logprob};
    const int32_t n = std::clamp(picked.n_top, 0, backend::kMaxTopLogprobs);
    for (int32_t i = 0; i < n; ++i) r.top.push_back({picked.top_token[i], picked.top_logprob[i]});
  }
  ++n_generated_;
  remember(r.token);
  return r;
}

}  // namespace ingot::engine
