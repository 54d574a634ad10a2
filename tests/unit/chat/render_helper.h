// Test helper: renders template text with variables given as a JSON object literal.
#pragma once

#include "chat/evaluator.h"
#include "chat/lexer.h"
#include "chat/parser.h"
#include "core/error.h"

#include <nlohmann/json.hpp>

#include <string>

namespace ingot::chat::testing {

inline std::string render(const std::string& source, const std::string& variables = "{}",
                          const RenderLimits& limits = RenderLimits{}) {
  const StmtList program = parse(tokenize(source));
  auto scope = std::make_shared<Scope>();
  const auto vars = nlohmann::ordered_json::parse(variables);
  for (auto it = vars.begin(); it != vars.end(); ++it) scope->set(it.key(), Value::from_json(it.value()));
  return render_program(program, scope, limits);
}

// The message of the ingot::Error that rendering throws ("" if it renders).
inline std::string render_error(const std::string& source, const std::string& variables = "{}",
                                const RenderLimits& limits = RenderLimits{}) {
  try {
    render(source, variables, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace ingot::chat::testing
