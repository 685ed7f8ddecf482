// The token cursor shared by jinja2's statement and expression parsers: lookahead, expectations with
// jinja2-like messages ("line N: expected ..."), and a nesting guard.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/ast.h"
#include "jinja/lexer.h"

namespace pagedllm::jinja {

class TokenStream {
 public:
  static constexpr int kMaxNesting = 200;  // deeper expressions or blocks are rejected

  // tokens ends with kEof.
  explicit TokenStream(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

 protected:
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

  // Counts nesting of recursive parse calls; deeper templates fail instead of overflowing the stack.
  struct DepthGuard {
    explicit DepthGuard(TokenStream& s) : s_(s) {
      if (++s_.depth_ > kMaxNesting) s_.error(s_.cur().line, "template nested too deeply");
    }
    ~DepthGuard() { --s_.depth_; }
    TokenStream& s_;
  };

  ExprPtr node(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }


 private:
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace pagedllm::jinja
