#include "chat/text.h"

namespace ingot::chat {

uint32_t decode_code_point(std::string_view text, size_t offset, size_t* length) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(offset);
  size_t n = 0;
  uint32_t cp = 0;
  if (lead < 0x80) {
    *length = 1;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    n = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    n = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    n = 4;
    cp = lead & 0x07;
  } else {
    *length = 1;
    return lead;
  }
  if (offset + n > text.size()) {
    *length = 1;
    return lead;
  }
  for (size_t i = 1; i < n; ++i) {
    if ((byte(offset + i) & 0xC0) != 0x80) {
      *length = 1;
      return lead;
    }
    cp = (cp << 6) | (byte(offset + i) & 0x3F);
  }
  *length = n;
  return cp;
}

std::vector<size_t> code_point_offsets(std::string_view text) {
  std::vector<size_t> offsets;
  offsets.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    offsets.push_back(i);
    size_t length = 1;
    decode_code_point(text, i, &length);
    i += length;
  }
  return offsets;
}

size_t code_point_count(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    size_t length = 1;
    decode_code_point(text, i, &length);
    i += length;
    ++count;
  }
  return count;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_unicode_space(uint32_t cp) {
  switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

// The byte length of the code point that ends at `end` (walking back over continuation bytes).
size_t last_code_point(std::string_view text, size_t end, uint32_t* cp) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  size_t length = 1;
  *cp = decode_code_point(text, start, &length);
  if (start + length != end) {  // not a well-formed sequence: treat the last byte alone
    *cp = static_cast<unsigned char>(text[end - 1]);
    return 1;
  }
  return length;
}

template <typename Pred>
std::string_view strip_if(std::string_view text, bool left, bool right, Pred pred) {
  size_t begin = 0, end = text.size();
  if (left) {
    while (begin < end) {
      size_t length = 1;
      if (!pred(decode_code_point(text, begin, &length))) break;
      begin += length;
    }
  }
  if (right) {
    while (end > begin) {
      uint32_t cp = 0;
      const size_t length = last_code_point(text, end, &cp);
      if (!pred(cp)) break;
      end -= length;
    }
  }
  return text.substr(begin, end - begin);
}

}  // namespace

std::string_view trim_left(std::string_view text) { return strip_if(text, true, false, is_unicode_space); }
std::string_view trim_right(std::string_view text) { return strip_if(text, false, true, is_unicode_space); }
std::string_view trim(std::string_view text) { return strip_if(text, true, true, is_unicode_space); }

std::string_view strip_chars(std::string_view text, std::string_view chars, bool left, bool right) {
  std::vector<uint32_t> set;
  for (size_t i = 0; i < chars.size();) {
    size_t length = 1;
    set.push_back(decode_code_point(chars, i, &length));
    i += length;
  }
  return strip_if(text, left, right, [&](uint32_t cp) {
    for (uint32_t c : set) {
      if (c == cp) return true;
    }
    return false;
  });
}

std::string to_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string capitalize(std::string_view text) {
  std::string out = to_lower(text);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string title_case(std::string_view text) {
  std::string out(text);
  bool word_start = true;
  for (char& c : out) {
    const bool lower = c >= 'a' && c <= 'z';
    const bool upper = c >= 'A' && c <= 'Z';
    const bool alnum = lower || upper || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
    if (word_start && lower) c = static_cast<char>(c - 'a' + 'A');
    if (!word_start && upper) c = static_cast<char>(c - 'A' + 'a');
    word_start = !alnum;
  }
  return out;
}

}  // namespace ingot::chat
