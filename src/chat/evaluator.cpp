#include "chat/evaluator.h"

#include "chat/builtins.h"
#include "core/error.h"

#include <cmath>

namespace ingot::chat {

const Value* Scope::lookup(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent_.get()) {
    auto it = s->vars_.find(name);
    if (it != s->vars_.end()) return &it->second;
  }
  return nullptr;
}

namespace {

using ScopePtr = std::shared_ptr<Scope>;

enum class Flow { normal, break_loop, continue_loop };

// Python's floor division and modulo on integers (the result takes the divisor's sign).
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

class Evaluator {
 public:
  explicit Evaluator(const RenderLimits& limits) : limits_(limits) {}

  std::string run(const StmtList& program, ScopePtr globals) {
    std::string out;
    try {
      exec_list(program, std::make_shared<Scope>(std::move(globals)), out);
    } catch (const RaisedError& e) {
      fail(ErrorCode::invalid_argument, "chat template raised an exception at line {}:{}: {}", position_.line,
           position_.column, e.what());
    } catch (const RenderError& e) {
      fail(ErrorCode::invalid_argument, "chat template error at line {}:{}: {}", position_.line, position_.column,
           e.what());
    } catch (const Error& e) {
      if (e.code() == ErrorCode::out_of_range) throw;
      fail(ErrorCode::invalid_argument, "chat template error at line {}:{}: {}", position_.line, position_.column,
           e.what());
    }
    return out;
  }

 private:
  void step(Position at) {
    position_ = at;
    if (++steps_ > limits_.max_steps) {
      fail(ErrorCode::out_of_range, "chat template at line {}:{} ran past {} steps (a runaway loop?)", at.line,
           at.column, limits_.max_steps);
    }
  }

  void emit(std::string& out, std::string_view text) {
    if (out.size() + text.size() > limits_.max_output_bytes) {
      fail(ErrorCode::out_of_range, "chat template at line {}:{} produced more than {} bytes of output",
           position_.line, position_.column, limits_.max_output_bytes);
    }
    out += text;
  }

  // ---- statements -----------------------------------------------------------------------------
  Flow exec_list(const StmtList& list, const ScopePtr& scope, std::string& out) {
    for (const auto& stmt : list) {
      const Flow flow = exec(*stmt, scope, out);
      if (flow != Flow::normal) return flow;
    }
    return Flow::normal;
  }

  Flow exec(const Stmt& s, const ScopePtr& scope, std::string& out) {
    step(s.position);
    switch (s.kind) {
      case StmtKind::text:
        emit(out, s.text);
        return Flow::normal;
      case StmtKind::output: {
        const Value v = eval(*s.expr, scope);
        position_ = s.position;
        emit(out, to_output(v));
        return Flow::normal;
      }
      case StmtKind::if_:
        return exec_list(eval(*s.expr, scope).truthy() ? s.body : s.else_body, scope, out);
      case StmtKind::for_:
        exec_for(s, scope, out);
        return Flow::normal;
      case StmtKind::set: {
        Value v;
        if (s.expr) {
          v = eval(*s.expr, scope);
        } else {
          std::string text;
          exec_list(s.body, scope, text);
          v = Value(std::move(text));
        }
        position_ = s.position;
        assign(*s.target, std::move(v), scope);
        return Flow::normal;
      }
      case StmtKind::macro:
        scope->set(s.text, make_macro(s, s.text, scope));
        return Flow::normal;
      case StmtKind::call_block:
        exec_call_block(s, scope, out);
        return Flow::normal;
      case StmtKind::filter_block: {
        std::string text;
        exec_list(s.body, scope, text);
        const Value v = eval_filter(*s.expr, scope, Value(std::move(text)));
        emit(out, to_output(v));
        return Flow::normal;
      }
      case StmtKind::break_:
        return Flow::break_loop;
      case StmtKind::continue_:
        return Flow::continue_loop;
    }
    return Flow::normal;
  }

