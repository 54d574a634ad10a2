#include "tokenizer/spm_segments.h"

#include <algorithm>

namespace ingot::tokenizer {

namespace {

constexpr std::string_view spm_space = "\xE2\x96\x81";  // ▁
// More tokens than this spanning an inner ▁ and cut tests would cost more than they save.
constexpr size_t max_crossings = 4096;

// A cut candidate: a ▁ at `pos` > 0 whose previous character is not ▁. (▁ is E2 96 81; in
// valid UTF-8 those three bytes before `pos` can only be a whole ▁.)
bool is_candidate(std::string_view text, size_t pos) noexcept {
  if (pos == 0 || text.compare(pos, spm_space.size(), spm_space) != 0) return false;
  return pos < spm_space.size() || text.compare(pos - spm_space.size(), spm_space.size(), spm_space) != 0;
}

}  // namespace

void SpmSegmenter::build(const Vocab& vocab, const MergeTable& merges, const std::vector<TokenId>& fallback_ids) {
  enabled_ = false;
  crossings_.clear();
  last_byte_.fill(false);
  if (merges.empty()) return;
  std::vector<bool> is_fallback(vocab.n_tokens(), false);
  for (TokenId id : fallback_ids) {
    if (id >= 0 && static_cast<size_t>(id) < vocab.n_tokens()) is_fallback[id] = true;
  }
  if (merges.any_pair([&](TokenId left, TokenId right) { return is_fallback[left] || is_fallback[right]; })) {
    return;
  }
  for (const std::string& token : vocab.tokens) {
    for (size_t pos = token.find(spm_space, 1); pos != std::string::npos; pos = token.find(spm_space, pos + 1)) {
      if (!is_candidate(token, pos)) continue;
      if (crossings_.size() == max_crossings) {
        crossings_.clear();
        return;
      }
      crossings_.push_back({token.substr(0, pos), token.substr(pos)});
      last_byte_[static_cast<uint8_t>(token[pos - 1])] = true;
    }
  }
  enabled_ = true;
}

bool SpmSegmenter::safe_cut(std::string_view text, size_t pos) const noexcept {
  if (!last_byte_[static_cast<uint8_t>(text[pos - 1])]) return true;
  for (const Crossing& c : crossings_) {
    if (c.before.size() <= pos && text.size() - pos >= c.after.size() &&
        text.compare(pos - c.before.size(), c.before.size(), c.before) == 0 &&
        text.compare(pos, c.after.size(), c.after) == 0) {
      return false;
    }
  }
  return true;
}

void SpmSegmenter::split(std::string_view text, std::vector<size_t>& ends) const {
  if (enabled_) {
    for (size_t pos = text.find(spm_space, 1); pos != std::string_view::npos;
         pos = text.find(spm_space, pos + spm_space.size())) {
      if (is_candidate(text, pos) && safe_cut(text, pos)) ends.push_back(pos);
    }
  }
  ends.push_back(text.size());
}

}  // namespace ingot::tokenizer
