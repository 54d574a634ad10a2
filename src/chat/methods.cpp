// Attribute and item access, methods of strings/lists/dicts, tests, iteration, slices, globals.
#include "chat/builtins.h"
#include "chat/text.h"

#include <algorithm>
#include <ctime>
#include <optional>

namespace ingot::chat {
namespace {

const Value& arg_or(const CallArgs& args, size_t index, std::string_view name, const Value& fallback) {
  const Value* v = args.get(index, name);
  return v ? *v : fallback;
}

std::string string_arg(const CallArgs& args, size_t index, std::string_view name, std::string_view what) {
  const Value* v = args.get(index, name);
  if (!v || !v->is_string()) render_fail("{}() needs a string argument '{}'", what, name);
  return v->as_string();
}

Value split_string(const std::string& s, const CallArgs& args) {
  const Value none;
  const Value& sep = arg_or(args, 0, "sep", none);
  const Value& max_split_value = arg_or(args, 1, "maxsplit", none);
  int64_t max_split = max_split_value.is_int() ? max_split_value.as_int() : -1;
  std::vector<Value> parts;
  if (sep.is_undefined() || sep.is_none()) {
    std::string_view rest = trim_left(s);
    while (!rest.empty()) {
      if (max_split >= 0 && static_cast<int64_t>(parts.size()) >= max_split) {
        parts.emplace_back(std::string(rest));
        break;
      }
      size_t end = 0;
      while (end < rest.size()) {
        size_t length = 1;
        if (is_unicode_space(decode_code_point(rest, end, &length))) break;
        end += length;
      }
      parts.emplace_back(std::string(rest.substr(0, end)));
      rest = trim_left(rest.substr(end));
    }
    return Value::array(std::move(parts));
  }
  if (!sep.is_string()) render_fail("split() separator must be a string");
  const std::string& d = sep.as_string();
  if (d.empty()) render_fail("split() separator is empty");
  size_t start = 0;
  while (true) {
    if (max_split >= 0 && static_cast<int64_t>(parts.size()) >= max_split) break;
    const size_t at = s.find(d, start);
    if (at == std::string::npos) break;
    parts.emplace_back(s.substr(start, at - start));
    start = at + d.size();
  }
  parts.emplace_back(s.substr(start));
  return Value::array(std::move(parts));
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (count == 0) return s;
  std::string out;
  int64_t done = 0;
  if (from.empty()) {  // Python inserts `to` between every character (and at both ends)
    const auto offsets = code_point_offsets(s);
    for (size_t i = 0; i <= offsets.size(); ++i) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (i < offsets.size()) {
        const size_t end = i + 1 < offsets.size() ? offsets[i + 1] : s.size();
        out.append(s, offsets[i], end - offsets[i]);
      }
    }
    return out;
  }
  size_t start = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(from, start);
    if (at == std::string::npos) break;
    out.append(s, start, at - start);
    out += to;
    start = at + from.size();
    ++done;
    if (out.size() > max_value_bytes) render_fail("replace() result is too large");
  }
  out.append(s, start, std::string::npos);
  return out;
}

