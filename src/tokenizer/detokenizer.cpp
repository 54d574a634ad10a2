#include "tokenizer/detokenizer.h"

#include "tokenizer/utf8.h"

namespace ingot::tokenizer {

namespace {

bool strips_first_space(const Tokenizer& t) {
  return t.vocab().model != VocabModel::bpe && t.vocab().add_space_prefix;
}

// Where an incomplete but so-far valid UTF-8 sequence starts at the end of `s`, or s.size().
size_t incomplete_tail(const std::string& s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const size_t i = n - back;
    const auto lead = static_cast<uint8_t>(s[i]);
    if ((lead & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const size_t need = utf8_sequence_length(lead);
    if (need <= back) return n;  // complete (or invalid, which flush-free repair handles)
    uint32_t cp;
    const size_t len = utf8_decode(s, i, cp);
    return len == back ? i : n;  // all trailing bytes are a valid prefix: hold them
  }
  return n;
}

}  // namespace

Detokenizer::Detokenizer(const Tokenizer& tokenizer, bool render_special)
    : tokenizer_(&tokenizer), render_special_(render_special), strip_pending_(strips_first_space(tokenizer)) {}

std::string Detokenizer::push(TokenId id) {
  std::string piece = tokenizer_->token_to_piece(id, render_special_);
  if (piece.empty()) return {};
  if (strip_pending_ && !emitted_anything_ && pending_.empty() && piece[0] == ' ') piece.erase(0, 1);
  strip_pending_ = false;
  pending_ += piece;
  const size_t cut = incomplete_tail(pending_);
  std::string out = make_valid_utf8(std::string_view(pending_).substr(0, cut));
  pending_.erase(0, cut);
  if (!out.empty()) emitted_anything_ = true;
  return out;
}

std::string Detokenizer::flush() {
  std::string out = make_valid_utf8(pending_);
  pending_.clear();
  if (!out.empty()) emitted_anything_ = true;
  return out;
}

void Detokenizer::reset() {
  strip_pending_ = strips_first_space(*tokenizer_);
  emitted_anything_ = false;
  pending_.clear();
}

}  // namespace ingot::tokenizer
