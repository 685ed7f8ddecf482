#include "jinja/parser.h"

#include <fmt/format.h>

#include <initializer_list>

#include "jinja/expression_parser.h"
#include "jinja/lexer.h"

namespace pagedllm::jinja {
namespace {

// Statements: data, {{ print }}, and the block tags if/for/set/macro/filter/with/generation/break/continue.
class Parser : public ExpressionParser {
 public:
  using ExpressionParser::ExpressionParser;

  StmtList parse_all() {
    StmtList out = parse_until({});
    if (cur().kind != TokenKind::kEof) error(cur().line, "unexpected tag");
    return out;
  }

 private:
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

  int loop_depth_ = 0;
};

}  // namespace

StmtList parse_template(const std::string& source) { return Parser(tokenize(source)).parse_all(); }

}  // namespace pagedllm::jinja
