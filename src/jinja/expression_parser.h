// Parses jinja2 expressions with its precedence: inline if < or < and < not < comparisons (==, in, not in, ...)
// < + - < ~ < * / // % < ** (left-associative) < unary - + < postfix (.attr, [item], [a:b:c], call) | filter, is test.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "jinja/token_stream.h"

namespace pagedllm::jinja {

class ExpressionParser : public TokenStream {
 public:
  using TokenStream::TokenStream;

  // Comma-separated expressions; a single one without a comma is returned bare.
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens);
  ExprPtr parse_expression(bool with_condexpr);
  // `| f(args) | g ...` applied to `operand` (null inside filter blocks and set blocks).
  ExprPtr parse_filter_chain(ExprPtr operand, int line);

 private:
  bool at_tuple_end() const;
  ExprPtr binary(ExprKind kind, const std::string& op, ExprPtr left, ExprPtr right, int line);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  template <typename Next>
  ExprPtr parse_left_assoc(std::initializer_list<const char*> ops, Next next);
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary_with_filter();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_postfix(ExprPtr e);
  ExprPtr parse_filter_expr(ExprPtr e);
  ExprPtr parse_subscript(ExprPtr obj);
  // One subscript: an expression or a slice a:b:c. A slice takes `obj` (moved) as its operand.
  ExprPtr parse_subscribed(ExprPtr& obj, bool is_first);
  void parse_call_args(Expr& e);
  ExprPtr parse_call(ExprPtr callee);
  std::string parse_dotted_name();
  ExprPtr parse_test(ExprPtr operand);
};

}  // namespace pagedllm::jinja
