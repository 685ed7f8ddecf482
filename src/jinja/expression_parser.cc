#include "jinja/expression_parser.h"

namespace pagedllm::jinja {

bool ExpressionParser::at_tuple_end() const {
  const Token& t = cur();
  if (t.kind == TokenKind::kVariableEnd || t.kind == TokenKind::kBlockEnd || t.kind == TokenKind::kEof) return true;
  if (t.kind == TokenKind::kOperator && t.text == ")") return true;
  return t.kind == TokenKind::kName && (t.text == "in" || t.text == "if" || t.text == "recursive");
}

ExprPtr ExpressionParser::parse_tuple(bool with_condexpr, bool explicit_parens) {
  const int line = cur().line;
  std::vector<ExprPtr> items;
  bool has_comma = false;
  while (true) {
    if (!items.empty()) {
      if (!skip_op(",")) break;
      has_comma = true;
    }
    if (explicit_parens ? is_op(")") : (!items.empty() && at_tuple_end())) break;
    items.push_back(parse_expression(with_condexpr));
  }
  if (!has_comma) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) error(line, fmt::format("Expected an expression, got {}", describe(cur())));
  }
  auto e = node(ExprKind::kTuple, line);
  e->children = std::move(items);
  return e;
}

ExprPtr ExpressionParser::parse_expression(bool with_condexpr) {
  DepthGuard guard(*this);
  ExprPtr e = parse_or();
  if (!with_condexpr) return e;
  while (is_name("if")) {
    const int line = advance().line;
    auto c = node(ExprKind::kCondExpr, line);
    ExprPtr test = parse_or();
    ExprPtr otherwise = skip_name("else") ? parse_expression(true) : nullptr;
    c->children.push_back(std::move(test));
    c->children.push_back(std::move(e));
    c->children.push_back(std::move(otherwise));
    e = std::move(c);
  }
  return e;
}

ExprPtr ExpressionParser::binary(ExprKind kind, const std::string& op, ExprPtr left, ExprPtr right, int line) {
  auto e = node(kind, line);
  e->name = op;
  e->children.push_back(std::move(left));
  e->children.push_back(std::move(right));
  return e;
}

ExprPtr ExpressionParser::parse_or() {
  ExprPtr e = parse_and();
  while (is_name("or")) {
    const int line = advance().line;
    e = binary(ExprKind::kOr, "or", std::move(e), parse_and(), line);
  }
  return e;
}

ExprPtr ExpressionParser::parse_and() {
  ExprPtr e = parse_not();
  while (is_name("and")) {
    const int line = advance().line;
    e = binary(ExprKind::kAnd, "and", std::move(e), parse_not(), line);
  }
  return e;
}

ExprPtr ExpressionParser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(*this);
    auto e = node(ExprKind::kNot, advance().line);
    e->children.push_back(parse_not());
    return e;
  }
  return parse_compare();
}

