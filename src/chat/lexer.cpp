#include "chat/lexer.h"

#include "chat/text.h"
#include "core/error.h"

#include <algorithm>

namespace ingot::chat {
namespace {

// Template text after the environment's whitespace rules, with the original offset of each byte.
struct Source {
  std::string text;
  std::vector<uint32_t> origin;

  void push(char c, uint32_t at) {
    text += c;
    origin.push_back(at);
  }
};

bool is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// lstrip_blocks: spaces and tabs from a line start up to `{%`, `{#` (or `{-`) are dropped.
Source lstrip_blocks(const Source& in) {
  Source out;
  const std::string& t = in.text;
  size_t i = 0;
  bool line_start = true;
  while (i < t.size()) {
    if (line_start) {
      size_t j = i;
      while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
      if (j + 1 < t.size() && t[j] == '{' && (t[j + 1] == '%' || t[j + 1] == '#' || t[j + 1] == '-')) i = j;
      line_start = false;
      continue;
    }
    const char c = t[i];
    out.push(c, in.origin[i]);
    ++i;
    if (c == '\n' || c == '\r') line_start = true;
    // U+2028 and U+2029 end lines too
    if (c == '\xA9' || c == '\xA8') {
      if (i >= 3 && t[i - 3] == '\xE2' && t[i - 2] == '\x80') line_start = true;
    }
  }
  return out;
}

// trim_blocks: the first newline after `%}` or `#}` (or `-}`) is dropped.
Source trim_blocks(const Source& in) {
  Source out;
  const std::string& t = in.text;
  for (size_t i = 0; i < t.size(); ++i) {
    out.push(t[i], in.origin[i]);
    if (i + 2 < t.size() && (t[i] == '%' || t[i] == '#' || t[i] == '-') && t[i + 1] == '}' && t[i + 2] == '\n') {
      out.push('}', in.origin[i + 1]);
      i += 2;
    }
  }
  return out;
}

// Removes `{% generation %}` / `{% endgeneration %}` markers (Hugging Face's training tags),
// stripping the whitespace on the side that carries a `-`.
Source remove_generation_tags(const Source& in) {
  const std::string& t = in.text;
  if (t.find("generation") == std::string::npos) return in;
  Source out;
  size_t i = 0;
  while (i < t.size()) {
    if (t.compare(i, 2, "{%") == 0) {
      size_t j = i + 2;
      const bool strip_before = j < t.size() && t[j] == '-';
      if (strip_before) ++j;
      while (j < t.size() && is_space_byte(t[j])) ++j;
      if (t.compare(j, 3, "end") == 0 && t.compare(j + 3, 10, "generation") == 0) j += 3;
      if (t.compare(j, 10, "generation") == 0) {
        j += 10;
        while (j < t.size() && is_space_byte(t[j])) ++j;
        const bool strip_after = j < t.size() && t[j] == '-';
        if (strip_after) ++j;
        if (t.compare(j, 2, "%}") == 0) {
          j += 2;
          if (strip_before) {
            while (!out.text.empty() && is_space_byte(out.text.back())) {
              out.text.pop_back();
              out.origin.pop_back();
            }
          }
          if (strip_after) {
            while (j < t.size() && is_space_byte(t[j])) ++j;
          }
          i = j;
          continue;
        }
      }
    }
    out.push(t[i], in.origin[i]);
    ++i;
  }
  return out;
}

Source preprocess(std::string_view template_text) {
  Source source;
  source.text.assign(template_text);
  source.origin.resize(template_text.size());
  for (size_t i = 0; i < template_text.size(); ++i) source.origin[i] = static_cast<uint32_t>(i);
  if (!source.text.empty() && source.text.back() == '\n') {
    source.text.pop_back();
    source.origin.pop_back();
  }
  return remove_generation_tags(trim_blocks(lstrip_blocks(source)));
}

class Lexer {
 public:
  Lexer(std::string_view original, Source source) : original_(original), src_(std::move(source)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < original.size(); ++i) {
      if (original[i] == '\n') line_starts_.push_back(static_cast<uint32_t>(i + 1));
    }
  }

