// Statements: if, for (loop variables, else, filters, break/continue), set, namespace, macros,
// call and filter blocks, scoping, and the runaway-template limits.
#include "render_helper.h"

#include <gtest/gtest.h>

namespace ingot::chat {
namespace {

using testing::render;
using testing::render_error;

TEST(ChatStatements, IfElifElse) {
  const std::string t = "{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}other{% endif %}";
  EXPECT_EQ(render(t, R"({"x": 1})"), "one");
  EXPECT_EQ(render(t, R"({"x": 2})"), "two");
  EXPECT_EQ(render(t, R"({"x": 3})"), "three");
  EXPECT_EQ(render(t, R"({"x": 9})"), "other");
}

TEST(ChatStatements, ForLoopVariables) {
  const std::string vars = R"({"xs": ["a", "b", "c"]})";
  EXPECT_EQ(render("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                   "{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", vars),
            "1032truefalse3;2121falsefalse3;3210falsetrue3;");
  EXPECT_EQ(render("{% for x in xs %}[{{ loop.previtem }}{{ x }}{{ loop.nextitem }}]{% endfor %}", vars),
            "[ab][abc][bc]");
  EXPECT_EQ(render("{% for x in xs %}{{ loop.cycle('o', 'e') }}{% endfor %}", vars), "oeo");
}

TEST(ChatStatements, ForElseFilterBreakContinue) {
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in range(10) if x % 3 == 0 %}{{ x }}{{ loop.length }},{% endfor %}"), "04,34,64,94,");
  EXPECT_EQ(render("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}"
                   "{{ x }}{% endfor %}"),
            "013");
  EXPECT_EQ(render("{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}"), "ab");
  EXPECT_EQ(render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }};{% endfor %}"), "3;7;");
  EXPECT_EQ(render("{% for c in 'hé' %}<{{ c }}>{% endfor %}"), "<h><é>");
  EXPECT_EQ(render("{% for x in range(3, 0, -1) %}{{ x }}{% endfor %}"), "321");
}

TEST(ChatStatements, LoopingOverNothingFails) {
  EXPECT_NE(render_error("{% for t in tools %}{% endfor %}").find("cannot loop over undefined value 'tools'"),
            std::string::npos);
  EXPECT_NE(render_error("{% for t in 5 %}{% endfor %}").find("cannot iterate"), std::string::npos);
}

TEST(ChatStatements, SetAndScoping) {
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"), "12");
  EXPECT_EQ(render("{% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}]"), "[block 2]");
  // a set inside a loop does not leak out; a namespace attribute does
  EXPECT_EQ(render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set n = n + 1 %}"
                   "{% set ns.n = ns.n + 1 %}{% endfor %}{{ n }}{{ ns.n }}"),
            "03");
  EXPECT_EQ(render("{% if true %}{% set y = 'set in if' %}{% endif %}{{ y }}"), "set in if");
  EXPECT_NE(render_error("{% set d = {} %}{% set d.x = 1 %}").find("namespace"), std::string::npos);
}

TEST(ChatStatements, MacrosWithDefaultsKeywordsAndRecursion) {
  EXPECT_EQ(render("{% macro greet(name, punct='!') %}hi {{ name }}{{ punct }}{% endmacro %}"
                   "{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }}"),
            "hi a! hi b? hi c.");
  EXPECT_EQ(render("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}"
                   "{{ fact(5) }}"),
            "120");
  EXPECT_EQ(render("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}"), R"([1, 2]{"k": 3})");
}

TEST(ChatStatements, CallAndFilterBlocks) {
  EXPECT_EQ(render("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
                   "{% call wrap('b') %}bold{% endcall %}"),
            "<b>bold</b>");
  EXPECT_EQ(render("{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}"
                   "{% call(item) each([1, 2]) %}[{{ item }}]{% endcall %}"),
            "[1][2]");
  EXPECT_EQ(render("{% filter upper %}shout {{ 'this' }}{% endfilter %}"), "SHOUT THIS");
  EXPECT_EQ(render("{% filter trim | upper %}  padded  {% endfilter %}"), "PADDED");
}

TEST(ChatStatements, RaiseExceptionNamesTheLine) {
  const std::string message = render_error("line 1\n{{ raise_exception('roles must alternate') }}");
  EXPECT_NE(message.find("raised an exception at line 2:4"), std::string::npos) << message;
  EXPECT_NE(message.find("roles must alternate"), std::string::npos);
}

TEST(ChatStatements, RenderErrorsNameLineAndColumn) {
  const std::string message = render_error("ok\n\n  {{ 1 + 'a' | trim | nosuchfilter }}");
  EXPECT_NE(message.find("line 3:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown filter 'nosuchfilter'"), std::string::npos) << message;
}

TEST(ChatStatements, RunawayTemplatesStop) {
  RenderLimits limits;
  limits.max_steps = 100000;
  EXPECT_NE(render_error("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "{}", limits)
                .find("steps"),
            std::string::npos);
  EXPECT_NE(render_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nested deeper"), std::string::npos);
  EXPECT_NE(render_error("{{ range(100000000) }}").find("longer than"), std::string::npos);
  limits = RenderLimits{};
  limits.max_output_bytes = 1000;
  EXPECT_NE(render_error("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", "{}", limits).find("more than 1000 bytes"),
            std::string::npos);
  EXPECT_NE(render_error("{% set ns = namespace(s='xx') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}")
                .find("grew past"),
            std::string::npos);
}

}  // namespace
}  // namespace ingot::chat
