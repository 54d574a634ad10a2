// Streaming detokenizer: turns token ids into text one at a time for streamed output. It never
// emits half a UTF-8 sequence (an incomplete tail waits for the next token, at most 3 bytes),
// replaces bytes that can never form a character with U+FFFD, and applies SentencePiece's
// leading-space rule like Tokenizer::decode. O(piece) per token; one per stream, not shared.
#pragma once

#include "tokenizer/tokenizer.h"

#include <string>

namespace ingot::tokenizer {

class Detokenizer {
 public:
  explicit Detokenizer(const Tokenizer& tokenizer, bool render_special = false);

  // The text that became complete with this token (valid UTF-8, possibly empty).
  std::string push(TokenId id);
  // What is still held back at the end of the stream (an incomplete sequence becomes U+FFFD).
  std::string flush();
  // Forget everything, as for a new stream.
  void reset();

 private:
  const Tokenizer* tokenizer_;
  bool render_special_;
  bool strip_pending_;
  bool emitted_anything_ = false;
  std::string pending_;
};

}  // namespace ingot::tokenizer
