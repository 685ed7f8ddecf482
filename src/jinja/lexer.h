// Splits a Jinja template into tokens exactly as jinja2's lexer does with trim_blocks=True and
// lstrip_blocks=True (the settings transformers uses for chat templates):
// - newlines (\r\n, \r, \n) become \n and one trailing newline of the template is dropped;
// - `{%-`/`-%}` (and `{{-`, `{#-`, ...) strip all whitespace on that side, `{%+`/`+%}` disable trimming;
// - trim_blocks removes the first newline after a block or comment tag (not after `{% raw %}` nor `}}`);
// - lstrip_blocks removes spaces and tabs from the start of a line up to a block or comment tag;
// - comments vanish and `{% raw %}...{% endraw %}` becomes one data token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pagedllm::jinja {

enum class TokenKind {
  kData,           // literal template text
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,  // text holds the unescaped value
  kInteger,
  kFloat,
  kOperator,  // text holds the operator, e.g. "//", "(", "|"
  kEof,
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;  // 1-based line of the template where the token starts
};

// Throws jinja::TemplateError("line N: ...") on malformed input (unclosed comment or raw block, bad string escape,
// unbalanced brackets, unexpected character).
std::vector<Token> tokenize(const std::string& source);

}  // namespace pagedllm::jinja