bool affix_match(const std::string& s, const Value& pattern, bool prefix) {
  const auto match = [&](const Value& p) {
    if (!p.is_string()) render_fail("{}() needs a string or a tuple of strings", prefix ? "startswith" : "endswith");
    const std::string& t = p.as_string();
    if (t.size() > s.size()) return false;
    return prefix ? s.compare(0, t.size(), t) == 0 : s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  if (pattern.is_array()) {
    return std::any_of(pattern.as_array().items.begin(), pattern.as_array().items.end(), match);
  }
  return match(pattern);
}

Value string_method(const std::string& s, std::string_view name, CallArgs& args) {
  const Value none;
  if (name == "upper") return Value(to_upper(s));
  if (name == "lower") return Value(to_lower(s));
  if (name == "title") return Value(title_case(s));
  if (name == "capitalize") return Value(capitalize(s));
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool left = name != "rstrip", right = name != "lstrip";
    const Value& chars = arg_or(args, 0, "chars", none);
    if (chars.is_string()) return Value(std::string(strip_chars(s, chars.as_string(), left, right)));
    return Value(std::string(left && right ? trim(s) : left ? trim_left(s) : trim_right(s)));
  }
  if (name == "startswith" || name == "endswith") {
    const Value* p = args.get(0, "prefix");
    if (!p) render_fail("{}() needs an argument", name);
    return Value(affix_match(s, *p, name == "startswith"));
  }
  if (name == "split") return split_string(s, args);
  if (name == "replace") {
    const Value& count = arg_or(args, 2, "count", none);
    return Value(replace_all(s, string_arg(args, 0, "old", "replace"), string_arg(args, 1, "new", "replace"),
                             count.is_int() ? count.as_int() : -1));
  }
  if (name == "find" || name == "count") {
    const std::string needle = string_arg(args, 0, "sub", name == "find" ? "find" : "count");
    if (name == "find") {
      const size_t at = s.find(needle);
      return Value(at == std::string::npos ? int64_t{-1} : static_cast<int64_t>(code_point_count(s.substr(0, at))));
    }
    if (needle.empty()) return Value(static_cast<int64_t>(code_point_count(s) + 1));
    int64_t n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + needle.size())) ++n;
    return Value(n);
  }
  if (name == "join") {
    const Value* items = args.get(0, "iterable");
    if (!items || !items->is_array()) render_fail("join() needs a list");
    std::string out;
    for (size_t i = 0; i < items->as_array().items.size(); ++i) {
      if (i > 0) out += s;
      out += to_output(items->as_array().items[i]);
    }
    return Value(std::move(out));
  }
  if (name == "format") {  // positional "{}" placeholders only
    std::string out;
    size_t next = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s.compare(i, 2, "{}") == 0) {
        if (next >= args.positional.size()) render_fail("format() has too few arguments");
        out += to_output(args.positional[next++]);
        ++i;
      } else {
        out += s[i];
      }
    }
    return Value(std::move(out));
  }
  render_fail("strings have no method '{}'", name);
}

Value dict_method(const Value& object, std::string_view name, CallArgs& args) {
  const ObjectData& o = object.as_object();
  if (name == "items") {
    std::vector<Value> items;
    for (const auto& [k, v] : o.entries) items.push_back(Value::array({Value(k), v}, true));
    return Value::array(std::move(items));
  }
  if (name == "keys") {
    std::vector<Value> items;
    for (const auto& entry : o.entries) items.emplace_back(entry.first);
    return Value::array(std::move(items));
  }
  if (name == "values") {
    std::vector<Value> items;
    for (const auto& entry : o.entries) items.push_back(entry.second);
    return Value::array(std::move(items));
  }
  if (name == "get") {
    const Value* key = args.get(0, "key");
    if (!key) render_fail("get() needs a key");
    if (key->is_string()) {
      if (const Value* v = o.find(key->as_string())) return *v;
    }
    const Value* fallback = args.get(1, "default");
    return fallback ? *fallback : Value::none();
  }
  if (name == "dictsort") {
    CallArgs copy = args;
    return apply_filter("dictsort", object, copy);
  }
  render_fail("dicts have no method '{}'", name);
}

Value list_method(const Value& list, std::string_view name, CallArgs& args) {
  auto& items = list.as_array().items;
  if (name == "append") {
    const Value* v = args.get(0, "item");
    if (!v) render_fail("append() needs a value");
    if (items.size() >= max_range_length) render_fail("list grew past {} items", max_range_length);
    items.push_back(*v);
    return Value::none();
  }
  if (name == "pop") {
    if (items.empty()) render_fail("pop() from an empty list");
    const Value* index = args.get(0, "index");
    int64_t i = index && index->is_int() ? index->as_int() : -1;
    if (i < 0) i += static_cast<int64_t>(items.size());
    if (i < 0 || i >= static_cast<int64_t>(items.size())) render_fail("pop() index out of range");
    Value v = items[static_cast<size_t>(i)];
    items.erase(items.begin() + i);
    return v;
  }
  if (name == "index" || name == "count") {
    const Value* v = args.get(0, "value");
    if (!v) render_fail("{}() needs a value", name);
    int64_t n = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (values_equal(items[i], *v)) {
        if (name == "index") return Value(static_cast<int64_t>(i));
        ++n;
      }
    }
    if (name == "index") render_fail("index(): value is not in the list");
    return Value(n);
  }
  render_fail("lists have no method '{}'", name);
}

