// The syntax tree of a chat template: expressions and statements, each carrying the template
// position it came from so that render errors can name line:column. Built once by the parser,
// immutable afterwards, walked by the evaluator.
#pragma once

#include "chat/lexer.h"
#include "chat/value.h"

#include <memory>
#include <string>
#include <vector>

namespace ingot::chat {

enum class ExprKind {
  literal,     // value
  identifier,  // name
  list,        // children
  tuple,       // children
  dict,        // children: key, value, key, value, ...
  attribute,   // children[0].name
  subscript,   // children[0][children[1]]
  slice,       // children[0][children[1]:children[2]:children[3]] (null child = omitted)
  call,        // children[0](children[1..]); arg_names[i] names children[i + 1] ("" = positional)
  filter,      // children[0] | name(children[1..])
  test,        // children[0] is [not] name(children[1..])
  unary,       // name ("not", "-", "+") children[0]
  binary,      // children[0] name children[1]
  ternary,     // children[1] if children[0] else children[2] (children[2] may be null: undefined)
};

struct Expr {
  ExprKind kind;
  Position position;
  std::string name;
  Value value;
  std::vector<std::unique_ptr<Expr>> children;
  std::vector<std::string> arg_names;
  bool negate = false;  // `is not`
};

enum class StmtKind {
  text,         // text
  output,       // {{ expr }}
  if_,          // expr, body, else_body
  for_,         // target, expr (iterable), condition (may be null), body, else_body
  set,          // target = expr, or a block: target, body
  macro,        // text (name), params, body
  call_block,   // expr (the call), params (caller's), body
  filter_block, // expr (a filter expression whose operand is null), body
  break_,
  continue_,
};

struct Param {
  std::string name;
  std::unique_ptr<Expr> default_value;  // may be null
};

struct Stmt {
  StmtKind kind;
  Position position;
  std::string text;
  std::unique_ptr<Expr> target;
  std::unique_ptr<Expr> expr;
  std::unique_ptr<Expr> condition;
  std::vector<Param> params;
  std::vector<std::unique_ptr<Stmt>> body;
  std::vector<std::unique_ptr<Stmt>> else_body;
};

using StmtList = std::vector<std::unique_ptr<Stmt>>;

}  // namespace ingot::chat
