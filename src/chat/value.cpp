#include "chat/value.h"

#include "core/error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace ingot::chat {

const Value* ObjectData::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* ObjectData::find(std::string_view key) {
  for (auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ObjectData::set(std::string key, Value value) {
  if (Value* existing = find(key)) {
    *existing = std::move(value);
  } else {
    entries.emplace_back(std::move(key), std::move(value));
  }
}

const Value* CallArgs::keyword_arg(std::string_view name) const {
  for (const auto& [k, v] : keyword) {
    if (k == name) return &v;
  }
  return nullptr;
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  if (index < positional.size()) return &positional[index];
  return keyword_arg(name);
}

Value Value::array(std::vector<Value> items, bool is_tuple) {
  auto data = std::make_shared<ArrayData>();
  data->items = std::move(items);
  data->is_tuple = is_tuple;
  return Value(std::move(data));
}

Value Value::object() { return Value(std::make_shared<ObjectData>()); }

Value Value::function(std::string name, std::function<Value(CallArgs&)> call) {
  auto callable = std::make_shared<Callable>();
  callable->name = std::move(name);
  callable->call = std::move(call);
  return Value(std::move(callable));
}

namespace {

template <typename Json>
Value value_from_json(const Json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value(json.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const uint64_t u = json.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.template get<std::string>());
    case nlohmann::json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(value_from_json(item));
      return Value::array(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Value object = Value::object();
      for (auto it = json.begin(); it != json.end(); ++it) {
        object.as_object().set(it.key(), value_from_json(it.value()));
      }
      return object;
    }
    case nlohmann::json::value_t::binary:
      break;
  }
  fail(ErrorCode::invalid_argument, "chat template: binary JSON values are not supported");
}

}  // namespace

Value Value::from_json(const nlohmann::ordered_json& json) { return value_from_json(json); }
Value Value::from_json(const nlohmann::json& json) { return value_from_json(json); }

double Value::as_number() const {
  if (is_int()) return static_cast<double>(as_int());
  if (is_bool()) return as_bool() ? 1.0 : 0.0;
  return as_float();
}

const void* Value::identity() const {
  if (is_array()) return &as_array();
  if (is_object()) return &as_object();
  if (is_callable()) return &as_callable();
  return nullptr;
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::undefined:
    case Kind::none:
      return false;
    case Kind::boolean:
      return as_bool();
    case Kind::integer:
      return as_int() != 0;
    case Kind::floating:
      return as_float() != 0.0 && !std::isnan(as_float());
    case Kind::string:
      return !as_string().empty();
    case Kind::array:
      return !as_array().items.empty();
    case Kind::object:
      return as_object().is_namespace || !as_object().entries.empty();
    case Kind::callable:
      return true;
  }
  return false;
}

std::string_view Value::type_name() const {
  switch (kind()) {
    case Kind::undefined: return "undefined";
    case Kind::none: return "none";
    case Kind::boolean: return "boolean";
    case Kind::integer: return "integer";
    case Kind::floating: return "float";
    case Kind::string: return "string";
    case Kind::array: return as_array().is_tuple ? "tuple" : "list";
    case Kind::object: return as_object().is_namespace ? "namespace" : "dict";
    case Kind::callable: return "function";
  }
  return "?";
}

