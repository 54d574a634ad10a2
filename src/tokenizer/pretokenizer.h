// Regex pre-tokenizers of byte-level BPE, chosen by `tokenizer.ggml.pre`. Each is a sequence
// of PCRE2 patterns (UTF + UCP, JIT-compiled once); every pattern splits each piece of the
// previous step into its matches and the gaps between them (Hugging Face's "Isolated" split).
// Splitting allocates only the returned offset vector. Thread-safe after construction.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ingot::tokenizer {

// [begin, end) byte offsets of one piece in the split text.
using Span = std::pair<size_t, size_t>;

class PreTokenizer {
 public:
  // Throws Error(unsupported) naming `pre` when it is not a known pre-tokenizer name.
  explicit PreTokenizer(std::string_view pre);
  // A custom sequence of patterns (tests, experiments).
  explicit PreTokenizer(const std::vector<std::string>& patterns);
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;

  // Splits valid UTF-8 text into pieces that cover it exactly, in order. Appends to `out`.
  void split(std::string_view text, std::vector<Span>& out) const;

  // The patterns of a known pre-tokenizer name, or an empty list when it is not known.
  static std::vector<std::string> patterns_for(std::string_view pre);
  // All names patterns_for() knows (for messages and tests).
  static std::vector<std::string_view> known_names();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ingot::tokenizer
