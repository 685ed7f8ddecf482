#include "tokenizer/jinja_parser.h"

#include <fmt/format.h>

#include <initializer_list>

#include "tokenizer/jinja_lexer.h"

namespace pagedllm::jinja {
namespace {

constexpr int kMaxNesting = 200;  // deeper expressions or blocks are rejected rather than overflowing the stack

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  StmtList parse_all() {
    StmtList out = parse_until({});
    if (cur().kind != TokenKind::kEof) error(cur().line, "unexpected tag");
    return out;
  }

 private:
  // --- token stream -----------------------------------------------------------------------------------------
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  const Token& advance() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool is_op(const char* op) const { return cur().kind == TokenKind::kOperator && cur().text == op; }
  bool is_name(const char* name) const { return cur().kind == TokenKind::kName && cur().text == name; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    advance();
    return true;
  }
  bool skip_name(const char* name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }
  [[noreturn]] void error(int line, const std::string& message) const {
    fail(fmt::format("line {}: {}", line, message));
  }
  std::string describe(const Token& t) const {
    switch (t.kind) {
      case TokenKind::kEof: return "end of template";
      case TokenKind::kBlockEnd: return "end of statement block";
      case TokenKind::kVariableEnd: return "end of print statement";
      case TokenKind::kName: return "'" + t.text + "'";
      case TokenKind::kOperator: return "'" + t.text + "'";
      default: return "token";
    }
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(cur().line, fmt::format("expected '{}', got {}", op, describe(cur())));
  }
  std::string expect_name() {
    if (cur().kind != TokenKind::kName) error(cur().line, fmt::format("expected name, got {}", describe(cur())));
    return advance().text;
  }
  void expect_block_end() {
    if (cur().kind != TokenKind::kBlockEnd)
      error(cur().line, fmt::format("expected end of statement block, got {}", describe(cur())));
    advance();
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > kMaxNesting) p_.error(p_.cur().line, "template nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  ExprPtr node(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // --- statements -------------------------------------------------------------------------------------------
  // Parses until a block tag whose name is in `end_tags` (left unconsumed, positioned at its name) or EOF.
  StmtList parse_until(std::initializer_list<const char*> end_tags) {
    DepthGuard guard(*this);
    StmtList out;
    while (cur().kind != TokenKind::kEof) {
      const Token& t = cur();
      if (t.kind == TokenKind::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kOutput;
        s->line = t.line;
        s->text = t.text;
        out.push_back(std::move(s));
        advance();
      } else if (t.kind == TokenKind::kVariableBegin) {
        advance();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::kPrint;
        s->line = t.line;
        s->expr = parse_tuple(true, false);
        if (cur().kind != TokenKind::kVariableEnd)
          error(cur().line, fmt::format("expected end of print statement, got {}", describe(cur())));
        advance();
        out.push_back(std::move(s));
      } else if (t.kind == TokenKind::kBlockBegin) {
        const Token& tag = peek();
        if (tag.kind != TokenKind::kName) error(tag.line, "tag name expected");
        for (const char* end : end_tags)
          if (tag.text == end) {
            advance();
            return out;
          }
        advance();
        out.push_back(parse_statement());
      } else {
        error(t.line, "unexpected token");
      }
    }
    if (end_tags.size() != 0) {
      std::string expected;
      for (const char* end : end_tags) expected += (expected.empty() ? "'" : " or '") + std::string(end) + "'";
      error(cur().line, "Unexpected end of template. Jinja was looking for the following tags: " + expected + ".");
    }
    return out;
  }

  StmtPtr parse_statement() {
    const Token& tag = cur();
    const int line = tag.line;
    const std::string name = tag.text;
    auto s = std::make_unique<Stmt>();
    s->line = line;
    advance();
    if (name == "if") return parse_if(std::move(s));
    if (name == "for") return parse_for(std::move(s));
    if (name == "set") return parse_set(std::move(s));
    if (name == "macro") return parse_macro(std::move(s));
    if (name == "filter") {
      s->kind = StmtKind::kFilterBlock;
      s->expr = parse_filter_chain(nullptr, line);
      expect_block_end();
      s->body = parse_until({"endfilter"});
      advance();
      expect_block_end();
      return s;
    }
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) error(line, "Encountered unknown tag '" + name + "'.");
      s->kind = name == "break" ? StmtKind::kBreak : StmtKind::kContinue;
      expect_block_end();
      return s;
    }
    if (name == "generation" || name == "with") return parse_scope(std::move(s), name);
    error(line, "Encountered unknown tag '" + name + "'.");
  }

  StmtPtr parse_if(StmtPtr s) {
    s->kind = StmtKind::kIf;
    while (true) {
      s->conditions.push_back(parse_tuple(false, false));
      expect_block_end();
      s->bodies.push_back(parse_until({"elif", "else", "endif"}));
      const std::string end = advance().text;
      if (end == "elif") continue;
      if (end == "else") {
        expect_block_end();
        s->else_body = parse_until({"endif"});
        advance();
      }
      expect_block_end();
      return s;
    }
  }

  AssignTarget parse_target(bool with_namespace) {
    AssignTarget target;
    if (with_namespace && peek().kind == TokenKind::kOperator && peek().text == ".") {
      target.names.push_back(expect_name());
      advance();
      target.attr = expect_name();
      return target;
    }
    const bool has_paren = skip_op("(");
    while (true) {
      target.names.push_back(expect_name());
      if (!skip_op(",")) break;
      target.is_tuple = true;
      if (cur().kind != TokenKind::kName) break;
    }
    if (has_paren) {
      expect_op(")");
      target.is_tuple = target.is_tuple || target.names.size() > 1;
    }
    return target;
  }

