// The template lexer: applies Hugging Face's environment (trim_blocks, lstrip_blocks, one
// trailing newline dropped, `{% generation %}` markers removed), then splits the text into
// raw-text runs and the tokens inside `{{ }}` / `{% %}`, honouring `-` whitespace control and
// skipping `{# #}` comments. Every token keeps the line and column of the original template.
// One pass over the text plus one preprocessing copy; linear time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ingot::chat {

struct Position {
  uint32_t line = 1;
  uint32_t column = 1;
};

enum class TokenKind {
  text,              // raw template text between tags
  comment,           // a {# #} comment (kept so that a following {%- does not strip across it)
  open_statement,    // {%
  close_statement,   // %}
  open_expression,   // {{
  close_expression,  // }}
  identifier,
  string,
  integer,
  floating,
  op,  // punctuation and operators: ( ) [ ] { } , . : | = + - ~ * / // % ** == != < > <= >=
};

struct Token {
  TokenKind kind;
  std::string text;  // the raw text, identifier, operator, decoded string or number digits
  Position position;
};

// Splits `source` into tokens. Throws ingot::Error (invalid_file) naming line:column on
// malformed input (an unterminated string, comment or tag, an unexpected character).
std::vector<Token> tokenize(std::string_view source);

}  // namespace ingot::chat