  std::vector<Token> run() {
    const std::string& t = src_.text;
    while (pos_ < t.size()) {
      if (tokens_.empty() || tokens_.back().kind == TokenKind::close_statement ||
          tokens_.back().kind == TokenKind::close_expression || tokens_.back().kind == TokenKind::comment) {
        const size_t start = pos_;
        while (pos_ < t.size() && !(t[pos_] == '{' && pos_ + 1 < t.size() &&
                                    (t[pos_ + 1] == '%' || t[pos_ + 1] == '{' || t[pos_ + 1] == '#'))) {
          ++pos_;
        }
        if (pos_ > start) {
          push(TokenKind::text, t.substr(start, pos_ - start), start);
          continue;
        }
      }
      if (t.compare(pos_, 2, "{#") == 0) {
        lex_comment();
        continue;
      }
      if (t.compare(pos_, 2, "{%") == 0 || t.compare(pos_, 2, "{{") == 0) {
        lex_tag();
        continue;
      }
      // Only reached right after a close tag stripped everything up to another tag.
      fail_at(pos_, "unexpected character");
    }
    return std::move(tokens_);
  }

 private:
  Position position_of(size_t source_offset) const {
    const uint32_t offset = source_offset < src_.origin.size() ? src_.origin[source_offset]
                                                               : static_cast<uint32_t>(original_.size());
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());
    const uint32_t line_start = line_starts_[line - 1];
    // columns count code points, as an editor shows them
    const uint32_t column =
        static_cast<uint32_t>(code_point_count(original_.substr(line_start, offset - line_start))) + 1;
    return Position{static_cast<uint32_t>(line), column};
  }

  [[noreturn]] void fail_at(size_t offset, std::string_view what) const {
    const Position p = position_of(offset);
    fail(ErrorCode::invalid_file, "chat template syntax error at line {}:{}: {}", p.line, p.column, what);
  }

  void push(TokenKind kind, std::string text, size_t offset) {
    tokens_.push_back(Token{kind, std::move(text), position_of(offset)});
  }

  void strip_previous_text() {
    if (!tokens_.empty() && tokens_.back().kind == TokenKind::text) {
      tokens_.back().text.assign(trim_right(tokens_.back().text));
      if (tokens_.back().text.empty()) tokens_.pop_back();
    }
  }

  void skip_following_space() {
    const std::string& t = src_.text;
    while (pos_ < t.size()) {
      size_t length = 1;
      if (!is_unicode_space(decode_code_point(t, pos_, &length))) break;
      pos_ += length;
    }
  }

  void lex_comment() {
    const std::string& t = src_.text;
    const size_t start = pos_;
    pos_ += 2;
    const bool strip_before = pos_ < t.size() && t[pos_] == '-';
    const size_t end = t.find("#}", pos_);
    if (end == std::string::npos) fail_at(start, "unterminated comment: missing '#}'");
    const bool strip_after = end > pos_ && t[end - 1] == '-';
    if (strip_before) strip_previous_text();
    push(TokenKind::comment, "", start);
    pos_ = end + 2;
    if (strip_after) skip_following_space();
  }

  void lex_tag() {
    const std::string& t = src_.text;
    const size_t start = pos_;
    const bool statement = t[pos_ + 1] == '%';
    pos_ += 2;
    if (pos_ < t.size() && t[pos_] == '-') {
      strip_previous_text();
      ++pos_;
    } else if (pos_ < t.size() && t[pos_] == '+') {
      ++pos_;  // `{%+`: keep the preceding whitespace (lstrip already respected the text)
    }
    push(statement ? TokenKind::open_statement : TokenKind::open_expression, statement ? "{%" : "{{", start);
    const std::string close = statement ? "%}" : "}}";
    int brace_depth = 0;
    while (true) {
      while (pos_ < t.size() && is_space_byte(t[pos_])) ++pos_;
      if (pos_ >= t.size()) fail_at(start, statement ? "unterminated '{%' tag" : "unterminated '{{' tag");
      if (t[pos_] == '-' && t.compare(pos_ + 1, 2, close) == 0 && brace_depth == 0) {
        push(statement ? TokenKind::close_statement : TokenKind::close_expression, close, pos_);
        pos_ += 3;
        skip_following_space();
        return;
      }
      if (t.compare(pos_, 2, close) == 0 && (statement || brace_depth == 0)) {
        push(statement ? TokenKind::close_statement : TokenKind::close_expression, close, pos_);
        pos_ += 2;
        return;
      }
      lex_inner_token(brace_depth);
    }
  }

