// Executes a parsed template: statements write text, expressions compute Values.
//
// Scoping follows jinja2: every for-loop iteration and every macro call gets a fresh scope whose assignments do not
// leak out (carry state across iterations with namespace()); if-blocks share their enclosing scope.
// Not thread-safe; make one Interpreter per render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/ast.h"
#include "jinja/value.h"

namespace pagedllm::jinja {

class Scope;
using ScopePtr = std::shared_ptr<Scope>;

class Scope {
 public:
  explicit Scope(ScopePtr parent = nullptr) : parent_(std::move(parent)) {}
  // The innermost binding of name, or nullptr.
  const Value* lookup(const std::string& name) const;
  void set(const std::string& name, Value value);

 private:
  ScopePtr parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;  // larger output fails instead of exhausting memory
  int max_call_depth = 100;                    // macro recursion deeper than this fails, like Python's RecursionError
};

class Interpreter {
 public:
  explicit Interpreter(RenderLimits limits = {}) : limits_(limits) {}

  // Renders a template body in a child scope of `globals`. Errors are TemplateError("line N: ...").
  std::string render(const StmtList& body, const ScopePtr& globals);

  Value eval(const Expr& e, const ScopePtr& scope);
  Value call(const Value& callee, const CallArgs& args);
  // Renders statements into a string in `scope` (macro bodies, set blocks, filter blocks).
  std::string render_to_string(const StmtList& body, const ScopePtr& scope);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow exec(const StmtList& body, const ScopePtr& scope, std::string& out);
  Flow exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out);
  Flow exec_for(const Stmt& s, const ScopePtr& scope, std::string& out);
  void exec_set(const Stmt& s, const ScopePtr& scope, Value value);
  void define_macro(const Stmt& s, const ScopePtr& scope);
  void append(std::string& out, const std::string& text);
  void bind_target(const AssignTarget& target, const Value& value, const ScopePtr& scope);

  Value eval_compare(const Expr& e, const ScopePtr& scope);
  Value eval_call(const Expr& e, const ScopePtr& scope);
  Value eval_filter(const Expr& e, const Value& operand, const ScopePtr& scope);
  CallArgs eval_args(const Expr& e, size_t first_child, const ScopePtr& scope);

  RenderLimits limits_;
  int line_ = 0;  // line of the node being executed, for error messages
  int call_depth_ = 0;
};

}  // namespace pagedllm::jinja
