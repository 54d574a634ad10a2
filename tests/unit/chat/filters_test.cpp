// Filters and tests of the template library.
#include "render_helper.h"

#include <gtest/gtest.h>

namespace ingot::chat {
namespace {

using testing::render;
using testing::render_error;

TEST(ChatFilters, Tojson) {
  const std::string vars = R"({"v": {"name": "é\"x\"", "list": [1, 2.5, true, null], "empty": {}, "nested": {"a": []}}})";
  EXPECT_EQ(render("{{ v | tojson }}", vars),
            R"({"name": "é\"x\"", "list": [1, 2.5, true, null], "empty": {}, "nested": {"a": []}})");
  EXPECT_EQ(render("{{ v.list | tojson(indent=2) }}", vars), "[\n  1,\n  2.5,\n  true,\n  null\n]");
  EXPECT_EQ(render("{{ v.nested | tojson(indent=4) }}", vars), "{\n    \"a\": []\n}");
  EXPECT_EQ(render("{{ v.name | tojson(ensure_ascii=true) }}", vars), R"("\u00e9\"x\"")");
  EXPECT_EQ(render("{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}"), R"({"a": 2, "b": 1})");
  EXPECT_EQ(render("{{ {'b': 1} | tojson(separators=(',', ':')) }}"), R"({"b":1})");
  EXPECT_EQ(render("{{ 'tab\there\u0001' | tojson }}"), R"("tab\there\u0001")");
  EXPECT_EQ(render("{{ missing | tojson }}"), "null");
}

TEST(ChatFilters, StringFilters) {
  EXPECT_EQ(render("{{ '  x  ' | trim }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'a b' | title }}|{{ 'aB' | capitalize }}"),
            "x|AB|ab|A B|Ab");
  EXPECT_EQ(render("{{ 'a-b' | replace('-', '+') }}|{{ 5 | string }}{{ true | string }}|{{ 'héllo' | length }}"),
            "a+b|5true|5");
  EXPECT_EQ(render("{{ 'a\nb\n\nc' | indent(2) }}"), "a\n  b\n\n  c");
  EXPECT_EQ(render("{{ 'a\nb' | indent(2, first=true) }}|{{ 'a\n\nb' | indent(1, blank=true) }}"), "  a\n  b|a\n \n b");
  EXPECT_EQ(render("{{ '<a&b>' | e }}{{ 'x' | safe }}"), "&lt;a&amp;b&gt;x");
}

TEST(ChatFilters, Numbers) {
  EXPECT_EQ(render("{{ '42' | int }}{{ 'x' | int }}{{ 'x' | int(7) }}{{ 3.9 | int }}{{ '2.5' | float }}{{ -3 | abs }}"),
            "420732.53");
  EXPECT_EQ(render("{{ 2.567 | round(2) }}|{{ 2.5 | round }}|{{ 2.1 | round(0, 'ceil') }}"), "2.57|3.0|3.0");
  EXPECT_EQ(render("{{ [3, 1, 2] | sum }}{{ [3, 1, 2] | min }}{{ [3, 1, 2] | max }}"), "613");
}

TEST(ChatFilters, Default) {
  EXPECT_EQ(render("{{ missing | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ missing | d('x') }}"),
            "d||d|x");
}