bool is_string_method(std::string_view n) {
  for (const char* m : {"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
                        "endswith", "split", "replace", "find", "count", "join", "format"}) {
    if (n == m) return true;
  }
  return false;
}

}  // namespace

Value get_attribute(const Value& object, std::string_view name) {
  if (object.is_object()) {
    if (const Value* v = object.as_object().find(name)) return *v;
    if (object.is_namespace()) return Value();
    for (const char* m : {"items", "keys", "values", "get", "dictsort"}) {
      if (name == m) {
        return Value::function(std::string(name), [object, m](CallArgs& args) { return dict_method(object, m, args); });
      }
    }
    return Value();
  }
  if (object.is_string()) {
    if (name == "length") return Value(static_cast<int64_t>(code_point_count(object.as_string())));
    if (is_string_method(name)) {
      std::string method(name);
      return Value::function(method, [s = object.as_string(), method](CallArgs& args) {
        return string_method(s, method, args);
      });
    }
    return Value();
  }
  if (object.is_array()) {
    if (name == "length") return Value(static_cast<int64_t>(object.as_array().items.size()));
    for (const char* m : {"append", "pop", "index", "count"}) {
      if (name == m) {
        return Value::function(std::string(name), [object, m](CallArgs& args) { return list_method(object, m, args); });
      }
    }
  }
  return Value();
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_object()) {
    if (!key.is_string()) return Value();
    if (const Value* v = object.as_object().find(key.as_string())) return *v;
    return get_attribute(object, key.as_string());
  }
  if ((object.is_array() || object.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.is_int() ? key.as_int() : int64_t(key.as_bool());
    if (object.is_array()) {
      const auto& items = object.as_array().items;
      if (i < 0) i += static_cast<int64_t>(items.size());
      if (i < 0 || i >= static_cast<int64_t>(items.size())) return Value();
      return items[static_cast<size_t>(i)];
    }
    const auto offsets = code_point_offsets(object.as_string());
    if (i < 0) i += static_cast<int64_t>(offsets.size());
    if (i < 0 || i >= static_cast<int64_t>(offsets.size())) return Value();
    const size_t begin = offsets[static_cast<size_t>(i)];
    const size_t end = static_cast<size_t>(i) + 1 < offsets.size() ? offsets[static_cast<size_t>(i) + 1]
                                                                    : object.as_string().size();
    return Value(object.as_string().substr(begin, end - begin));
  }
  if (key.is_string()) return get_attribute(object, key.as_string());
  return Value();
}

Value slice_value(const Value& object, const Value& start_v, const Value& stop_v, const Value& step_v) {
  if (!object.is_array() && !object.is_string()) render_fail("cannot slice a {}", object.type_name());
  const auto bound = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    if (!v.is_int()) render_fail("slice {} must be an integer, got a {}", what, v.type_name());
    return v.as_int();
  };
  const int64_t step = bound(step_v, "step").value_or(1);
  if (step == 0) render_fail("slice step cannot be zero");
  std::vector<size_t> offsets;
  int64_t n = 0;
  if (object.is_array()) {
    n = static_cast<int64_t>(object.as_array().items.size());
  } else {
    offsets = code_point_offsets(object.as_string());
    n = static_cast<int64_t>(offsets.size());
  }
  const auto clamp = [&](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t i = *v;
    if (i < 0) i += n;
    if (step > 0) return std::clamp<int64_t>(i, 0, n);
    return std::clamp<int64_t>(i, -1, n - 1);
  };
  const int64_t start = clamp(bound(start_v, "start"), step > 0 ? 0 : n - 1);
  const int64_t stop = clamp(bound(stop_v, "stop"), step > 0 ? n : -1);
  std::vector<Value> items;
  std::string text;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (object.is_array()) {
      items.push_back(object.as_array().items[static_cast<size_t>(i)]);
    } else {
      const size_t b = offsets[static_cast<size_t>(i)];
      const size_t e = i + 1 < n ? offsets[static_cast<size_t>(i) + 1] : object.as_string().size();
      text.append(object.as_string(), b, e - b);
    }
  }
  if (object.is_string()) return Value(std::move(text));
  return Value::array(std::move(items));
}

