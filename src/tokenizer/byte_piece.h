// Byte-fallback pieces: the value of a "<0xAB>" vocabulary piece (SentencePiece's spelling),
// shared by the SPM/BPE tokenizer and the Unigram encoder. Constant time, no allocation.
#pragma once

#include <string_view>

namespace ingot::tokenizer {

// 0..255 for "<0xHH>" (hex digits in either case), -1 for any other text.
int parse_byte_piece(std::string_view text) noexcept;

}  // namespace ingot::tokenizer
