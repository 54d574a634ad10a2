#include "chat/parser.h"

#include "core/error.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>

namespace ingot::chat {
namespace {

constexpr int max_nesting = 256;  // expression and block nesting, to keep recursion bounded

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::text: return "template text";
    case TokenKind::comment: return "a comment";
    case TokenKind::open_statement: return "'{%'";
    case TokenKind::close_statement: return "'%}'";
    case TokenKind::open_expression: return "'{{'";
    case TokenKind::close_expression: return "'}}'";
    case TokenKind::string: return "a string";
    default: return "'" + token.text + "'";
  }
}

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  StmtList parse_all() {
    StmtList out;
    while (!at_end()) {
      if (auto stmt = parse_node({})) out.push_back(std::move(stmt));
    }
    return out;
  }

 private:
  // ---- token helpers -------------------------------------------------------------------------
  bool at_end() const { return pos_ >= tokens_.size(); }
  const Token& peek(size_t ahead = 0) const {
    static const Token end{TokenKind::text, "", {}};
    return pos_ + ahead < tokens_.size() ? tokens_[pos_ + ahead] : end;
  }
  Position here() const {
    if (!at_end()) return peek().position;
    return tokens_.empty() ? Position{} : tokens_.back().position;
  }
  bool is_op(std::string_view op, size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() && peek(ahead).kind == TokenKind::op && peek(ahead).text == op;
  }
  bool is_name(std::string_view name, size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() && peek(ahead).kind == TokenKind::identifier && peek(ahead).text == name;
  }
  bool is_kind(TokenKind kind) const { return !at_end() && peek().kind == kind; }

  [[noreturn]] void error(Position p, std::string_view what) const {
    fail(ErrorCode::invalid_file, "chat template syntax error at line {}:{}: {}", p.line, p.column, what);
  }
  [[noreturn]] void unexpected(std::string_view expected) const {
    if (at_end()) error(here(), fmt::format("expected {}, but the template ended", expected));
    error(here(), fmt::format("expected {}, got {}", expected, describe(peek())));
  }
  void expect_op(std::string_view op) {
    if (!is_op(op)) unexpected(fmt::format("'{}'", op));
    ++pos_;
  }
  void expect_kind(TokenKind kind, std::string_view what) {
    if (!is_kind(kind)) unexpected(what);
    ++pos_;
  }
  std::string expect_identifier(std::string_view what) {
    if (!is_kind(TokenKind::identifier)) unexpected(what);
    return tokens_[pos_++].text;
  }
  void expect_close_statement() { expect_kind(TokenKind::close_statement, "'%}'"); }

  struct DepthGuard {
    Parser& parser;
    explicit DepthGuard(Parser& p) : parser(p) {
      if (++parser.depth_ > max_nesting) parser.error(parser.here(), "the template nests too deeply");
    }
    ~DepthGuard() { --parser.depth_; }
  };

  // ---- statements -----------------------------------------------------------------------------
  // True when the next tokens are `{% name` for one of `names`.
  bool at_statement(std::initializer_list<std::string_view> names) const {
    if (!is_kind(TokenKind::open_statement)) return false;
    for (auto name : names) {
      if (is_name(name, 1)) return true;
    }
    return false;
  }

  // Parses statements until one of `{% terminators %}` (left unconsumed).
  StmtList parse_body(std::initializer_list<std::string_view> terminators, std::string_view opener, Position at) {
    DepthGuard guard(*this);
    StmtList out;
    while (!at_statement(terminators)) {
      if (at_end()) {
        std::string names;
        for (auto name : terminators) names += (names.empty() ? "" : " or ") + std::string("{% ") + std::string(name) + " %}";
        error(at, fmt::format("'{}' opened here is never closed (expected {})", opener, names));
      }
      if (auto stmt = parse_node(terminators)) out.push_back(std::move(stmt));
    }
    return out;
  }

  void expect_end(std::string_view name) {
    expect_kind(TokenKind::open_statement, "'{%'");
    if (!is_name(name)) unexpected(fmt::format("'{}'", name));
    ++pos_;
    expect_close_statement();
  }

  std::unique_ptr<Stmt> make_stmt(StmtKind kind, Position p) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->position = p;
    return s;
  }

  std::unique_ptr<Stmt> parse_node(std::initializer_list<std::string_view> terminators) {
    const Token& token = peek();
    switch (token.kind) {
      case TokenKind::text: {
        auto s = make_stmt(StmtKind::text, token.position);
        s->text = token.text;
        ++pos_;
        return s;
      }
      case TokenKind::comment:
        ++pos_;
        return nullptr;
      case TokenKind::open_expression: {
        ++pos_;
        auto s = make_stmt(StmtKind::output, token.position);
        s->expr = parse_expression();
        expect_kind(TokenKind::close_expression, "'}}'");
        return s;
      }
      case TokenKind::open_statement:
        return parse_statement(terminators);
      default:
        error(token.position, fmt::format("unexpected {} outside a tag", describe(token)));
    }
  }

  std::unique_ptr<Stmt> parse_statement(std::initializer_list<std::string_view> terminators) {
    const Position at = peek().position;
    ++pos_;  // {%
    if (!is_kind(TokenKind::identifier)) unexpected("a statement name");
    const std::string name = tokens_[pos_++].text;
    if (name == "if") return parse_if(at, "if");
    if (name == "for") return parse_for(at);
    if (name == "set") return parse_set(at);
    if (name == "macro") return parse_macro(at);
    if (name == "call") return parse_call_block(at);
    if (name == "filter") return parse_filter_block(at);
    if (name == "break" || name == "continue") {
      expect_close_statement();
      return make_stmt(name == "break" ? StmtKind::break_ : StmtKind::continue_, at);
    }
    for (auto t : terminators) {
      if (t == name) error(at, fmt::format("unexpected '{{% {} %}}'", name));
    }
    error(at, fmt::format("unknown or misplaced statement '{}'", name));
  }

  std::unique_ptr<Stmt> parse_if(Position at, std::string_view opener) {
    auto s = make_stmt(StmtKind::if_, at);
    s->expr = parse_expression();
    expect_close_statement();
    s->body = parse_body({"elif", "else", "endif"}, opener, at);
    if (is_name("elif", 1)) {
      const Position elif_at = peek().position;
      pos_ += 2;
      s->else_body.push_back(parse_if(elif_at, "elif"));  // consumes the shared endif
      return s;
    }
    if (is_name("else", 1)) {
      pos_ += 2;
      expect_close_statement();
      s->else_body = parse_body({"endif"}, opener, at);
    }
    expect_end("endif");
    return s;
  }

  std::unique_ptr<Stmt> parse_for(Position at) {
    auto s = make_stmt(StmtKind::for_, at);
    s->target = parse_assign_target(/*allow_attribute=*/false);
    if (!is_name("in")) unexpected("'in'");
    ++pos_;
    s->expr = parse_tuple_or(/*allow_ternary=*/false);
    if (is_name("if")) {
      ++pos_;
      s->condition = parse_expression();
    }
    if (is_name("recursive")) error(here(), "recursive loops are not supported");
    expect_close_statement();
    s->body = parse_body({"else", "endfor"}, "for", at);
    if (is_name("else", 1)) {
      pos_ += 2;
      expect_close_statement();
      s->else_body = parse_body({"endfor"}, "for", at);
    }
    expect_end("endfor");
    return s;
  }

  // A name, `a, b` (a tuple of names) or, for set, `ns.attr`.
  std::unique_ptr<Expr> parse_assign_target(bool allow_attribute) {
    const Position at = here();
    std::vector<std::unique_ptr<Expr>> names;
    do {
      if (!names.empty()) ++pos_;  // the comma
      auto name = make_expr(ExprKind::identifier, here());
      name->name = expect_identifier("a variable name");
      if (allow_attribute && is_op(".")) {
        ++pos_;
        auto attr = make_expr(ExprKind::attribute, name->position);
        attr->name = expect_identifier("an attribute name");
        attr->children.push_back(std::move(name));
        name = std::move(attr);
      }
      names.push_back(std::move(name));
    } while (is_op(","));
    if (names.size() == 1) return std::move(names[0]);
    auto tuple = make_expr(ExprKind::tuple, at);
    tuple->children = std::move(names);
    return tuple;
  }

  std::unique_ptr<Stmt> parse_set(Position at) {
    auto s = make_stmt(StmtKind::set, at);
    s->target = parse_assign_target(/*allow_attribute=*/true);
    if (is_op("=")) {
      ++pos_;
      s->expr = parse_tuple_or(/*allow_ternary=*/true);
      expect_close_statement();
      return s;
    }
    expect_close_statement();
    s->body = parse_body({"endset"}, "set", at);
    expect_end("endset");
    return s;
  }

  std::vector<Param> parse_params() {
    std::vector<Param> params;
    expect_op("(");
    while (!is_op(")")) {
      Param param;
      param.name = expect_identifier("a parameter name");
      for (const auto& p : params) {
        if (p.name == param.name) error(here(), fmt::format("duplicate parameter '{}'", param.name));
      }
      if (is_op("=")) {
        ++pos_;
        param.default_value = parse_expression();
      }
      params.push_back(std::move(param));
      if (!is_op(",")) break;
      ++pos_;
    }
    expect_op(")");
    return params;
  }

  std::unique_ptr<Stmt> parse_macro(Position at) {
    auto s = make_stmt(StmtKind::macro, at);
    s->text = expect_identifier("a macro name");
    s->params = parse_params();
    expect_close_statement();
    s->body = parse_body({"endmacro"}, "macro", at);
    expect_end("endmacro");
    return s;
  }

  std::unique_ptr<Stmt> parse_call_block(Position at) {
    auto s = make_stmt(StmtKind::call_block, at);
    if (is_op("(")) s->params = parse_params();
    auto callee = make_expr(ExprKind::identifier, here());
    callee->name = expect_identifier("a macro name");
    s->expr = parse_postfix(std::move(callee));
    if (s->expr->kind != ExprKind::call) error(at, "'call' needs a macro call, such as {% call m() %}");
    expect_close_statement();
    s->body = parse_body({"endcall"}, "call", at);
    expect_end("endcall");
    return s;
  }

  std::unique_ptr<Stmt> parse_filter_block(Position at) {
    auto s = make_stmt(StmtKind::filter_block, at);
    std::unique_ptr<Expr> chain;  // operand null: the block's text
    do {
      if (chain) ++pos_;  // '|'
      chain = parse_filter_call(std::move(chain));
    } while (is_op("|"));
    s->expr = std::move(chain);
    expect_close_statement();
    s->body = parse_body({"endfilter"}, "filter", at);
    expect_end("endfilter");
    return s;
  }

  // ---- expressions ----------------------------------------------------------------------------
  std::unique_ptr<Expr> make_expr(ExprKind kind, Position p) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->position = p;
    return e;
  }

  std::unique_ptr<Expr> binary(std::string op, std::unique_ptr<Expr> left, std::unique_ptr<Expr> right, Position p) {
    auto e = make_expr(ExprKind::binary, p);
    e->name = std::move(op);
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    return e;
  }

  // `a, b` without brackets is a tuple (used by set values and for iterables).
  std::unique_ptr<Expr> parse_tuple_or(bool allow_ternary) {
    const Position at = here();
    auto first = allow_ternary ? parse_expression() : parse_or();
    if (!is_op(",")) return first;
    auto tuple = make_expr(ExprKind::tuple, at);
    tuple->children.push_back(std::move(first));
    while (is_op(",")) {
      ++pos_;
      if (is_kind(TokenKind::close_statement)) break;
      tuple->children.push_back(allow_ternary ? parse_expression() : parse_or());
    }
    return tuple;
  }

  std::unique_ptr<Expr> parse_expression() {
    DepthGuard guard(*this);
    const Position at = here();
    auto value = parse_or();
    if (!is_name("if")) return value;
    ++pos_;
    auto e = make_expr(ExprKind::ternary, at);
    auto condition = parse_or();
    std::unique_ptr<Expr> otherwise;
    if (is_name("else")) {
      ++pos_;
      otherwise = parse_expression();
    }
    e->children.push_back(std::move(condition));
    e->children.push_back(std::move(value));
    e->children.push_back(std::move(otherwise));
    return e;
  }

  std::unique_ptr<Expr> parse_or() {
    auto left = parse_and();
    while (is_name("or")) {
      const Position p = here();
      ++pos_;
      left = binary("or", std::move(left), parse_and(), p);
    }
    return left;
  }

  std::unique_ptr<Expr> parse_and() {
    auto left = parse_not();
    while (is_name("and")) {
      const Position p = here();
      ++pos_;
      left = binary("and", std::move(left), parse_not(), p);
    }
    return left;
  }

  std::unique_ptr<Expr> parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto e = make_expr(ExprKind::unary, here());
      ++pos_;
      e->name = "not";
      e->children.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  std::unique_ptr<Expr> parse_compare() {
    auto left = parse_additive();
    while (true) {
      const Position p = here();
      std::string op;
      if (is_name("not") && is_name("in", 1)) {
        op = "not in";
        pos_ += 2;
      } else if (is_name("in")) {
        op = "in";
        ++pos_;
      } else if (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">=")) {
        op = tokens_[pos_++].text;
      } else {
        return left;
      }
      left = binary(op, std::move(left), parse_additive(), p);
    }
  }

  std::unique_ptr<Expr> parse_additive() {
    auto left = parse_multiplicative();
    while (is_op("+") || is_op("-") || is_op("~")) {
      const Position p = here();
      std::string op = tokens_[pos_++].text;
      left = binary(op, std::move(left), parse_multiplicative(), p);
    }
    return left;
  }

  std::unique_ptr<Expr> parse_multiplicative() {
    auto left = parse_power();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Position p = here();
      std::string op = tokens_[pos_++].text;
      left = binary(op, std::move(left), parse_power(), p);
    }
    return left;
  }

  std::unique_ptr<Expr> parse_power() {
    auto left = parse_unary();
    while (is_op("**")) {
      const Position p = here();
      ++pos_;
      left = binary("**", std::move(left), parse_unary(), p);
    }
    return left;
  }

  std::unique_ptr<Expr> parse_unary() {
    if (is_op("-") || is_op("+")) {
      DepthGuard guard(*this);
      auto e = make_expr(ExprKind::unary, here());
      e->name = tokens_[pos_++].text;
      e->children.push_back(parse_unary_operand());
      return parse_filters_and_tests(std::move(e));
    }
    return parse_filters_and_tests(parse_postfix(parse_primary()));
  }

  // The operand of a sign: another sign or a primary with its postfixes, without filters.
  std::unique_ptr<Expr> parse_unary_operand() {
    if (is_op("-") || is_op("+")) {
      DepthGuard guard(*this);
      auto e = make_expr(ExprKind::unary, here());
      e->name = tokens_[pos_++].text;
      e->children.push_back(parse_unary_operand());
      return e;
    }
    return parse_postfix(parse_primary());
  }

  std::unique_ptr<Expr> parse_filter_call(std::unique_ptr<Expr> operand) {
    auto e = make_expr(ExprKind::filter, here());
    e->name = expect_identifier("a filter name");
    while (is_op(".")) {  // dotted filter names are accepted as one name
      ++pos_;
      e->name += "." + expect_identifier("a filter name");
    }
    e->children.push_back(std::move(operand));
    e->arg_names.clear();
    if (is_op("(")) parse_call_args(*e);
    return e;
  }

  std::unique_ptr<Expr> parse_filters_and_tests(std::unique_ptr<Expr> operand) {
    while (true) {
      if (is_op("|")) {
        ++pos_;
        operand = parse_filter_call(std::move(operand));
      } else if (is_name("is")) {
        auto e = make_expr(ExprKind::test, here());
        ++pos_;
        if (is_name("not")) {
          e->negate = true;
          ++pos_;
        }
        if (is_kind(TokenKind::identifier)) {
          e->name = tokens_[pos_++].text;
        } else if (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">=")) {
          e->name = tokens_[pos_++].text;
        } else {
          unexpected("a test name");
        }
        e->children.push_back(std::move(operand));
        if (is_op("(")) {
          parse_call_args(*e);
        } else if (starts_test_argument()) {
          e->children.push_back(parse_postfix(parse_primary()));
          e->arg_names.push_back("");
        }
        operand = std::move(e);
      } else {
        return operand;
      }
    }
  }

  // `x is divisibleby 3`, `x is sameas false`: a test may take one argument without brackets.
  bool starts_test_argument() const {
    if (at_end()) return false;
    const Token& t = peek();
    if (t.kind == TokenKind::string || t.kind == TokenKind::integer || t.kind == TokenKind::floating) return true;
    if (t.kind == TokenKind::op) return t.text == "[" || t.text == "{";
    if (t.kind != TokenKind::identifier) return false;
    for (const char* keyword : {"and", "or", "not", "if", "else", "in", "is", "recursive"}) {
      if (t.text == keyword) return false;
    }
    return true;
  }

  // `(a, b, key=value)`, appended to e.children with names in e.arg_names.
  void parse_call_args(Expr& e) {
    expect_op("(");
    bool saw_keyword = false;
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) error(here(), "argument unpacking (* and **) is not supported");
      if (is_kind(TokenKind::identifier) && is_op("=", 1)) {
        std::string key = tokens_[pos_].text;
        pos_ += 2;
        for (const auto& n : e.arg_names) {
          if (n == key) error(here(), fmt::format("keyword argument '{}' given twice", key));
        }
        e.arg_names.push_back(std::move(key));
        e.children.push_back(parse_expression());
        saw_keyword = true;
      } else {
        if (saw_keyword) error(here(), "positional argument after a keyword argument");
        e.arg_names.push_back("");
        e.children.push_back(parse_expression());
      }
      if (!is_op(",")) break;
      ++pos_;
    }
    expect_op(")");
  }

  std::unique_ptr<Expr> parse_postfix(std::unique_ptr<Expr> object) {
    while (true) {
      const Position p = here();
      if (is_op(".")) {
        ++pos_;
        if (is_kind(TokenKind::integer)) {  // a.0 is a[0]
          auto index = make_expr(ExprKind::literal, here());
          index->value = parse_int(peek());
          ++pos_;
          auto e = make_expr(ExprKind::subscript, p);
          e->children.push_back(std::move(object));
          e->children.push_back(std::move(index));
          object = std::move(e);
          continue;
        }
        auto e = make_expr(ExprKind::attribute, p);
        e->name = expect_identifier("an attribute name");
        e->children.push_back(std::move(object));
        object = std::move(e);
      } else if (is_op("[")) {
        ++pos_;
        object = parse_subscript(std::move(object), p);
      } else if (is_op("(")) {
        auto e = make_expr(ExprKind::call, object->position);  // errors point at the callee
        e->children.push_back(std::move(object));
        parse_call_args(*e);
        object = std::move(e);
      } else {
        return object;
      }
    }
  }

  std::unique_ptr<Expr> parse_subscript(std::unique_ptr<Expr> object, Position p) {
    std::unique_ptr<Expr> parts[3];
    int n_colons = 0;
    if (is_op("]")) error(here(), "empty subscript '[]'");
    while (!is_op("]")) {
      if (is_op(":")) {
        if (++n_colons > 2) error(here(), "a slice takes at most three parts");
        ++pos_;
        continue;
      }
      if (parts[n_colons]) unexpected("':' or ']'");
      parts[n_colons] = parse_expression();
    }
    ++pos_;  // ]
    if (n_colons == 0) {
      auto e = make_expr(ExprKind::subscript, p);
      e->children.push_back(std::move(object));
      e->children.push_back(std::move(parts[0]));
      return e;
    }
    auto e = make_expr(ExprKind::slice, p);
    e->children.push_back(std::move(object));
    for (auto& part : parts) e->children.push_back(std::move(part));
    return e;
  }

  Value parse_int(const Token& token) const {
    int64_t v = 0;
    const auto r = std::from_chars(token.text.data(), token.text.data() + token.text.size(), v);
    if (r.ec != std::errc()) return Value(std::strtod(token.text.c_str(), nullptr));
    return Value(v);
  }

  std::unique_ptr<Expr> parse_primary() {
    DepthGuard guard(*this);
    if (at_end()) unexpected("an expression");
    const Token& token = peek();
    const Position p = token.position;
    switch (token.kind) {
      case TokenKind::string: {
        auto e = make_expr(ExprKind::literal, p);
        std::string s;
        while (is_kind(TokenKind::string)) s += tokens_[pos_++].text;  // 'a' 'b' is 'ab'
        e->value = Value(std::move(s));
        return e;
      }
      case TokenKind::integer: {
        auto e = make_expr(ExprKind::literal, p);
        e->value = parse_int(token);
        ++pos_;
        return e;
      }
      case TokenKind::floating: {
        auto e = make_expr(ExprKind::literal, p);
        e->value = Value(std::strtod(token.text.c_str(), nullptr));
        ++pos_;
        return e;
      }
      case TokenKind::identifier: {
        ++pos_;
        auto e = make_expr(ExprKind::literal, p);
        if (token.text == "true" || token.text == "True") {
          e->value = Value(true);
        } else if (token.text == "false" || token.text == "False") {
          e->value = Value(false);
        } else if (token.text == "none" || token.text == "None") {
          e->value = Value::none();
        } else {
          e->kind = ExprKind::identifier;
          e->name = token.text;
        }
        return e;
      }
      case TokenKind::op:
        break;
      default:
        unexpected("an expression");
    }
    if (token.text == "(") {
      ++pos_;
      if (is_op(")")) {  // () is the empty tuple
        ++pos_;
        return make_expr(ExprKind::tuple, p);
      }
      auto first = parse_expression();
      if (!is_op(",")) {
        expect_op(")");
        return first;
      }
      auto tuple = make_expr(ExprKind::tuple, p);
      tuple->children.push_back(std::move(first));
      while (is_op(",")) {
        ++pos_;
        if (is_op(")")) break;
        tuple->children.push_back(parse_expression());
      }
      expect_op(")");
      return tuple;
    }
    if (token.text == "[") {
      ++pos_;
      auto list = make_expr(ExprKind::list, p);
      while (!is_op("]")) {
        list->children.push_back(parse_expression());
        if (!is_op(",")) break;
        ++pos_;
      }
      expect_op("]");
      return list;
    }
    if (token.text == "{") {
      ++pos_;
      auto dict = make_expr(ExprKind::dict, p);
      while (!is_op("}")) {
        dict->children.push_back(parse_expression());
        expect_op(":");
        dict->children.push_back(parse_expression());
        if (!is_op(",")) break;
        ++pos_;
      }
      expect_op("}");
      return dict;
    }
    unexpected("an expression");
  }

  const std::vector<Token>& tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

StmtList parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_all(); }

}  // namespace ingot::chat
