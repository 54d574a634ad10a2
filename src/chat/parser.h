// The template parser: tokens to a statement tree. Recursive descent with Jinja's operator
// precedence (or < and < not < comparisons/in < + - ~ < * / // % < ** < unary < filters/tests <
// calls, attributes, subscripts). Nesting is capped so hostile templates cannot overflow the
// stack. Errors are ingot::Error (invalid_file) naming line:column.
#pragma once

#include "chat/ast.h"
#include "chat/lexer.h"

#include <vector>

namespace ingot::chat {

StmtList parse(const std::vector<Token>& tokens);

}  // namespace ingot::chat
