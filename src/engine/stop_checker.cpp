#include "engine/stop_checker.h"

#include <algorithm>

namespace ingot::engine {

StopChecker::StopChecker(const SamplingParams& params, std::vector<int32_t> eog_tokens)
    : stop_strings_(params.stop), max_tokens_(params.max_tokens), min_tokens_(params.min_tokens) {
  if (!params.ignore_eos) stop_tokens_ = std::move(eog_tokens);
  stop_tokens_.insert(stop_tokens_.end(), params.stop_token_ids.begin(), params.stop_token_ids.end());
  std::erase_if(stop_strings_, [](const std::string& s) { return s.empty(); });
}

bool StopChecker::is_stop_token(int32_t token) const {
  return std::find(stop_tokens_.begin(), stop_tokens_.end(), token) != stop_tokens_.end();
}

size_t StopChecker::held_suffix_length(std::string_view text) const {
  size_t best = 0;
  for (const std::string& s : stop_strings_) {
    for (size_t len = std::min(s.size() - 1, text.size()); len > best; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        best = len;
        break;
      }
    }
  }
  return best;
}

StopStep StopChecker::on_token(int32_t token, std::string_view piece) {
  StopStep step;
  const bool may_stop = n_generated_ >= min_tokens_;  // tokens before this one
  ++n_generated_;
  if (may_stop && is_stop_token(token)) {  // the stop token's own text is not output
    step.text = flush();
    step.finish = FinishReason::stop;
    return step;
  }
  std::string buffer = std::move(held_);
  held_.clear();
  buffer.append(piece);
  if (may_stop) {
    size_t first = std::string::npos;
    for (const std::string& s : stop_strings_) {
      const size_t at = buffer.find(s);
      if (at < first) {
        first = at;
        step.matched_stop = s;
      }
    }
    if (first != std::string::npos) {
      buffer.resize(first);
      step.text = std::move(buffer);
      step.finish = FinishReason::stop;
      return step;
    }
  }
  const size_t n_hold = held_suffix_length(buffer);
  held_ = buffer.substr(buffer.size() - n_hold);
  buffer.resize(buffer.size() - n_hold);
  step.text = std::move(buffer);
  if (max_tokens_ && n_generated_ >= *max_tokens_) {
    step.text += flush();
    step.finish = FinishReason::length;
  }
  return step;
}

std::string StopChecker::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace ingot::engine