TEST(ChatFilters, Lists) {
  const std::string vars = R"({"xs": [{"n": "b", "k": 2}, {"n": "A", "k": 1}, {"n": "c", "k": 3, "x": true}]})";
  EXPECT_EQ(render("{{ [1, 2] | length }}{{ xs | count }}{{ [1, 2] | first }}{{ [1, 2] | last }}{{ 'ab' | list }}", vars),
            R"(2312["a", "b"])");
  EXPECT_EQ(render("{{ ['a', 'b'] | join }}|{{ ['a', 1, 2.5] | join(', ') }}|{{ xs | join(',', attribute='n') }}", vars),
            "ab|a, 1, 2.5|b,A,c");
  EXPECT_EQ(render("{{ xs | map(attribute='n') | list }}|{{ ['a', 'b'] | map('upper') | join }}", vars),
            R"(["b", "A", "c"]|AB)");
  EXPECT_EQ(render("{{ xs | map(attribute='x', default=false) | list }}", vars), "[false, false, true]");
  EXPECT_EQ(render("{{ xs | selectattr('x') | map(attribute='n') | join }}|{{ xs | rejectattr('x') | length }}", vars),
            "c|2");
  EXPECT_EQ(render("{{ xs | selectattr('n', 'equalto', 'A') | map(attribute='k') | first }}", vars), "1");
  EXPECT_EQ(render("{{ [1, 2, 3, 4] | select('odd') | list }}{{ [1, 2, 3, 4] | reject('even') | list }}"), "[1, 3][1, 3]");
  EXPECT_EQ(render("{{ ['b', 'A', 'c'] | sort }}{{ [3, 1, 2] | sort(reverse=true) }}", vars), R"(["A", "b", "c"][3, 2, 1])");
  EXPECT_EQ(render("{{ xs | sort(attribute='k') | map(attribute='n') | join }}", vars), "Abc");
  EXPECT_EQ(render("{{ [1, 2, 1, 3] | unique | list }}{{ [1, 2, 3] | reverse | list }}"), "[1, 2, 3][3, 2, 1]");
  EXPECT_EQ(render("{{ [1, 2, 3, 4, 5] | batch(2) | list }}"), "[[1, 2], [3, 4], [5]]");
}

TEST(ChatFilters, Dicts) {
  const std::string vars = R"({"d": {"b": 1, "A": 2}})";
  EXPECT_EQ(render("{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}|{{ d | length }}", vars), "b1A2|2");
  EXPECT_EQ(render("{% for k, v in d | dictsort %}{{ k }}{% endfor %}", vars), "Ab");
  EXPECT_EQ(render("{% for k, v in d | dictsort(by='value', reverse=true) %}{{ k }}{% endfor %}", vars), "Ab");
  EXPECT_EQ(render("{% for k, v in missing | items %}x{% endfor %}done"), "done");
}

TEST(ChatFilters, UnknownFilterAndWrongTypeFail) {
  EXPECT_NE(render_error("{{ 1 | nope }}").find("unknown filter 'nope'"), std::string::npos);
  EXPECT_NE(render_error("{{ [1] | trim }}").find("needs a string"), std::string::npos);
}

TEST(ChatTests, TypeTests) {
  const std::string vars = R"({"s": "x", "i": 1, "f": 1.5, "b": true, "n": null, "l": [1], "d": {"a": 1}})";
  EXPECT_EQ(render("{{ s is string }}{{ i is number }}{{ i is integer }}{{ f is float }}{{ f is integer }}", vars),
            "truetruetruetruefalse");
  EXPECT_EQ(render("{{ b is boolean }}{{ b is true }}{{ b is false }}{{ n is none }}{{ n is not none }}", vars),
            "truetruefalsetruefalse");
  EXPECT_EQ(render("{{ l is iterable }}{{ s is iterable }}{{ d is mapping }}{{ l is mapping }}{{ l is sequence }}", vars),
            "truetruetruefalsetrue");
  EXPECT_EQ(render("{{ n is defined }}{{ zz is defined }}{{ zz is undefined }}{{ namespace() is mapping }}", vars),
            "truefalsetruefalse");
  EXPECT_EQ(render("{{ range is callable }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'ab' is lower }}", vars),
            "truetruetruetruetrue");
}

TEST(ChatTests, ComparisonTests) {
  EXPECT_EQ(render("{{ 1 is eq 1 }}{{ 1 is equalto(2) }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 2 is gt 1 }}{{ 2 is in [1, 2] }}"),
            "truefalsetruetruetruetrue");
  EXPECT_EQ(render("{{ false is sameas false }}{{ 0 is sameas false }}"), "truefalse");
  EXPECT_NE(render_error("{{ 1 is nosuchtest }}").find("unknown test 'nosuchtest'"), std::string::npos);
}

TEST(ChatGlobals, RangeDictNamespaceStrftime) {
  EXPECT_EQ(render("{{ range(3) }}{{ range(1, 3) }}{{ range(0, 6, 2) }}"), "[0, 1, 2][1, 2][0, 2, 4]");
  EXPECT_EQ(render("{{ dict(a=1, b='x') }}{{ dict([['k', 2]]) }}"), R"({"a": 1, "b": "x"}{"k": 2})");
  EXPECT_EQ(render("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c }}"), "12");
  EXPECT_EQ(render("{{ strftime_now('%Y') | length }}"), "4");
}

}  // namespace
}  // namespace ingot::chat
