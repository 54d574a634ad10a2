// The filters of the template language (`value | name(args)`).
#include "chat/builtins.h"
#include "chat/text.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace ingot::chat {
namespace {

const Value& arg_or(const CallArgs& args, size_t index, std::string_view name, const Value& fallback) {
  const Value* v = args.get(index, name);
  return v ? *v : fallback;
}

bool flag(const CallArgs& args, size_t index, std::string_view name, bool fallback) {
  const Value* v = args.get(index, name);
  return v ? v->truthy() : fallback;
}

// `a.b.0` attribute paths of sort, map, selectattr, groupby.
Value attribute_path(const Value& item, const Value& path) {
  if (path.is_int()) return get_item(item, path);
  if (!path.is_string()) render_fail("an attribute name must be a string, got a {}", path.type_name());
  Value v = item;
  std::string_view rest = path.as_string();
  while (true) {
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    const bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    v = numeric && v.is_array() ? get_item(v, Value(static_cast<int64_t>(std::strtoll(std::string(part).c_str(), nullptr, 10))))
                                : get_item(v, Value(std::string(part)));
    if (dot == std::string_view::npos) return v;
    rest.remove_prefix(dot + 1);
  }
}

std::vector<Value> as_list(const Value& v, std::string_view filter) {
  if (v.is_undefined()) return {};
  if (v.is_array() || v.is_object() || v.is_string()) return iterate(v);
  render_fail("filter '{}' needs a list, got a {}", filter, v.type_name());
}

const std::string& need_string(const Value& v, std::string_view filter) {
  if (!v.is_string()) render_fail("filter '{}' needs a string, got a {}", filter, v.type_name());
  return v.as_string();
}

// How join and friends print one item: strings as they are, numbers as JavaScript prints them.
std::string item_text(const Value& v) {
  if (v.is_float()) return format_number(v.as_float());
  return to_output(v);
}

// select/reject and selectattr/rejectattr: the test named by the first remaining argument.
bool run_item_test(const Value& v, const CallArgs& args, size_t first) {
  if (args.positional.size() <= first) return v.truthy();
  const Value& test = args.positional[first];
  if (!test.is_string()) render_fail("a test name must be a string");
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(first) + 1, args.positional.end());
  rest.keyword = args.keyword;
  return apply_test(test.as_string(), v, rest);
}

Value sorted(const Value& operand, CallArgs& args) {
  std::vector<Value> items = as_list(operand, "sort");
  const bool reverse = flag(args, 0, "reverse", false);
  const bool case_sensitive = flag(args, 1, "case_sensitive", false);
  const Value none;
  const Value& attribute = arg_or(args, 2, "attribute", none);
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& item : items) {
    Value key = attribute.is_undefined() || attribute.is_none() ? item : attribute_path(item, attribute);
    keyed.emplace_back(std::move(key), std::move(item));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    const int c = compare_values(a.first, b.first, case_sensitive);
    return reverse ? c > 0 : c < 0;
  });
  std::vector<Value> out;
  for (auto& [key, item] : keyed) out.push_back(std::move(item));
  return Value::array(std::move(out));
}

Value dictsort(const Value& operand, CallArgs& args) {
  if (!operand.is_object()) render_fail("filter 'dictsort' needs a dict, got a {}", operand.type_name());
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  const Value by_default("key");
  const Value& by = arg_or(args, 1, "by", by_default);
  const bool reverse = flag(args, 2, "reverse", false);
  if (!by.is_string() || (by.as_string() != "key" && by.as_string() != "value")) {
    render_fail("dictsort: 'by' must be 'key' or 'value'");
  }
  const size_t index = by.as_string() == "key" ? 0 : 1;
  std::vector<Value> pairs;
  for (const auto& [k, v] : operand.as_object().entries) pairs.push_back(Value::array({Value(k), v}, true));
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
    const int c = compare_values(a.as_array().items[index], b.as_array().items[index], case_sensitive);
    return reverse ? c > 0 : c < 0;
  });
  return Value::array(std::move(pairs));
}

