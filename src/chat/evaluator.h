// The template evaluator: walks the parsed statements with a chain of variable scopes and
// writes the output text. Loops, `set`, macros (closures over their defining scope), call and
// filter blocks. Guards: a step budget (loop iterations + macro calls), a macro call depth and
// an output size cap, so a hostile template ends with an error instead of hanging or exhausting
// memory. Errors are ingot::Error naming the template line:column.
#pragma once

#include "chat/ast.h"
#include "chat/value.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace ingot::chat {

struct RenderLimits {
  uint64_t max_steps = 10'000'000;           // loop iterations + macro calls + statements
  int max_call_depth = 128;                   // nested macro calls
  size_t max_output_bytes = size_t{64} << 20; // the rendered text
};

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent = nullptr) : parent_(std::move(parent)) {}
  const Value* lookup(const std::string& name) const;
  void set(const std::string& name, Value value) { vars_[name] = std::move(value); }

 private:
  std::shared_ptr<Scope> parent_;
  std::unordered_map<std::string, Value> vars_;
};

// Renders `program` with the variables of `globals`. Throws ingot::Error (invalid_argument)
// with the template position for a render error, including raise_exception() from the template.
std::string render_program(const StmtList& program, std::shared_ptr<Scope> globals, const RenderLimits& limits);

}  // namespace ingot::chat