  void assign(const Expr& target, Value value, const ScopePtr& scope) {
    if (target.kind == ExprKind::identifier) {
      scope->set(target.name, std::move(value));
      return;
    }
    if (target.kind == ExprKind::attribute) {
      const Value object = eval(*target.children[0], scope);
      if (!object.is_namespace()) {
        render_fail("cannot set attribute '{}' on a {}: only a namespace() accepts attribute assignment",
                    target.name, object.type_name());
      }
      object.as_object().set(target.name, std::move(value));
      return;
    }
    // a tuple of names
    const std::vector<Value> items = value.is_array() ? value.as_array().items : iterate(value);
    if (items.size() != target.children.size()) {
      render_fail("cannot unpack {} values into {} names", items.size(), target.children.size());
    }
    for (size_t i = 0; i < items.size(); ++i) assign(*target.children[i], items[i], scope);
  }

  void exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
    const Value iterable = eval(*s.expr, scope);
    position_ = s.position;
    if (iterable.is_undefined() || iterable.is_none()) {
      render_fail("cannot loop over {} value{}", iterable.type_name(),
                  s.expr->kind == ExprKind::identifier ? " '" + s.expr->name + "'" : std::string());
    }
    std::vector<Value> items = iterate(iterable);
    auto loop_scope = std::make_shared<Scope>(scope);
    if (s.condition) {
      std::vector<Value> kept;
      for (auto& item : items) {
        step(s.position);
        auto test_scope = std::make_shared<Scope>(loop_scope);
        assign(*s.target, item, test_scope);
        if (eval(*s.condition, test_scope).truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      step(s.position);
      Value loop = Value::object();
      ObjectData& o = loop.as_object();
      o.set("index", Value(i + 1));
      o.set("index0", Value(i));
      o.set("revindex", Value(n - i));
      o.set("revindex0", Value(n - i - 1));
      o.set("first", Value(i == 0));
      o.set("last", Value(i == n - 1));
      o.set("length", Value(n));
      o.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value());
      o.set("nextitem", i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value());
      o.set("depth", Value(1));
      o.set("depth0", Value(0));
      o.set("cycle", Value::function("cycle", [i](CallArgs& args) {
              if (args.positional.empty()) render_fail("loop.cycle() needs at least one value");
              return args.positional[static_cast<size_t>(i) % args.positional.size()];
            }));
      loop_scope->set("loop", std::move(loop));
      assign(*s.target, items[static_cast<size_t>(i)], loop_scope);
      if (exec_list(s.body, loop_scope, out) == Flow::break_loop) break;
    }
    if (n == 0) exec_list(s.else_body, loop_scope, out);
  }

  Value make_macro(const Stmt& s, const std::string& name, const ScopePtr& defining_scope) {
    const Stmt* macro = &s;
    // The closure holds its scope weakly (the scope holds the closure); the evaluator keeps
    // every defining scope alive until the render ends.
    scopes_kept_.push_back(defining_scope);
    std::weak_ptr<Scope> weak_scope = defining_scope;
    return Value::function(name, [this, macro, name, weak_scope](CallArgs& args) {
      const ScopePtr scope = weak_scope.lock();
      if (!scope) render_fail("macro '{}' was called after its template finished", name);
      return call_macro(*macro, name, scope, args);
    });
  }