Value tojson(const Value& operand, CallArgs& args) {
  JsonFormat format;
  const Value none;
  const Value& indent = arg_or(args, 0, "indent", none);
  if (indent.is_int()) {
    if (indent.as_int() < 0 || indent.as_int() > 64) render_fail("tojson indent must be between 0 and 64");
    format.indent = static_cast<int>(indent.as_int());
  } else if (!indent.is_none() && !indent.is_undefined()) {
    render_fail("tojson indent must be an integer");
  }
  format.ensure_ascii = flag(args, 99, "ensure_ascii", false);
  format.sort_keys = flag(args, 99, "sort_keys", false);
  const Value& separators = arg_or(args, 99, "separators", none);
  if (separators.is_array()) {
    const auto& s = separators.as_array().items;
    if (s.size() != 2 || !s[0].is_string() || !s[1].is_string()) render_fail("tojson separators must be two strings");
    format.item_separator = s[0].as_string();
    format.key_separator = s[1].as_string();
  }
  return Value(to_json_text(operand, format));
}

Value indent(const Value& operand, CallArgs& args) {
  const std::string& s = need_string(operand, "indent");
  const Value four(int64_t{4});
  const Value& width = arg_or(args, 0, "width", four);
  std::string pad;
  if (width.is_int()) {
    if (width.as_int() < 0 || width.as_int() > 1024) render_fail("indent width must be between 0 and 1024");
    pad.assign(static_cast<size_t>(width.as_int()), ' ');
  } else if (width.is_string()) {
    pad = width.as_string();
  } else {
    render_fail("indent width must be an integer or a string");
  }
  const bool first = flag(args, 1, "first", false);
  const bool blank = flag(args, 2, "blank", false);
  std::string out;
  size_t start = 0;
  for (size_t line = 0;; ++line) {
    const size_t end = s.find('\n', start);
    const std::string_view text = std::string_view(s).substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!((line == 0 && !first) || (text.empty() && !blank))) out += pad;
    out += text;
    if (end == std::string::npos) break;
    out += '\n';
    start = end + 1;
  }
  return Value(std::move(out));
}

Value round_filter(const Value& operand, CallArgs& args) {
  if (!operand.is_number() && !operand.is_bool()) render_fail("filter 'round' needs a number");
  const Value zero(int64_t{0});
  const Value common("common");
  const Value& precision = arg_or(args, 0, "precision", zero);
  const Value& method = arg_or(args, 1, "method", common);
  if (!precision.is_int() || !method.is_string()) render_fail("round(precision, method) needs an integer and a string");
  const double scale = std::pow(10.0, static_cast<double>(precision.as_int()));
  const double x = operand.as_number() * scale;
  double r = 0;
  if (method.as_string() == "common") {
    r = std::round(x);
  } else if (method.as_string() == "ceil") {
    r = std::ceil(x);
  } else if (method.as_string() == "floor") {
    r = std::floor(x);
  } else {
    render_fail("round method must be 'common', 'ceil' or 'floor'");
  }
  return Value(r / scale);
}

Value to_int(const Value& operand, CallArgs& args) {
  const Value zero(int64_t{0});
  const Value& fallback = arg_or(args, 0, "default", zero);
  if (operand.is_int()) return operand;
  if (operand.is_bool()) return Value(static_cast<int64_t>(operand.as_bool()));
  if (operand.is_float()) {
    const double d = operand.as_float();
    if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return fallback;
    return Value(static_cast<int64_t>(std::trunc(d)));
  }
  if (operand.is_string()) {
    const std::string s(trim(operand.as_string()));
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(static_cast<int64_t>(v));
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value(static_cast<int64_t>(std::trunc(d)));
    }
  }
  return fallback;
}

Value to_float(const Value& operand, CallArgs& args) {
  const Value zero(0.0);
  const Value& fallback = arg_or(args, 0, "default", zero);
  if (operand.is_number() || operand.is_bool()) return Value(operand.as_number());
  if (operand.is_string()) {
    const std::string s(trim(operand.as_string()));
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
  }
  return fallback;
}