  void lex_inner_token(int& brace_depth) {
    const std::string& t = src_.text;
    const char c = t[pos_];
    const size_t start = pos_;
    if (c == '\'' || c == '"') {
      lex_string(c);
      return;
    }
    if (c >= '0' && c <= '9') {
      while (pos_ < t.size() && t[pos_] >= '0' && t[pos_] <= '9') ++pos_;
      const bool after_dot = !tokens_.empty() && tokens_.back().kind == TokenKind::op && tokens_.back().text == ".";
      if (!after_dot && pos_ + 1 < t.size() && t[pos_] == '.' && t[pos_ + 1] >= '0' && t[pos_ + 1] <= '9') {
        ++pos_;
        while (pos_ < t.size() && t[pos_] >= '0' && t[pos_] <= '9') ++pos_;
        push(TokenKind::floating, t.substr(start, pos_ - start), start);
      } else {
        push(TokenKind::integer, t.substr(start, pos_ - start), start);
      }
      return;
    }
    if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      while (pos_ < t.size() && (t[pos_] == '_' || (t[pos_] >= 'a' && t[pos_] <= 'z') ||
                                 (t[pos_] >= 'A' && t[pos_] <= 'Z') || (t[pos_] >= '0' && t[pos_] <= '9'))) {
        ++pos_;
      }
      push(TokenKind::identifier, t.substr(start, pos_ - start), start);
      return;
    }
    static const char* const two_char_ops[] = {"==", "!=", "<=", ">=", "**", "//"};
    for (const char* op : two_char_ops) {
      if (t.compare(pos_, 2, op) == 0) {
        push(TokenKind::op, op, start);
        pos_ += 2;
        return;
      }
    }
    static const std::string_view one_char_ops = "()[]{},.:|=+-~*/%<>";
    if (one_char_ops.find(c) != std::string_view::npos) {
      if (c == '{') ++brace_depth;
      if (c == '}') --brace_depth;
      push(TokenKind::op, std::string(1, c), start);
      ++pos_;
      return;
    }
    fail_at(start, fmt::format("unexpected character '{}'", c));
  }

  void lex_string(char quote) {
    const std::string& t = src_.text;
    const size_t start = pos_;
    ++pos_;
    std::string value;
    while (true) {
      if (pos_ >= t.size()) fail_at(start, "unterminated string literal");
      const char c = t[pos_];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= t.size()) fail_at(start, "unterminated string literal");
      const char e = t[pos_ + 1];
      pos_ += 2;
      switch (e) {
        case 'n': value += '\n'; break;
        case 't': value += '\t'; break;
        case 'r': value += '\r'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'v': value += '\v'; break;
        case '0': value += '\0'; break;
        case '\'': case '"': case '\\': value += e; break;
        case '\n': break;  // a backslash-newline continues the line
        case 'x':
        case 'u':
        case 'U': {
          const size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (size_t k = 0; k < digits; ++k) {
            const char h = pos_ + k < t.size() ? t[pos_ + k] : '\0';
            const int d = (h >= '0' && h <= '9') ? h - '0'
                          : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                          : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                   : -1;
            if (d < 0) fail_at(pos_ - 2, fmt::format("invalid \\{} escape in string literal", e));
            cp = cp * 16 + static_cast<uint32_t>(d);
          }
          if (cp > 0x10FFFF) fail_at(pos_ - 2, "escape names a code point past U+10FFFF");
          pos_ += digits;
          append_utf8(value, cp);
          break;
        }
        default:  // unknown escapes stay as written, as in Python
          value += '\\';
          value += e;
      }
    }
    ++pos_;
    push(TokenKind::string, std::move(value), start);
  }

  std::string_view original_;
  Source src_;
  std::vector<uint32_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  if (source.size() > UINT32_MAX / 2) fail(ErrorCode::out_of_range, "chat template is too large ({} bytes)", source.size());
  return Lexer(source, preprocess(source)).run();
}

}  // namespace ingot::chat