ExprPtr ExpressionParser::parse_compare() {
  const int line = cur().line;
  ExprPtr first = parse_math1();
  ExprPtr cmp;
  while (true) {
    std::string op;
    const Token& t = cur();
    if (t.kind == TokenKind::kOperator &&
        (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=")) {
      op = t.text;
      advance();
    } else if (is_name("in")) {
      op = "in";
      advance();
    } else if (is_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
      op = "notin";
      advance();
      advance();
    } else {
      break;
    }
    if (!cmp) {
      cmp = node(ExprKind::kCompare, line);
      cmp->children.push_back(std::move(first));
    }
    cmp->ops.push_back(op);
    cmp->children.push_back(parse_math1());
  }
  return cmp ? std::move(cmp) : std::move(first);
}

template <typename Next>
ExprPtr ExpressionParser::parse_left_assoc(std::initializer_list<const char*> ops, Next next) {
  ExprPtr e = (this->*next)();
  while (true) {
    const char* matched = nullptr;
    for (const char* op : ops)
      if (is_op(op)) matched = op;
    if (!matched) return e;
    const int line = advance().line;
    e = binary(ExprKind::kBinary, matched, std::move(e), (this->*next)(), line);
  }
}

ExprPtr ExpressionParser::parse_math1() { return parse_left_assoc({"+", "-"}, &ExpressionParser::parse_concat); }

ExprPtr ExpressionParser::parse_concat() { return parse_left_assoc({"~"}, &ExpressionParser::parse_math2); }

ExprPtr ExpressionParser::parse_math2() { return parse_left_assoc({"*", "/", "//", "%"}, &ExpressionParser::parse_pow); }

ExprPtr ExpressionParser::parse_pow() { return parse_left_assoc({"**"}, &ExpressionParser::parse_unary_with_filter); }

ExprPtr ExpressionParser::parse_unary_with_filter() { return parse_unary(true); }

ExprPtr ExpressionParser::parse_unary(bool with_filter) {
  DepthGuard guard(*this);
  ExprPtr e;
  if (is_op("-") || is_op("+")) {
    const bool is_neg = is_op("-");
    e = node(is_neg ? ExprKind::kNeg : ExprKind::kPos, advance().line);
    e->children.push_back(parse_unary(false));
  } else {
    e = parse_primary();
  }
  e = parse_postfix(std::move(e));
  if (with_filter) e = parse_filter_expr(std::move(e));
  return e;
}

ExprPtr ExpressionParser::parse_primary() {
  const Token& t = cur();
  const int line = t.line;
  if (t.kind == TokenKind::kName) {
    const std::string name = advance().text;
    auto e = node(ExprKind::kConst, line);
    if (name == "true" || name == "True") e->constant = Value(true);
    else if (name == "false" || name == "False") e->constant = Value(false);
    else if (name == "none" || name == "None") e->constant = Value(None{});
    else {
      e->kind = ExprKind::kName;
      e->name = name;
    }
    return e;
  }
  if (t.kind == TokenKind::kString) {
    std::string s;
    while (cur().kind == TokenKind::kString) s += advance().text;
    auto e = node(ExprKind::kConst, line);
    e->constant = Value(std::move(s));
    return e;
  }
  if (t.kind == TokenKind::kInteger || t.kind == TokenKind::kFloat) {
    auto e = node(ExprKind::kConst, line);
    e->constant = t.kind == TokenKind::kInteger ? Value(t.int_value) : Value(t.float_value);
    advance();
    return e;
  }
  if (skip_op("(")) {
    ExprPtr e = parse_tuple(true, true);
    expect_op(")");
    return e;
  }
  if (skip_op("[")) {
    auto e = node(ExprKind::kList, line);
    while (!is_op("]")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("]")) break;
      e->children.push_back(parse_expression(true));
    }
    advance();
    return e;
  }
  if (skip_op("{")) {
    auto e = node(ExprKind::kDict, line);
    while (!is_op("}")) {
      if (!e->children.empty()) expect_op(",");
      if (is_op("}")) break;
      e->children.push_back(parse_expression(true));
      expect_op(":");
      e->children.push_back(parse_expression(true));
    }
    advance();
    return e;
  }
  error(line, fmt::format("unexpected {}", describe(t)));
}

ExprPtr ExpressionParser::parse_postfix(ExprPtr e) {
  while (true) {
    if (is_op(".") || is_op("[")) e = parse_subscript(std::move(e));
    else if (is_op("(")) e = parse_call(std::move(e));
    else return e;
  }
}