bool values_equal(const Value& a, const Value& b) {
  const bool a_num = a.is_number() || a.is_bool();
  const bool b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_number() == b.as_number();
  }
  const bool a_nothing = a.is_none() || a.is_undefined();
  const bool b_nothing = b.is_none() || b.is_undefined();
  if (a_nothing || b_nothing) return a_nothing && b_nothing;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::string:
      return a.as_string() == b.as_string();
    case Value::Kind::array: {
      const auto& x = a.as_array().items;
      const auto& y = b.as_array().items;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!values_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case Value::Kind::object: {
      const auto& x = a.as_object();
      const auto& y = b.as_object();
      if (&x == &y) return true;
      if (x.is_namespace || y.is_namespace || x.entries.size() != y.entries.size()) return false;
      for (const auto& [key, value] : x.entries) {
        const Value* other = y.find(key);
        if (!other || !values_equal(value, *other)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-Infinity" : "Infinity";
  if (value == 0) return "0";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
  std::string sign;
  if (text.front() == '-') {
    sign = "-";
    text.remove_prefix(1);
  }
  const size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int exponent = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+' ? 1 : 0), text.data() + text.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // the decimal point sits after n digits
  std::string out = sign;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? "+" : "-";
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

namespace {

// FloatValue#toString of the reference: integral floats keep one decimal ("2.0").
std::string format_float(double value) {
  if (value == 0 && std::signbit(value)) return "-0.0";
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 1e21) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
    return buffer;
  }
  return format_number(value);
}

}  // namespace

std::string json_quote(std::string_view text, bool ensure_ascii) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 && ensure_ascii) {
      size_t length = 1;
      uint32_t cp = 0;
      // decode inline to avoid a dependency cycle with text.h
      if ((c & 0xE0) == 0xC0 && i + 1 < text.size()) {
        cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
        length = 2;
      } else if ((c & 0xF0) == 0xE0 && i + 2 < text.size()) {
        cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6) |
             (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
        length = 3;
      } else if ((c & 0xF8) == 0xF0 && i + 3 < text.size()) {
        cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 12) |
             ((static_cast<unsigned char>(text[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(text[i + 3]) & 0x3Fu);
        length = 4;
      } else {
        cp = 0xFFFD;
      }
      const auto unit = [&](uint32_t u) {
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out += hex[(u >> shift) & 0xF];
      };
      if (cp >= 0x10000) {
        cp -= 0x10000;
        unit(0xD800 + (cp >> 10));
        unit(0xDC00 + (cp & 0x3FF));
      } else {
        unit(cp);
      }
      i += length;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else if (c == 0x7F && ensure_ascii) {
          out += "\\u007f";
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

namespace {

void write_json(std::string& out, const Value& value, const JsonFormat& format, int depth, bool undefined_as_null) {
  const bool indenting = format.indent > 0;
  const std::string item_sep = !format.item_separator.empty() ? format.item_separator : (indenting ? "," : ", ");
  const std::string key_sep = !format.key_separator.empty() ? format.key_separator : ": ";
  const auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<size_t>(level) * static_cast<size_t>(format.indent), ' ');
  };
  switch (value.kind()) {
    case Value::Kind::undefined:
      out += undefined_as_null ? "null" : "undefined";
      return;
    case Value::Kind::none:
      out += "null";
      return;
    case Value::Kind::boolean:
      out += value.as_bool() ? "true" : "false";
      return;
    case Value::Kind::integer:
      out += std::to_string(value.as_int());
      return;
    case Value::Kind::floating:
      out += std::isfinite(value.as_float()) ? format_number(value.as_float()) : "null";
      return;
    case Value::Kind::string:
      out += json_quote(value.as_string(), format.ensure_ascii);
      return;
    case Value::Kind::array: {
      const auto& items = value.as_array().items;
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += item_sep;
        if (indenting) newline(depth + 1);
        write_json(out, items[i], format, depth + 1, undefined_as_null);
      }
      if (indenting && !items.empty()) newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::object: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : value.as_object().entries) entries.push_back(&entry);
      if (format.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i > 0) out += item_sep;
        if (indenting) newline(depth + 1);
        out += json_quote(entries[i]->first, format.ensure_ascii);
        out += key_sep;
        write_json(out, entries[i]->second, format, depth + 1, undefined_as_null);
      }
      if (indenting && !entries.empty()) newline(depth);
      out += '}';
      return;
    }
    case Value::Kind::callable:
      fail(ErrorCode::invalid_argument, "cannot convert a function to JSON");
  }
}

}  // namespace

std::string to_json_text(const Value& value, const JsonFormat& format, bool undefined_as_null) {
  std::string out;
  write_json(out, value, format, 0, undefined_as_null);
  return out;
}

nlohmann::ordered_json to_json(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none:
      return nullptr;
    case Value::Kind::boolean:
      return value.as_bool();
    case Value::Kind::integer:
      return value.as_int();
    case Value::Kind::floating:
      return value.as_float();
    case Value::Kind::string:
      return value.as_string();
    case Value::Kind::array: {
      auto out = nlohmann::ordered_json::array();
      for (const auto& item : value.as_array().items) out.push_back(to_json(item));
      return out;
    }
    case Value::Kind::object: {
      auto out = nlohmann::ordered_json::object();
      for (const auto& [key, item] : value.as_object().entries) out[key] = to_json(item);
      return out;
    }
    case Value::Kind::callable:
      break;
  }
  fail(ErrorCode::invalid_argument, "cannot convert a function to JSON");
}

std::string to_output(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none:
      return "";
    case Value::Kind::boolean:
      return value.as_bool() ? "true" : "false";
    case Value::Kind::integer:
      return std::to_string(value.as_int());
    case Value::Kind::floating:
      return format_float(value.as_float());
    case Value::Kind::string:
      return value.as_string();
    case Value::Kind::array:
    case Value::Kind::object:
      return to_json_text(value, JsonFormat{}, false);
    case Value::Kind::callable:
      return "<function " + value.as_callable().name + ">";
  }
  return "";
}

namespace {

// How one element prints when a list is coerced to a string (Array#toString of runtime values).
std::string element_string(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::undefined: return "undefined";
    case Value::Kind::none: return "null";
    default: return to_output(value);
  }
}

}  // namespace

std::string to_concat(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::floating:
      return format_number(value.as_float());
    case Value::Kind::array: {
      std::string out;
      const auto& items = value.as_array().items;
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ',';
        out += element_string(items[i]);
      }
      return out;
    }
    case Value::Kind::object:
      return "[object Map]";
    default:
      return element_string(value);
  }
}

}  // namespace ingot::chat
