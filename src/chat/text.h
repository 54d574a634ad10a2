// UTF-8 text helpers for the template interpreter: code-point iteration (string length, slices
// and indexing count code points, as Python does), Unicode whitespace trimming (JavaScript's
// String#trim set), and case mapping (ASCII letters only). All are linear in the text length.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::chat {

// The byte offsets at which each code point of `text` starts (invalid bytes count as one each).
std::vector<size_t> code_point_offsets(std::string_view text);
size_t code_point_count(std::string_view text);
// Decodes the code point at `offset`; `length` receives its byte length (1 for invalid bytes).
uint32_t decode_code_point(std::string_view text, size_t offset, size_t* length);
void append_utf8(std::string& out, uint32_t code_point);

bool is_unicode_space(uint32_t code_point);
std::string_view trim_left(std::string_view text);   // Unicode whitespace
std::string_view trim_right(std::string_view text);  // Unicode whitespace
std::string_view trim(std::string_view text);
// Strips any of the code points in `chars` from the given ends (Python str.strip(chars)).
std::string_view strip_chars(std::string_view text, std::string_view chars, bool left, bool right);

std::string to_upper(std::string_view text);
std::string to_lower(std::string_view text);
std::string capitalize(std::string_view text);  // first letter upper, the rest lower
std::string title_case(std::string_view text);  // upper after any non-alphanumeric

}  // namespace ingot::chat