  Value call_macro(const Stmt& macro, const std::string& name, const ScopePtr& defining_scope, CallArgs& args) {
    step(macro.position);
    if (++call_depth_ > limits_.max_call_depth) {
      fail(ErrorCode::out_of_range, "chat template macro '{}' nested deeper than {} calls (runaway recursion?)",
           name, limits_.max_call_depth);
    }
    struct DepthRestore {
      int& depth;
      ~DepthRestore() { --depth; }
    } restore{call_depth_};
    auto scope = std::make_shared<Scope>(defining_scope);
    const size_t n_params = macro.params.size();
    std::vector<Value> varargs;
    for (size_t i = 0; i < args.positional.size(); ++i) {
      if (i < n_params) {
        scope->set(macro.params[i].name, args.positional[i]);
      } else {
        varargs.push_back(args.positional[i]);
      }
    }
    Value kwargs = Value::object();
    std::vector<bool> bound(n_params, false);
    for (size_t i = 0; i < n_params && i < args.positional.size(); ++i) bound[i] = true;
    for (auto& [key, value] : args.keyword) {
      bool matched = false;
      for (size_t i = 0; i < n_params; ++i) {
        if (macro.params[i].name == key) {
          if (bound[i]) render_fail("macro '{}' got two values for argument '{}'", name, key);
          scope->set(key, value);
          bound[i] = matched = true;
          break;
        }
      }
      if (!matched) {
        if (key == "caller") {
          scope->set("caller", value);
        } else {
          kwargs.as_object().set(key, value);
        }
      }
    }
    for (size_t i = 0; i < n_params; ++i) {
      if (bound[i]) continue;
      const Param& p = macro.params[i];
      scope->set(p.name, p.default_value ? eval(*p.default_value, scope) : Value());
    }
    scope->set("varargs", Value::array(std::move(varargs)));
    scope->set("kwargs", std::move(kwargs));
    std::string out;
    exec_list(macro.body, scope, out);
    return Value(std::move(out));
  }

  void exec_call_block(const Stmt& s, const ScopePtr& scope, std::string& out) {
    const Expr& call = *s.expr;
    Value callee = eval(*call.children[0], scope);
    CallArgs args = eval_args(call, scope, 1);
    args.keyword.emplace_back("caller", make_macro(s, "caller", scope));
    position_ = s.position;
    if (!callee.is_callable()) render_fail("'call' needs a macro, got a {}", callee.type_name());
    const Value result = callee.as_callable().call(args);
    emit(out, to_output(result));
  }

  // ---- expressions ----------------------------------------------------------------------------
  CallArgs eval_args(const Expr& e, const ScopePtr& scope, size_t first) {
    CallArgs args;
    for (size_t i = first; i < e.children.size(); ++i) {
      Value v = eval(*e.children[i], scope);
      const std::string& name = e.arg_names[i - first];
      if (name.empty()) {
        args.positional.push_back(std::move(v));
      } else {
        args.keyword.emplace_back(name, std::move(v));
      }
    }
    return args;
  }

  // A filter node applied to `input` (the operand of the innermost filter of a filter block).
  Value eval_filter(const Expr& e, const ScopePtr& scope, Value input) {
    Value operand = e.children[0] ? (e.children[0]->kind == ExprKind::filter
                                         ? eval_filter(*e.children[0], scope, std::move(input))
                                         : eval(*e.children[0], scope))
                                  : std::move(input);
    CallArgs args = eval_args(e, scope, 1);
    position_ = e.position;
    return apply_filter(e.name, operand, args);
  }

  Value eval(const Expr& e, const ScopePtr& scope) {
    switch (e.kind) {
      case ExprKind::literal:
        return e.value;
      case ExprKind::identifier: {
        if (const Value* v = scope->lookup(e.name)) return *v;
        return get_global(e.name);
      }
      case ExprKind::list:
      case ExprKind::tuple: {
        std::vector<Value> items;
        items.reserve(e.children.size());
        for (const auto& c : e.children) items.push_back(eval(*c, scope));
        return Value::array(std::move(items), e.kind == ExprKind::tuple);
      }
      case ExprKind::dict: {
        Value dict = Value::object();
        for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
          Value key = eval(*e.children[i], scope);
          Value value = eval(*e.children[i + 1], scope);
          position_ = e.children[i]->position;
          if (!key.is_string()) render_fail("dict keys must be strings, got a {}", key.type_name());
          dict.as_object().set(key.as_string(), std::move(value));
        }
        return dict;
      }
      case ExprKind::attribute:
        return get_attribute(eval(*e.children[0], scope), e.name);
      case ExprKind::subscript: {
        Value object = eval(*e.children[0], scope);
        Value key = eval(*e.children[1], scope);
        position_ = e.position;
        return get_item(object, key);
      }
      case ExprKind::slice: {
        Value object = eval(*e.children[0], scope);
        Value parts[3];
        for (int i = 0; i < 3; ++i) {
          if (e.children[static_cast<size_t>(i) + 1]) parts[i] = eval(*e.children[static_cast<size_t>(i) + 1], scope);
        }
        position_ = e.position;
        return slice_value(object, parts[0], parts[1], parts[2]);
      }
      case ExprKind::call:
        return eval_call(e, scope);
      case ExprKind::filter:
        return eval_filter(e, scope, Value());
      case ExprKind::test: {
        Value operand = eval(*e.children[0], scope);
        CallArgs args = eval_args(e, scope, 1);
        position_ = e.position;
        const bool result = apply_test(e.name, operand, args);
        return Value(e.negate ? !result : result);
      }
      case ExprKind::unary:
        return eval_unary(e, scope);
      case ExprKind::binary:
        return eval_binary(e, scope);
      case ExprKind::ternary:
        if (eval(*e.children[0], scope).truthy()) return eval(*e.children[1], scope);
        return e.children[2] ? eval(*e.children[2], scope) : Value();
    }
    return Value();
  }

