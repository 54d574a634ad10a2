// Unicode Normalization Form C (canonical decomposition, canonical ordering, canonical
// composition), for tokenizers whose Hugging Face normalizer is NFC (Qwen 2/3). Text that
// passes the quick check (one bit per code point) is returned as is; otherwise O(n) with a
// binary search per non-ASCII code point in tables of ~2,000 entries. Input must be valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace ingot::tokenizer {

std::string to_nfc(std::string_view text);
// True when to_nfc(text) could differ from text (a quick check: a bit per code point).
bool may_need_nfc(std::string_view text) noexcept;
// The Unicode version of the tables.
const char* nfc_unicode_version() noexcept;

}  // namespace ingot::tokenizer