Value min_max(const Value& operand, CallArgs& args, bool want_max) {
  const std::vector<Value> items = as_list(operand, want_max ? "max" : "min");
  if (items.empty()) return Value();
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  const Value none;
  const Value& attribute = arg_or(args, 1, "attribute", none);
  const auto key = [&](const Value& v) { return attribute.is_string() ? attribute_path(v, attribute) : v; };
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const int c = compare_values(key(items[i]), key(items[best]), case_sensitive);
    if (want_max ? c > 0 : c < 0) best = i;
  }
  return items[best];
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

Value apply_filter(std::string_view name, const Value& operand, CallArgs& args) {
  if (name == "safe") return operand;
  if (name == "tojson") return tojson(operand, args);
  if (name == "default" || name == "d") {
    const Value empty("");
    const Value& fallback = arg_or(args, 0, "default_value", empty);
    if (operand.is_undefined() || (flag(args, 1, "boolean", false) && !operand.truthy())) return fallback;
    return operand;
  }
  if (name == "length" || name == "count") {
    if (operand.is_string()) return Value(static_cast<int64_t>(code_point_count(operand.as_string())));
    if (operand.is_array()) return Value(static_cast<int64_t>(operand.as_array().items.size()));
    if (operand.is_object()) return Value(static_cast<int64_t>(operand.as_object().entries.size()));
    if (operand.is_undefined()) return Value(int64_t{0});
    render_fail("filter '{}' needs a string, list or dict, got a {}", name, operand.type_name());
  }
  if (name == "string") {
    if (operand.is_undefined()) return Value(std::string());
    return Value(to_output(operand));
  }
  if (name == "trim") {
    if (operand.is_undefined()) return Value(std::string());
    const Value* chars = args.get(0, "chars");
    const std::string& s = need_string(operand, "trim");
    if (chars && chars->is_string()) return Value(std::string(strip_chars(s, chars->as_string(), true, true)));
    return Value(std::string(trim(s)));
  }
  if (name == "upper") return Value(to_upper(need_string(operand, name)));
  if (name == "lower") return Value(to_lower(need_string(operand, name)));
  if (name == "title") return Value(title_case(need_string(operand, name)));
  if (name == "capitalize") return Value(capitalize(need_string(operand, name)));
  if (name == "escape" || name == "e") return Value(html_escape(to_output(operand)));
  if (name == "replace") {
    const Value method = get_attribute(Value(need_string(operand, name)), "replace");
    return method.as_callable().call(args);
  }
  if (name == "indent") return indent(operand, args);
  if (name == "int") return to_int(operand, args);
  if (name == "float") return to_float(operand, args);
  if (name == "abs") {
    if (operand.is_int()) return Value(operand.as_int() < 0 ? -operand.as_int() : operand.as_int());
    if (operand.is_float()) return Value(std::fabs(operand.as_float()));
    render_fail("filter 'abs' needs a number, got a {}", operand.type_name());
  }
  if (name == "round") return round_filter(operand, args);
  if (name == "bool") return Value(operand.truthy());
  if (name == "attr") {
    const Value* attribute = args.get(0, "name");
    if (!attribute || !attribute->is_string()) render_fail("filter 'attr' needs an attribute name");
    return get_attribute(operand, attribute->as_string());
  }
  if (name == "list") return Value::array(as_list(operand, name));
  if (name == "items") {
    if (operand.is_undefined() || operand.is_none()) return Value::array();
    if (!operand.is_object()) render_fail("filter 'items' needs a dict, got a {}", operand.type_name());
    return get_attribute(operand, "items").as_callable().call(args);
  }
  if (name == "keys" || name == "values") {
    if (!operand.is_object()) render_fail("filter '{}' needs a dict, got a {}", name, operand.type_name());
    CallArgs none;
    return get_attribute(operand, name).as_callable().call(none);
  }
  if (name == "dictsort") return dictsort(operand, args);
  if (name == "first" || name == "last") {
    const std::vector<Value> items = as_list(operand, name);
    if (items.empty()) return Value();
    return name == "first" ? items.front() : items.back();
  }
  if (name == "reverse") {
    if (operand.is_string()) {
      const std::vector<Value> chars = iterate(operand);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->as_string();
      return Value(std::move(out));
    }
    std::vector<Value> items = as_list(operand, name);
    std::reverse(items.begin(), items.end());
    return Value::array(std::move(items));
  }
  if (name == "join") {
    const Value empty("");
    const Value& separator = arg_or(args, 0, "d", empty);
    const Value none;
    const Value& attribute = arg_or(args, 1, "attribute", none);
    if (!separator.is_string()) render_fail("join separator must be a string");
    const std::vector<Value> items = as_list(operand, name);
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += separator.as_string();
      out += item_text(attribute.is_undefined() ? items[i] : attribute_path(items[i], attribute));
      if (out.size() > max_value_bytes) render_fail("join result is too large");
    }
    return Value(std::move(out));
  }
  if (name == "unique") {
    std::vector<Value> out;
    for (const auto& item : as_list(operand, name)) {
      if (std::none_of(out.begin(), out.end(), [&](const Value& seen) { return values_equal(seen, item); })) {
        out.push_back(item);
      }
    }
    return Value::array(std::move(out));
  }
  if (name == "sort") return sorted(operand, args);
  if (name == "min" || name == "max") return min_max(operand, args, name == "max");
  if (name == "sum") {
    const Value none;
    const Value& attribute = arg_or(args, 0, "attribute", none);
    const Value zero(int64_t{0});
    Value total = arg_or(args, 1, "start", zero);
    for (const auto& item : as_list(operand, name)) {
      const Value v = attribute.is_string() ? attribute_path(item, attribute) : item;
      if (!v.is_number() || !total.is_number()) render_fail("filter 'sum' needs numbers");
      total = total.is_int() && v.is_int() ? Value(total.as_int() + v.as_int()) : Value(total.as_number() + v.as_number());
    }
    return total;
  }
  if (name == "batch") {
    const Value* size = args.get(0, "linecount");
    if (!size || !size->is_int() || size->as_int() <= 0) render_fail("filter 'batch' needs a positive size");
    const Value* fill = args.get(1, "fill_with");
    std::vector<Value> out, current;
    for (const auto& item : as_list(operand, name)) {
      current.push_back(item);
      if (static_cast<int64_t>(current.size()) == size->as_int()) {
        out.push_back(Value::array(std::move(current)));
        current.clear();
      }
    }
    if (!current.empty()) {
      if (fill && !fill->is_none()) {
        while (static_cast<int64_t>(current.size()) < size->as_int()) current.push_back(*fill);
      }
      out.push_back(Value::array(std::move(current)));
    }
    return Value::array(std::move(out));
  }
  if (name == "map") {
    std::vector<Value> out;
    const Value* attribute = args.keyword_arg("attribute");
    const Value* fallback = args.keyword_arg("default");
    for (const auto& item : as_list(operand, name)) {
      if (attribute) {
        Value v = attribute_path(item, *attribute);
        out.push_back(v.is_undefined() && fallback ? *fallback : std::move(v));
      } else {
        if (args.positional.empty() || !args.positional[0].is_string()) render_fail("map needs a filter name or attribute=");
        CallArgs rest;
        rest.positional.assign(args.positional.begin() + 1, args.positional.end());
        rest.keyword = args.keyword;
        out.push_back(apply_filter(args.positional[0].as_string(), item, rest));
      }
    }
    return Value::array(std::move(out));
  }
  if (name == "select" || name == "reject") {
    std::vector<Value> out;
    for (const auto& item : as_list(operand, name)) {
      if (run_item_test(item, args, 0) == (name == "select")) out.push_back(item);
    }
    return Value::array(std::move(out));
  }
  if (name == "selectattr" || name == "rejectattr") {
    if (args.positional.empty()) render_fail("filter '{}' needs an attribute name", name);
    std::vector<Value> out;
    for (const auto& item : as_list(operand, name)) {
      const Value v = attribute_path(item, args.positional[0]);
      if (run_item_test(v, args, 1) == (name == "selectattr")) out.push_back(item);
    }
    return Value::array(std::move(out));
  }
  render_fail("unknown filter '{}'", name);
}

}  // namespace ingot::chat