std::vector<Value> iterate(const Value& value) {
  if (value.is_array()) return value.as_array().items;
  if (value.is_object()) {
    std::vector<Value> keys;
    for (const auto& entry : value.as_object().entries) keys.emplace_back(entry.first);
    return keys;
  }
  if (value.is_string()) {
    std::vector<Value> chars;
    const std::string& s = value.as_string();
    const auto offsets = code_point_offsets(s);
    for (size_t i = 0; i < offsets.size(); ++i) {
      const size_t end = i + 1 < offsets.size() ? offsets[i + 1] : s.size();
      chars.emplace_back(s.substr(offsets[i], end - offsets[i]));
    }
    return chars;
  }
  render_fail("cannot iterate over a {}", value.type_name());
}

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  const bool a_num = a.is_number() || a.is_bool();
  const bool b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) return a.as_number() < b.as_number() ? -1 : a.as_number() > b.as_number() ? 1 : 0;
  if (a.is_string() && b.is_string()) {
    const int c = case_sensitive ? a.as_string().compare(b.as_string())
                                 : to_lower(a.as_string()).compare(to_lower(b.as_string()));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if ((a.is_none() && b.is_none()) || (a.is_undefined() && b.is_undefined())) return 0;
  render_fail("cannot compare a {} with a {}", a.type_name(), b.type_name());
}

bool has_test(std::string_view name) {
  for (const char* t : {"defined", "undefined", "none", "boolean", "true", "false", "string", "number", "integer",
                        "float", "mapping", "iterable", "sequence", "callable", "odd", "even", "lower", "upper",
                        "equalto", "eq", "==", "sameas", "ne", "!=", "lt", "<", "gt", ">", "le", "<=", "ge", ">=",
                        "in", "divisibleby", "escaped", "filter", "test"}) {
    if (name == t) return true;
  }
  return false;
}

bool apply_test(std::string_view name, const Value& v, CallArgs& args) {
  const auto other = [&]() -> const Value& {
    const Value* o = args.get(0, "other");
    if (!o) render_fail("test '{}' needs an argument", name);
    return *o;
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "mapping") return v.is_mapping();
  if (name == "iterable") return v.is_array() || v.is_string() || v.is_mapping();
  if (name == "sequence") return v.is_array() || v.is_string() || v.is_mapping();
  if (name == "callable") return v.is_callable();
  if (name == "odd" || name == "even") {
    if (!v.is_int()) render_fail("test '{}' needs an integer, got a {}", name, v.type_name());
    return (v.as_int() % 2 != 0) == (name == "odd");
  }
  if (name == "lower") return v.is_string() && to_lower(v.as_string()) == v.as_string();
  if (name == "upper") return v.is_string() && to_upper(v.as_string()) == v.as_string();
  if (name == "equalto" || name == "eq" || name == "==") return values_equal(v, other());
  if (name == "ne" || name == "!=") return !values_equal(v, other());
  if (name == "sameas") {
    const Value& o = other();
    if (v.identity() || o.identity()) return v.identity() == o.identity();
    return v.kind() == o.kind() && values_equal(v, o);
  }
  if (name == "lt" || name == "<") return compare_values(v, other()) < 0;
  if (name == "gt" || name == ">") return compare_values(v, other()) > 0;
  if (name == "le" || name == "<=") return compare_values(v, other()) <= 0;
  if (name == "ge" || name == ">=") return compare_values(v, other()) >= 0;
  if (name == "in") {
    const Value& container = other();
    if (container.is_array()) {
      for (const auto& x : container.as_array().items) {
        if (values_equal(x, v)) return true;
      }
      return false;
    }
    if (container.is_string() && v.is_string()) return container.as_string().find(v.as_string()) != std::string::npos;
    if (container.is_object() && v.is_string()) return container.as_object().find(v.as_string()) != nullptr;
    return false;
  }
  if (name == "divisibleby") {
    const Value& o = other();
    if (!v.is_int() || !o.is_int() || o.as_int() == 0) render_fail("divisibleby needs non-zero integers");
    return v.as_int() % o.as_int() == 0;
  }
  if (name == "escaped") return false;
  if (name == "filter" || name == "test") {
    return v.is_string() && (name == "test" ? has_test(v.as_string()) : true);
  }
  render_fail("unknown test '{}'", name);
}