  StmtPtr parse_for(StmtPtr s) {
    s->kind = StmtKind::kFor;
    s->target = parse_target(false);
    if (!skip_name("in")) error(cur().line, fmt::format("expected 'in', got {}", describe(cur())));
    s->expr = parse_tuple(false, false);
    if (skip_name("if")) s->condition = parse_expression(true);
    if (is_name("recursive")) error(cur().line, "recursive loops are not supported");
    expect_block_end();
    ++loop_depth_;
    s->body = parse_until({"endfor", "else"});
    --loop_depth_;
    if (advance().text == "else") {
      expect_block_end();
      s->else_body = parse_until({"endfor"});
      advance();
    }
    expect_block_end();
    return s;
  }

  StmtPtr parse_set(StmtPtr s) {
    s->target = parse_target(true);
    if (skip_op("=")) {
      s->kind = StmtKind::kSet;
      s->expr = parse_tuple(true, false);
      expect_block_end();
      return s;
    }
    s->kind = StmtKind::kSetBlock;
    if (is_op("|")) s->expr = parse_filter_chain(nullptr, cur().line);
    expect_block_end();
    s->body = parse_until({"endset"});
    advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_macro(StmtPtr s) {
    s->kind = StmtKind::kMacro;
    s->name = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s->params.empty()) expect_op(",");
      MacroParam p;
      p.name = expect_name();
      if (skip_op("=")) p.default_value = parse_expression(true);
      else if (!s->params.empty() && s->params.back().default_value)
        error(cur().line, "non-default argument follows default argument");
      s->params.push_back(std::move(p));
    }
    advance();
    expect_block_end();
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_until({"endmacro"});
    loop_depth_ = saved_loop_depth;
    advance();
    if (cur().kind == TokenKind::kName && cur().text == s->name) advance();
    expect_block_end();
    return s;
  }

  StmtPtr parse_scope(StmtPtr s, const std::string& name) {
    s->kind = StmtKind::kScope;
    if (name == "with") {
      while (cur().kind != TokenKind::kBlockEnd) {
        if (!s->assignments.empty()) expect_op(",");
        std::string var = expect_name();
        expect_op("=");
        s->assignments.emplace_back(std::move(var), parse_expression(true));
      }
    }
    expect_block_end();
    s->body = parse_until({name == "with" ? "endwith" : "endgeneration"});
    advance();
    expect_block_end();
    return s;
  }

  // --- expressions ------------------------------------------------------------------------------------------
  bool at_tuple_end() const {
    const Token& t = cur();
    if (t.kind == TokenKind::kVariableEnd || t.kind == TokenKind::kBlockEnd || t.kind == TokenKind::kEof) return true;
    if (t.kind == TokenKind::kOperator && t.text == ")") return true;
    return t.kind == TokenKind::kName && (t.text == "in" || t.text == "if" || t.text == "recursive");
  }

  // Comma-separated expressions; a single one without a comma is returned bare.
  ExprPtr parse_tuple(bool with_condexpr, bool explicit_parens) {
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

  ExprPtr parse_expression(bool with_condexpr) {
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

  ExprPtr binary(ExprKind kind, const std::string& op, ExprPtr left, ExprPtr right, int line) {
    auto e = node(kind, line);
    e->name = op;
    e->children.push_back(std::move(left));
    e->children.push_back(std::move(right));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const int line = advance().line;
      e = binary(ExprKind::kOr, "or", std::move(e), parse_and(), line);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const int line = advance().line;
      e = binary(ExprKind::kAnd, "and", std::move(e), parse_not(), line);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto e = node(ExprKind::kNot, advance().line);
      e->children.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
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
  ExprPtr parse_left_assoc(std::initializer_list<const char*> ops, Next next) {
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
  ExprPtr parse_math1() { return parse_left_assoc({"+", "-"}, &Parser::parse_concat); }
  ExprPtr parse_concat() { return parse_left_assoc({"~"}, &Parser::parse_math2); }
  ExprPtr parse_math2() { return parse_left_assoc({"*", "/", "//", "%"}, &Parser::parse_pow); }
  ExprPtr parse_pow() { return parse_left_assoc({"**"}, &Parser::parse_unary_with_filter); }
  ExprPtr parse_unary_with_filter() { return parse_unary(true); }

  ExprPtr parse_unary(bool with_filter) {
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

  ExprPtr parse_primary() {
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

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".") || is_op("[")) e = parse_subscript(std::move(e));
      else if (is_op("(")) e = parse_call(std::move(e));
      else return e;
    }
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) e = parse_filter_chain(std::move(e), cur().line);
      else if (is_name("is")) e = parse_test(std::move(e));
      else if (is_op("(")) e = parse_call(std::move(e));
      else return e;
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
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

  // One subscript: an expression or a slice a:b:c. A slice takes `obj` (moved) as its operand.
  ExprPtr parse_subscribed(ExprPtr& obj, bool is_first) {
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

  void parse_call_args(Expr& e) {
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

  ExprPtr parse_call(ExprPtr callee) {
    auto e = node(ExprKind::kCall, cur().line);
    e->children.push_back(std::move(callee));
    parse_call_args(*e);
    return e;
  }

  std::string parse_dotted_name() {
    std::string name = expect_name();
    while (is_op(".")) {
      advance();
      name += "." + expect_name();
    }
    return name;
  }

  // `| f(args) | g ...` applied to `operand` (null inside filter blocks and set blocks).
  ExprPtr parse_filter_chain(ExprPtr operand, int line) {
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

  ExprPtr parse_test(ExprPtr operand) {
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

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

StmtList parse_template(const std::string& source) { return Parser(tokenize(source)).parse_all(); }

}  // namespace pagedllm::jinja