ExprPtr ExpressionParser::parse_filter_expr(ExprPtr e) {
  while (true) {
    if (is_op("|")) e = parse_filter_chain(std::move(e), cur().line);
    else if (is_name("is")) e = parse_test(std::move(e));
    else if (is_op("(")) e = parse_call(std::move(e));
    else return e;
  }
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr obj) {
  const Token& t = advance();
  const int line = t.line;
  if (t.text == ".") {
    const Token& attr = advance();
    if (attr.kind == TokenKind::kName) {
      auto e = node(ExprKind::kGetAttr, line);
      e->name = attr.text;
      e->children.push_back(std::move(obj));
      return e;
    }
    if (attr.kind != TokenKind::kInteger) error(attr.line, "expected name or number");
    auto e = node(ExprKind::kGetItem, line);
    auto index = node(ExprKind::kConst, line);
    index->constant = Value(attr.int_value);
    e->children.push_back(std::move(obj));
    e->children.push_back(std::move(index));
    return e;
  }
  std::vector<ExprPtr> args;
  while (!is_op("]")) {
    if (!args.empty()) expect_op(",");
    args.push_back(parse_subscribed(obj, args.empty()));
  }
  advance();
  if (args.size() == 1 && args[0]->kind == ExprKind::kSlice) return std::move(args[0]);
  auto e = node(ExprKind::kGetItem, line);
  e->children.push_back(std::move(obj));
  if (args.size() == 1) {
    e->children.push_back(std::move(args[0]));
  } else {
    auto tup = node(ExprKind::kTuple, line);
    for (auto& a : args) {
      if (a->kind == ExprKind::kSlice) error(line, "slices inside tuples are not supported");
      tup->children.push_back(std::move(a));
    }
    e->children.push_back(std::move(tup));
  }
  return e;
}

ExprPtr ExpressionParser::parse_subscribed(ExprPtr& obj, bool is_first) {
  const int line = cur().line;
  ExprPtr start;
  if (!is_op(":")) {
    start = parse_expression(true);
    if (!is_op(":")) return start;
  }
  if (!is_first) error(line, "slices inside tuples are not supported");
  advance();
  auto e = node(ExprKind::kSlice, line);
  ExprPtr stop, step;
  if (!is_op(":") && !is_op("]") && !is_op(",")) stop = parse_expression(true);
  if (skip_op(":") && !is_op("]") && !is_op(",")) step = parse_expression(true);
  e->children.push_back(std::move(obj));
  e->children.push_back(std::move(start));
  e->children.push_back(std::move(stop));
  e->children.push_back(std::move(step));
  return e;
}

void ExpressionParser::parse_call_args(Expr& e) {
  expect_op("(");
  bool has_any = false;
  while (!is_op(")")) {
    if (has_any) {
      expect_op(",");
      if (is_op(")")) break;
    }
    has_any = true;
    if (is_op("*") || is_op("**")) error(cur().line, "*args and **kwargs in calls are not supported");
    if (cur().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == "=") {
      std::string key = advance().text;
      advance();
      e.kwargs.emplace_back(std::move(key), parse_expression(true));
    } else {
      if (!e.kwargs.empty()) error(cur().line, "invalid syntax for function call expression");
      e.children.push_back(parse_expression(true));
    }
  }
  advance();
}

ExprPtr ExpressionParser::parse_call(ExprPtr callee) {
  auto e = node(ExprKind::kCall, cur().line);
  e->children.push_back(std::move(callee));
  parse_call_args(*e);
  return e;
}

std::string ExpressionParser::parse_dotted_name() {
  std::string name = expect_name();
  while (is_op(".")) {
    advance();
    name += "." + expect_name();
  }
  return name;
}

ExprPtr ExpressionParser::parse_filter_chain(ExprPtr operand, int line) {
  bool is_first = true;
  while (is_first || is_op("|")) {
    if (!(is_first && !operand && !is_op("|"))) expect_op("|");
    is_first = false;
    auto f = node(ExprKind::kFilter, line);
    f->name = parse_dotted_name();
    f->children.push_back(std::move(operand));
    if (is_op("(")) parse_call_args(*f);
    operand = std::move(f);
  }
  return operand;
}

ExprPtr ExpressionParser::parse_test(ExprPtr operand) {
  auto e = node(ExprKind::kTest, advance().line);
  e->is_negated = skip_name("not");
  e->name = parse_dotted_name();
  e->children.push_back(std::move(operand));
  const Token& t = cur();
  if (is_op("(")) {
    parse_call_args(*e);
  } else if ((t.kind == TokenKind::kName || t.kind == TokenKind::kString || t.kind == TokenKind::kInteger ||
              t.kind == TokenKind::kFloat || is_op("[") || is_op("{")) &&
             !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) error(t.line, "You cannot chain multiple tests with is");
    e->children.push_back(parse_postfix(parse_primary()));
  }
  return e;
}

}  // namespace pagedllm::jinja
