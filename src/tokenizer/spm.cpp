#include "tokenizer/spm.h"

#include "tokenizer/utf8.h"

#include <queue>

namespace ingot::tokenizer {

namespace {

struct Symbol {
  int32_t prev;
  int32_t next;
  size_t offset;
  size_t length;  // 0 once merged into its left neighbour
};

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  size_t length;
  bool operator<(const Bigram& o) const noexcept {  // priority_queue top = highest score, then leftmost
    return score != o.score ? score < o.score : left > o.left;
  }
};

class Session {
 public:
  Session(const SpmContext& ctx, std::string_view text) : ctx_(ctx), text_(text) {}

  void run(std::vector<TokenId>& out) {
    size_t offset = 0;
    int32_t index = 0;
    while (offset < text_.size()) {
      size_t len = utf8_sequence_length(static_cast<uint8_t>(text_[offset]));
      if (len == 0) len = 1;
      len = std::min(len, text_.size() - offset);
      symbols_.push_back({index - 1, offset + len == text_.size() ? -1 : index + 1, offset, len});
      offset += len;
      ++index;
    }
    for (int32_t i = 1; i < static_cast<int32_t>(symbols_.size()); ++i) try_add(i - 1, i);
    while (!queue_.empty()) {
      const Bigram b = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[b.left];
      Symbol& right = symbols_[b.right];
      if (left.length == 0 || right.length == 0 || left.length + right.length != b.length) continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = b.left;
      try_add(left.prev, b.left);
      try_add(b.left, left.next);
    }
    for (int32_t i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) resegment(i, out);
  }

 private:
  std::string_view text_of(const Symbol& s) const { return text_.substr(s.offset, s.length); }

  void try_add(int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const std::string_view joined = text_.substr(symbols_[left].offset, symbols_[left].length + symbols_[right].length);
    const TokenId id = ctx_.find_id(joined);
    if (id == no_token) return;
    const float score = ctx_.scores && !ctx_.scores->empty() ? (*ctx_.scores)[id] : 0.0f;
    queue_.push({score, left, right, joined.size()});
  }

  // Every merged symbol is a token by construction; only single characters missing from the
  // vocabulary are left, and they fall back to byte tokens (or unk when a byte token is absent).
  void resegment(int32_t index, std::vector<TokenId>& out) {
    const std::string_view text = text_of(symbols_[index]);
    const TokenId id = ctx_.find_id(text);
    if (id != no_token) {
      out.push_back(id);
      return;
    }
    for (char c : text) {
      const TokenId b = ctx_.byte_tokens[static_cast<uint8_t>(c)];
      if (b != no_token) {
        out.push_back(b);
      } else if (ctx_.unk != no_token) {
        out.push_back(ctx_.unk);
      }
    }
  }

  const SpmContext& ctx_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Bigram> queue_;
};

}  // namespace

void spm_encode(const SpmContext& ctx, std::string_view text, std::vector<TokenId>& out) {
  Session(ctx, text).run(out);
}

}  // namespace ingot::tokenizer