  Value eval_call(const Expr& e, const ScopePtr& scope) {
    Value callee = eval(*e.children[0], scope);
    CallArgs args = eval_args(e, scope, 1);
    position_ = e.position;
    if (!callee.is_callable()) {
      const Expr& c = *e.children[0];
      const std::string what = c.kind == ExprKind::identifier ? "'" + c.name + "'"
                               : c.kind == ExprKind::attribute ? "'" + c.name + "'"
                                                                 : "the value";
      if (callee.is_undefined()) render_fail("{} is undefined and cannot be called", what);
      render_fail("{} is a {}, not a function", what, callee.type_name());
    }
    return callee.as_callable().call(args);
  }

  Value eval_unary(const Expr& e, const ScopePtr& scope) {
    const Value v = eval(*e.children[0], scope);
    position_ = e.position;
    if (e.name == "not") return Value(!v.truthy());
    const bool negate = e.name == "-";
    if (v.is_int()) return Value(negate ? -v.as_int() : v.as_int());
    if (v.is_bool()) return Value(static_cast<int64_t>(negate ? -int(v.as_bool()) : int(v.as_bool())));
    if (v.is_float()) return Value(negate ? -v.as_float() : v.as_float());
    render_fail("unary '{}' needs a number, got a {}", e.name, v.type_name());
  }

