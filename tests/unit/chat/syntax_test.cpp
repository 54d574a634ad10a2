// Lexer and parser: whitespace control, comments, HF's trim/lstrip rules, syntax errors.
#include "render_helper.h"

#include <gtest/gtest.h>

namespace ingot::chat {
namespace {

using testing::render;
using testing::render_error;

TEST(ChatSyntax, PlainTextAndExpressions) {
  EXPECT_EQ(render("hello {{ name }}!", R"({"name": "world"})"), "hello world!");
  EXPECT_EQ(render(""), "");
  EXPECT_EQ(render("{{ 'a' 'b' }}"), "ab");  // adjacent string literals concatenate
}

TEST(ChatSyntax, DashStripsWhitespaceOnItsSide) {
  EXPECT_EQ(render("a  \n {{- 'b' -}} \n  c"), "abc");
  EXPECT_EQ(render("a  {%- if true %} b {% endif -%}  c"), "a b c");
  EXPECT_EQ(render("x {#- comment -#} y"), "xy");
}

TEST(ChatSyntax, CommentsRenderNothing) {
  EXPECT_EQ(render("a{# {{ not rendered }} #}b"), "ab");
  EXPECT_EQ(render("a{# multi\nline #}b"), "ab");
}

TEST(ChatSyntax, TrimBlocksDropsNewlineAfterTag) {
  EXPECT_EQ(render("{% if true %}\nyes\n{% endif %}\nafter"), "yes\nafter");
  EXPECT_EQ(render("{{ 'x' }}\ny"), "x\ny");  // not after an expression
  EXPECT_EQ(render("{# c #}\ny"), "y");
}

TEST(ChatSyntax, LstripBlocksDropsIndentBeforeTag) {
  EXPECT_EQ(render("  {% if true %}\n    text\n  {% endif %}\n"), "    text\n");
  EXPECT_EQ(render("a  {% if true %}b{% endif %}"), "a  b");  // not at a line start
}

TEST(ChatSyntax, OneTrailingNewlineIsDropped) {
  EXPECT_EQ(render("x\n"), "x");
  EXPECT_EQ(render("x\n\n"), "x\n");
}

TEST(ChatSyntax, GenerationMarkersAreIgnored) {
  EXPECT_EQ(render("a {% generation %}b{% endgeneration %} c"), "a b c");
  EXPECT_EQ(render("a {%- generation -%} b"), "ab");
}

TEST(ChatSyntax, StringEscapes) {
  EXPECT_EQ(render(R"({{ 'a\nb\t\'q\' \"d\" \\ \u00e9 \x41' }})"), "a\nb\t'q' \"d\" \\ \xC3\xA9 A");
  EXPECT_EQ(render(R"({{ "\d" }})"), "\\d");  // unknown escapes stay, as in Python
}

TEST(ChatSyntax, DictLiteralInsideExpressionDoesNotCloseIt) {
  EXPECT_EQ(render("{{ {'a': {'b': 1}}['a']['b'] }}"), "1");
}

TEST(ChatSyntax, ErrorsNameLineAndColumn) {
  EXPECT_NE(render_error("line one\n{{ 'unterminated }}").find("line 2:4"), std::string::npos);
  EXPECT_NE(render_error("ok\n  {% if x %}never closed").find("line 2:3"), std::string::npos);
  EXPECT_NE(render_error("{{ 1 + }}").find("line 1:8"), std::string::npos);
  EXPECT_NE(render_error("{% frobnicate %}").find("unknown or misplaced statement 'frobnicate'"), std::string::npos);
  EXPECT_NE(render_error("{% endif %}").find("endif"), std::string::npos);
  EXPECT_NE(render_error("{# no end").find("unterminated comment"), std::string::npos);
  EXPECT_NE(render_error("{{ a $ b }}").find("unexpected character '$'"), std::string::npos);
}

TEST(ChatSyntax, SyntaxErrorsAreInvalidFile) {
  try {
    render("{% for %}");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_file);
  }
}

TEST(ChatSyntax, DeepNestingIsRejectedNotCrashed) {
  std::string deep(5000, '(');
  deep = "{{ " + deep + "1" + std::string(5000, ')') + " }}";
  EXPECT_NE(render_error(deep).find("nests too deeply"), std::string::npos);
  std::string blocks;
  for (int i = 0; i < 2000; ++i) blocks += "{% if true %}";
  EXPECT_NE(render_error(blocks).find("nests too deeply"), std::string::npos);
}

}  // namespace
}  // namespace ingot::chat
