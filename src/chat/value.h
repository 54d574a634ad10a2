// The values a chat template computes with: undefined, none, bool, int, float, string, list,
// dict (insertion-ordered), namespace and callable. Lists and dicts are shared by reference, as
// in Jinja, so `namespace` attributes and list.append are visible through every alias.
// Printing and JSON follow @huggingface/jinja (the reference renderer the tests compare with).
// Costs: dict lookup is a linear scan (chat dicts have a handful of keys); copies of strings.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ingot::chat {

class Value;

struct ArrayData {
  std::vector<Value> items;
  bool is_tuple = false;
};

struct ObjectData {
  std::vector<std::pair<std::string, Value>> entries;
  bool is_namespace = false;  // namespace(): attribute-settable, not a mapping

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(std::string key, Value value);
};

// Arguments of a call: positional values and keyword values, in source order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  const Value* keyword_arg(std::string_view name) const;
  // The argument at `index` or named `name`, or nullptr when neither was passed.
  const Value* get(size_t index, std::string_view name) const;
};

struct Callable {
  std::string name;
  std::function<Value(CallArgs&)> call;
};

class Value {
 public:
  enum class Kind { undefined, none, boolean, integer, floating, string, array, object, callable };

  Value() = default;  // undefined
  static Value none() { return Value(std::nullptr_t{}); }
  Value(std::nullptr_t) : data_(std::nullptr_t{}) {}
  Value(bool b) : data_(b) {}
  Value(int64_t i) : data_(i) {}
  Value(int i) : data_(static_cast<int64_t>(i)) {}
  Value(double d) : data_(d) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(std::shared_ptr<ArrayData> a) : data_(std::move(a)) {}
  Value(std::shared_ptr<ObjectData> o) : data_(std::move(o)) {}
  Value(std::shared_ptr<Callable> f) : data_(std::move(f)) {}

  static Value array(std::vector<Value> items = {}, bool is_tuple = false);
  static Value object();
  static Value function(std::string name, std::function<Value(CallArgs&)> call);
  static Value from_json(const nlohmann::ordered_json& json);
  static Value from_json(const nlohmann::json& json);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_undefined() const { return kind() == Kind::undefined; }
  bool is_none() const { return kind() == Kind::none; }
  bool is_bool() const { return kind() == Kind::boolean; }
  bool is_int() const { return kind() == Kind::integer; }
  bool is_float() const { return kind() == Kind::floating; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return kind() == Kind::string; }
  bool is_array() const { return kind() == Kind::array; }
  bool is_object() const { return kind() == Kind::object; }
  bool is_mapping() const { return is_object() && !as_object().is_namespace; }
  bool is_namespace() const { return is_object() && as_object().is_namespace; }
  bool is_callable() const { return kind() == Kind::callable; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return std::get<int64_t>(data_); }
  double as_float() const { return std::get<double>(data_); }
  double as_number() const;  // int, float or bool as a double
  const std::string& as_string() const { return std::get<std::string>(data_); }
  ArrayData& as_array() const { return *std::get<std::shared_ptr<ArrayData>>(data_); }
  ObjectData& as_object() const { return *std::get<std::shared_ptr<ObjectData>>(data_); }
  const Callable& as_callable() const { return *std::get<std::shared_ptr<Callable>>(data_); }
  const void* identity() const;  // the shared container, for identity checks; nullptr otherwise

  bool truthy() const;
  std::string_view type_name() const;

 private:
  std::variant<std::monostate, std::nullptr_t, bool, int64_t, double, std::string, std::shared_ptr<ArrayData>,
               std::shared_ptr<ObjectData>, std::shared_ptr<Callable>>
      data_;
};

// Python-like equality: numbers (and bools) by value, strings by content, containers deeply;
// none and undefined are equal to each other (as in the reference renderer).
bool values_equal(const Value& a, const Value& b);

// What `{{ value }}` prints: none and undefined print nothing; floats keep a ".0";
// lists and dicts print as JSON.
std::string to_output(const Value& value);
// What `+` and `~` use for a non-string operand (the reference renderer's string coercion).
std::string to_concat(const Value& value);

struct JsonFormat {
  int indent = -1;  // < 0: one line
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_separator;  // empty: ", " (or "," when indenting)
  std::string key_separator;   // empty: ": "
};
// The `tojson` filter. undefined_as_null=false prints undefined as `undefined` (used by printing).
std::string to_json_text(const Value& value, const JsonFormat& format, bool undefined_as_null = true);
// A value as nlohmann JSON (undefined becomes null; callables are an error).
nlohmann::ordered_json to_json(const Value& value);

// JavaScript's Number#toString for a double: the shortest round-trip digits.
std::string format_number(double value);
// A JSON string literal of `text`, escaped as JSON.stringify does (optionally \u-escaping non-ASCII).
std::string json_quote(std::string_view text, bool ensure_ascii);

}  // namespace ingot::chat
