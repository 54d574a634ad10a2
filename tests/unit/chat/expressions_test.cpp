// Expressions: literals, operators, attribute/subscript/slice access, undefined semantics.
#include "render_helper.h"

#include <gtest/gtest.h>

namespace ingot::chat {
namespace {

using testing::render;
using testing::render_error;

TEST(ChatExpressions, LiteralsPrintLikeTheReference) {
  EXPECT_EQ(render("{{ 42 }}|{{ -7 }}|{{ 2.5 }}|{{ 3.0 }}|{{ true }}|{{ none }}|{{ 'x' }}"), "42|-7|2.5|3.0|true||x");
  EXPECT_EQ(render("{{ [1, 'a', none, true] }}"), R"([1, "a", null, true])");
  EXPECT_EQ(render("{{ {'k': 'v', 'n': 1} }}"), R"({"k": "v", "n": 1})");
  EXPECT_EQ(render("{{ (1, 2) }}"), "[1, 2]");
  EXPECT_EQ(render("{{ True }}{{ False }}{{ None }}"), "truefalse");
}

TEST(ChatExpressions, Arithmetic) {
  EXPECT_EQ(render("{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}"),
            "7|9|3|-4|1|2");
  EXPECT_EQ(render("{{ 7 / 2 }}|{{ 4 / 2 }}|{{ 2 ** 10 }}|{{ 1.5 + 1 }}"), "3.5|2.0|1024|2.5");
  EXPECT_EQ(render("{{ 'ab' * 3 }}|{{ [1] + [2] }}"), "ababab|[1, 2]");
  EXPECT_NE(render_error("{{ 1 // 0 }}").find("by zero"), std::string::npos);
}

TEST(ChatExpressions, ConcatenationCoercesLikeTheReference) {
  EXPECT_EQ(render("{{ 'a' ~ 1 ~ 2.5 ~ true }}"), "a12.5true");
  EXPECT_EQ(render("{{ 'n=' + 3 }}|{{ 1 ~ 2 }}"), "n=3|12");
  EXPECT_EQ(render("{{ 'x' + [1, 'b'] }}"), "x1,b");
  EXPECT_NE(render_error("{{ 'x' + missing }}").find("undefined"), std::string::npos);
  EXPECT_NE(render_error("{{ 'x' + none }}").find("none"), std::string::npos);
}

TEST(ChatExpressions, Comparisons) {
  EXPECT_EQ(render("{{ 1 == 1.0 }}{{ 'a' != 'b' }}{{ 2 < 3 }}{{ 3 <= 3 }}{{ 'b' > 'a' }}{{ 1 >= 2 }}"),
            "truetruetruetruetruefalse");
  EXPECT_EQ(render("{{ [1, [2]] == [1, [2]] }}{{ {'a': 1} == {'a': 1} }}{{ 'a' == 1 }}"), "truetruefalse");
  EXPECT_EQ(render("{{ missing == none }}"), "true");
}

TEST(ChatExpressions, MembershipAndLogic) {
  EXPECT_EQ(render("{{ 'b' in 'abc' }}{{ 2 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 'z' not in 'abc' }}{{ 1 in missing }}"),
            "truetruetruetruefalse");
  EXPECT_EQ(render("{{ 0 or 'x' }}|{{ 1 and 'y' }}|{{ [] or 'empty' }}|{{ not none }}|{{ not 'a' == 'a' }}"),
            "x|y|empty|true|false");
  EXPECT_EQ(render("{{ missing.attr or 'short-circuit' }}"), "short-circuit");
}

TEST(ChatExpressions, Ternary) {
  EXPECT_EQ(render("{{ 'y' if 1 > 0 else 'n' }}|{{ 'y' if false else 'n' if false else 'z' }}|{{ 'y' if false }}"),
            "y|z|");
}

TEST(ChatExpressions, AttributesSubscriptsAndUndefined) {
  const std::string vars = R"({"m": {"role": "user", "items": [1, 2], "nested": {"x": 5}}, "l": [10, 20, 30]})";
  EXPECT_EQ(render("{{ m.role }}{{ m['role'] }}{{ m.nested.x }}{{ l[0] }}{{ l[-1] }}{{ l.1 }}", vars), "useruser5103020");
  EXPECT_EQ(render("{{ m.items }}", vars), "[1, 2]");  // a key wins over the dict method
  EXPECT_EQ(render("[{{ m.missing }}][{{ m.missing.deeper }}][{{ l[99] }}][{{ undefined_name }}]", vars), "[][][][]");
  EXPECT_EQ(render("{{ m.missing is defined }}{{ undefined_name is undefined }}", vars), "falsetrue");
}

TEST(ChatExpressions, Slices) {
  const std::string vars = R"({"l": [0, 1, 2, 3, 4], "s": "héllo"})";
  EXPECT_EQ(render("{{ l[1:3] }}{{ l[:2] }}{{ l[3:] }}{{ l[-2:] }}{{ l[::2] }}{{ l[::-1] }}{{ l[4:1:-2] }}", vars),
            "[1, 2][0, 1][3, 4][3, 4][0, 2, 4][4, 3, 2, 1, 0][4, 2]");
  EXPECT_EQ(render("{{ s[1:3] }}|{{ s[::-1] }}|{{ s[-1] }}|{{ s[1] }}", vars), "él|olléh|o|é");
  EXPECT_NE(render_error("{{ l[::0] }}", vars).find("zero"), std::string::npos);
}

TEST(ChatExpressions, StringMethods) {
  EXPECT_EQ(render("{{ ' a b '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nhi'.lstrip('\\n') }}|{{ 'hi  '.rstrip() }}"),
            "a b|hi|hi|hi");
  EXPECT_EQ(render("{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a-b-c'.split('-', 1) }}"),
            R"(["a", "b", "", "c"]|["a", "b"]|["a", "b-c"])");
  EXPECT_EQ(render("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'Hello'.upper() }}{{ 'Hello'.lower() }}"),
            "truetrueHELLOhello");
  EXPECT_EQ(render("{{ 'aXbX'.replace('X', '-') }}|{{ 'aXbX'.replace('X', '-', 1) }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}"),
            "a-b-|a-bX|Hello World|Hello");
  EXPECT_EQ(render("{{ '{} and {}'.format(1, 'b') }}|{{ 'abcabc'.find('c') }}|{{ 'abcabc'.count('bc') }}"), "1 and b|2|2");
  EXPECT_EQ(render("{{ 'x</think>y'.split('</think>')[-1] }}"), "y");
}

TEST(ChatExpressions, DictAndListMethods) {
  const std::string vars = R"({"d": {"b": 1, "a": 2}})";
  EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", vars), "b=1;a=2;");
  EXPECT_EQ(render("{{ d.keys() }}{{ d.values() }}{{ d.get('a') }}{{ d.get('z', 'none') }}[{{ d.get('z') }}]", vars),
            R"(["b", "a"][1, 2]2none[])");
  EXPECT_EQ(render("{% set l = [1] %}{% set _ = l.append(2) %}{{ l }}{{ l.pop() }}{{ l }}"), "[1, 2]2[1]");
}

TEST(ChatExpressions, CallingANonFunctionFails) {
  EXPECT_NE(render_error("{{ nothing() }}").find("'nothing' is undefined"), std::string::npos);
  EXPECT_NE(render_error("{{ 'x'.nomethod() }}").find("undefined"), std::string::npos);
}

}  // namespace
}  // namespace ingot::chat
