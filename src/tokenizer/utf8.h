// UTF-8 helpers for the tokenizers: decoding with the Unicode "maximal subpart" replacement
// rule (what TextDecoder, Python's errors="replace" and Rust's from_utf8_lossy do), encoding,
// and GPT-2's byte <-> printable-character table used by byte-level BPE. All O(n), no
// allocation except the returned strings.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ingot::tokenizer {

inline constexpr uint32_t replacement_char = 0xFFFD;

// Decodes the code point at text[pos] (pos < size). Returns the bytes consumed (1..4) and sets
// cp; an ill-formed sequence yields cp = U+FFFD and consumes its maximal valid prefix (>= 1 byte).
size_t utf8_decode(std::string_view text, size_t pos, uint32_t& cp) noexcept;

void append_utf8(std::string& out, uint32_t cp);

bool is_valid_utf8(std::string_view text) noexcept;

// Replaces every ill-formed subsequence by U+FFFD (maximal subparts); valid text is returned
// unchanged.
std::string make_valid_utf8(std::string_view text);

// Length of the sequence a lead byte announces (1..4), or 0 for a continuation/invalid byte.
size_t utf8_sequence_length(uint8_t lead) noexcept;

// Byte-level BPE: byte b is written as the character byte_to_unicode()[b] (UTF-8).
const std::array<std::string, 256>& byte_to_unicode();
// The inverse: the byte a code point stands for, or -1 when it is not one of the 256.
int unicode_to_byte(uint32_t cp) noexcept;

}  // namespace ingot::tokenizer