  Value eval_binary(const Expr& e, const ScopePtr& scope) {
    const std::string& op = e.name;
    Value left = eval(*e.children[0], scope);
    if (op == "and") return left.truthy() ? eval(*e.children[1], scope) : left;
    if (op == "or") return left.truthy() ? left : eval(*e.children[1], scope);
    Value right = eval(*e.children[1], scope);
    position_ = e.position;
    if (op == "==") return Value(values_equal(left, right));
    if (op == "!=") return Value(!values_equal(left, right));
    if (op == "in" || op == "not in") return Value(contains(right, left) == (op == "in"));
    if (left.is_undefined() || right.is_undefined()) {
      render_fail("cannot apply '{}' to an undefined value", op);
    }
    if (left.is_none() || right.is_none()) render_fail("cannot apply '{}' to none", op);
    if (op == "~") return checked_string(to_concat(left) + to_concat(right));
    const bool left_num = left.is_number() || left.is_bool();
    const bool right_num = right.is_number() || right.is_bool();
    if (left_num && right_num) return arithmetic(op, left, right);
    if (op == "+") {
      if (left.is_array() && right.is_array()) {
        std::vector<Value> items = left.as_array().items;
        items.insert(items.end(), right.as_array().items.begin(), right.as_array().items.end());
        return Value::array(std::move(items));
      }
      if (left.is_string() || right.is_string()) return checked_string(to_concat(left) + to_concat(right));
    }
    if (op == "*" && (left.is_string() || left.is_array()) && right.is_int()) return repeat(left, right.as_int());
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      if (left.is_string() && right.is_string()) return Value(compare_op(op, compare_values(left, right)));
    }
    render_fail("cannot apply '{}' to a {} and a {}", op, left.type_name(), right.type_name());
  }

  static bool compare_op(const std::string& op, int c) {
    if (op == "<") return c < 0;
    if (op == ">") return c > 0;
    if (op == "<=") return c <= 0;
    return c >= 0;
  }

  Value checked_string(std::string s) {
    if (s.size() > max_value_bytes) render_fail("a string grew past {} bytes", max_value_bytes);
    return Value(std::move(s));
  }

  Value repeat(const Value& v, int64_t n) {
    if (n <= 0) return v.is_string() ? Value(std::string()) : Value::array();
    const size_t unit = v.is_string() ? v.as_string().size() : v.as_array().items.size() * 16;
    if (unit != 0 && static_cast<uint64_t>(n) > max_value_bytes / unit) render_fail("repetition is too large");
    if (v.is_string()) {
      std::string out;
      for (int64_t i = 0; i < n; ++i) out += v.as_string();
      return Value(std::move(out));
    }
    std::vector<Value> items;
    for (int64_t i = 0; i < n; ++i) items.insert(items.end(), v.as_array().items.begin(), v.as_array().items.end());
    return Value::array(std::move(items));
  }

  static bool contains(const Value& container, const Value& item) {
    if (container.is_undefined()) return false;
    if (container.is_string()) {
      if (!item.is_string()) render_fail("'in <string>' needs a string on the left, got a {}", item.type_name());
      return container.as_string().find(item.as_string()) != std::string::npos;
    }
    if (container.is_array()) {
      for (const auto& x : container.as_array().items) {
        if (values_equal(x, item)) return true;
      }
      return false;
    }
    if (container.is_object()) {
      return item.is_string() && container.as_object().find(item.as_string()) != nullptr;
    }
    render_fail("'in' needs a list, dict or string on the right, got a {}", container.type_name());
  }

  static Value arithmetic(const std::string& op, const Value& a, const Value& b) {
    const bool ints = !a.is_float() && !b.is_float();
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      return Value(compare_op(op, a.as_number() < b.as_number() ? -1 : a.as_number() > b.as_number() ? 1 : 0));
    }
    if (ints) {
      const int64_t x = a.is_bool() ? int64_t(a.as_bool()) : a.as_int();
      const int64_t y = b.is_bool() ? int64_t(b.as_bool()) : b.as_int();
      int64_t r = 0;
      if (op == "+") {
        if (!__builtin_add_overflow(x, y, &r)) return Value(r);
        return Value(double(x) + double(y));
      }
      if (op == "-") {
        if (!__builtin_sub_overflow(x, y, &r)) return Value(r);
        return Value(double(x) - double(y));
      }
      if (op == "*") {
        if (!__builtin_mul_overflow(x, y, &r)) return Value(r);
        return Value(double(x) * double(y));
      }
      if (op == "//" || op == "%") {
        if (y == 0) render_fail("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) return Value(op == "%" ? int64_t{0} : double(x) * -1.0);
        const int64_t q = floor_div(x, y);
        return Value(op == "//" ? q : x - q * y);
      }
      if (op == "**" && y >= 0) {
        int64_t result = 1;
        for (int64_t i = 0; i < y; ++i) {
          if (__builtin_mul_overflow(result, x, &result)) return Value(std::pow(double(x), double(y)));
          if (result == 0 || result == 1) break;
        }
        return Value(result);
      }
    }
    const double x = a.as_number();
    const double y = b.as_number();
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "/") {
      if (y == 0) render_fail("division by zero");
      return Value(x / y);
    }
    if (op == "//" || op == "%") {
      if (y == 0) render_fail("float division or modulo by zero");
      const double q = std::floor(x / y);
      return Value(op == "//" ? q : x - q * y);
    }
    if (op == "**") {
      if (x == 0 && y < 0) render_fail("0 cannot be raised to a negative power");
      return Value(std::pow(x, y));
    }
    render_fail("unknown operator '{}'", op);
  }

  const RenderLimits& limits_;
  std::vector<ScopePtr> scopes_kept_;
  Position position_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
};

}  // namespace

std::string render_program(const StmtList& program, std::shared_ptr<Scope> globals, const RenderLimits& limits) {
  return Evaluator(limits).run(program, std::move(globals));
}

}  // namespace ingot::chat
