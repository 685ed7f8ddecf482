// Parses a token stream into statements, following jinja2's grammar and operator precedence
// (or < and < not < comparisons < + - < ~ < * / // % < ** < unary - + < postfix/filters/tests).
#pragma once

#include <string>

#include "jinja/ast.h"

namespace pagedllm::jinja {

// Throws jinja::TemplateError("line N: ...") for syntax errors, unknown tags and templates nested too deeply.
StmtList parse_template(const std::string& source);

}  // namespace pagedllm::jinja