Value get_global(std::string_view name) {
  if (name == "range") {
    return Value::function("range", [](CallArgs& args) {
      std::vector<int64_t> a;
      for (const auto& v : args.positional) {
        if (!v.is_int()) render_fail("range() needs integer arguments, got a {}", v.type_name());
        a.push_back(v.as_int());
      }
      if (a.empty() || a.size() > 3) render_fail("range() takes 1 to 3 arguments");
      const int64_t start = a.size() == 1 ? 0 : a[0];
      const int64_t stop = a.size() == 1 ? a[0] : a[1];
      const int64_t step = a.size() == 3 ? a[2] : 1;
      if (step == 0) render_fail("range() step must not be zero");
      std::vector<Value> items;
      for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (items.size() >= max_range_length) render_fail("range() is longer than {} items", max_range_length);
        items.emplace_back(i);
      }
      return Value::array(std::move(items));
    });
  }
  if (name == "dict") {
    return Value::function("dict", [](CallArgs& args) {
      Value out = Value::object();
      if (!args.positional.empty()) {
        const Value& source = args.positional[0];
        if (source.is_mapping()) {
          for (const auto& [k, v] : source.as_object().entries) out.as_object().set(k, v);
        } else if (source.is_array()) {
          for (const auto& pair : source.as_array().items) {
            if (!pair.is_array() || pair.as_array().items.size() != 2 || !pair.as_array().items[0].is_string()) {
              render_fail("dict() needs (key, value) pairs with string keys");
            }
            out.as_object().set(pair.as_array().items[0].as_string(), pair.as_array().items[1]);
          }
        } else {
          render_fail("dict() cannot convert a {}", source.type_name());
        }
      }
      for (const auto& [k, v] : args.keyword) out.as_object().set(k, v);
      return out;
    });
  }
  if (name == "namespace") {
    return Value::function("namespace", [](CallArgs& args) {
      Value out = Value::object();
      out.as_object().is_namespace = true;
      if (args.positional.size() > 1) render_fail("namespace() takes at most one positional argument");
      if (!args.positional.empty()) {
        if (!args.positional[0].is_object()) render_fail("namespace() needs a dict");
        for (const auto& [k, v] : args.positional[0].as_object().entries) out.as_object().set(k, v);
      }
      for (const auto& [k, v] : args.keyword) out.as_object().set(k, v);
      return out;
    });
  }
  if (name == "raise_exception") {
    return Value::function("raise_exception", [](CallArgs& args) -> Value {
      const Value* message = args.get(0, "message");
      throw RaisedError(message ? to_output(*message) : std::string("raise_exception() was called"));
    });
  }
  if (name == "strftime_now") {
    return Value::function("strftime_now", [](CallArgs& args) {
      const Value* format = args.get(0, "format");
      if (!format || !format->is_string()) render_fail("strftime_now() needs a format string");
      const std::time_t now = std::time(nullptr);
      std::tm local{};
      localtime_r(&now, &local);
      char buffer[512];
      const size_t n = std::strftime(buffer, sizeof buffer, format->as_string().c_str(), &local);
      return Value(std::string(buffer, n));
    });
  }
  return Value();
}

}  // namespace ingot::chat
