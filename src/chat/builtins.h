// The built-in library of the template language: filters (`x | trim`), tests (`x is defined`),
// methods of strings, lists and dicts (`s.startswith('a')`, `d.items()`), and the globals
// (range, dict, namespace, raise_exception, strftime_now). Errors thrown here are RenderError;
// the evaluator adds the template line:column. Every builtin is linear in its input (sort: n log n).
#pragma once

#include "chat/value.h"

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace ingot::chat {

// A failure while rendering, before the evaluator adds where in the template it happened.
class RenderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// raise_exception(message) from the template itself.
class RaisedError : public RenderError {
 public:
  using RenderError::RenderError;
};

template <typename... Args>
[[noreturn]] void render_fail(fmt::format_string<Args...> format, Args&&... args) {
  throw RenderError(fmt::format(format, std::forward<Args>(args)...));
}

// Bounds shared by the builtins: the largest string or list one operation may build.
inline constexpr size_t max_value_bytes = size_t{64} << 20;
inline constexpr size_t max_range_length = size_t{1} << 20;

Value apply_filter(std::string_view name, const Value& operand, CallArgs& args);
bool apply_test(std::string_view name, const Value& operand, CallArgs& args);
bool has_test(std::string_view name);

// `object.name`: a dict key first, then a method or property of the value; undefined if none.
Value get_attribute(const Value& object, std::string_view name);
// `object[key]`: dict keys, list and string indexes (negative from the end); undefined if absent.
Value get_item(const Value& object, const Value& key);

// The values a template sees as global functions: range, dict, namespace, raise_exception,
// strftime_now. Looked up after the render context, so a context entry may shadow them.
Value get_global(std::string_view name);

// Python-style slice of a list or string (code points); absent parts are undefined values.
Value slice_value(const Value& object, const Value& start, const Value& stop, const Value& step);

// Iteration of a for loop: list items, dict keys, string characters; error otherwise.
std::vector<Value> iterate(const Value& value);

// Comparison used by sort/dictsort/min/max and `<`: numbers by value, strings by code point
// (case-insensitively unless case_sensitive). Throws RenderError for other pairs.
int compare_values(const Value& a, const Value& b, bool case_sensitive = true);

}  // namespace ingot::chat
