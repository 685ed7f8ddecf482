#include "jinja/interpreter.h"

#include <fmt/format.h>

#include "jinja/filters.h"
#include "jinja/is_tests.h"
#include "jinja/operators.h"

namespace pagedllm::jinja {

const Value* Scope::lookup(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent_.get()) {
    for (const auto& [k, v] : s->vars_)
      if (k == name) return &v;
  }
  return nullptr;
}

void Scope::set(const std::string& name, Value value) {
  for (auto& [k, v] : vars_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  vars_.emplace_back(name, std::move(value));
}

namespace {

// A {% macro %}: binds arguments in a fresh scope under the scope it was defined in and renders its body.
class Macro : public Callable {
 public:
  Macro(const Stmt& def, ScopePtr closure) : def_(def), closure_(std::move(closure)) {}

  Value call(Interpreter& interp, const CallArgs& args) override {
    const auto& params = def_.params;
    if (args.positional.size() > params.size())
      fail(fmt::format("TypeError: macro '{}' takes not more than {} argument(s)", def_.name, params.size()));
    auto scope = std::make_shared<Scope>(closure_);
    std::vector<bool> is_bound(params.size(), false);
    for (size_t i = 0; i < args.positional.size(); ++i) {
      scope->set(params[i].name, args.positional[i]);
      is_bound[i] = true;
    }
    for (const auto& [key, value] : args.keyword) {
      size_t i = 0;
      while (i < params.size() && params[i].name != key) ++i;
      if (i == params.size()) fail(fmt::format("TypeError: macro '{}' takes no keyword argument '{}'", def_.name, key));
      if (is_bound[i]) fail(fmt::format("TypeError: macro '{}' got multiple values for argument '{}'", def_.name, key));
      scope->set(key, value);
      is_bound[i] = true;
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (is_bound[i]) continue;
      scope->set(params[i].name, params[i].default_value
                                     ? interp.eval(*params[i].default_value, scope)
                                     : Value::undefined("parameter '" + params[i].name + "' was not provided"));
    }
    return Value(interp.render_to_string(def_.body, scope));
  }

  std::string repr() const override { return "<Macro '" + def_.name + "'>"; }

 private:
  const Stmt& def_;
  ScopePtr closure_;
};

Value make_loop(const std::vector<Value>& items, size_t i) {
  const auto n = static_cast<int64_t>(items.size());
  const auto i64 = static_cast<int64_t>(i);
  auto ns = std::make_shared<Namespace>();
  Dict& a = ns->attrs;
  a.set(Value("index0"), Value(i64));
  a.set(Value("index"), Value(i64 + 1));
  a.set(Value("revindex0"), Value(n - i64 - 1));
  a.set(Value("revindex"), Value(n - i64));
  a.set(Value("first"), Value(i == 0));
  a.set(Value("last"), Value(i64 == n - 1));
  a.set(Value("length"), Value(n));
  a.set(Value("depth"), Value(int64_t{1}));
  a.set(Value("depth0"), Value(int64_t{0}));
  a.set(Value("previtem"), i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
  a.set(Value("nextitem"), i64 + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
  auto cycle = std::make_shared<NativeFunction>("cycle", [i](Interpreter&, const CallArgs& args) {
    if (args.positional.empty()) fail("TypeError: no items for cycling given");
    return args.positional[i % args.positional.size()];
  });
  a.set(Value("cycle"), Value(CallablePtr(cycle)));
  return Value(ns);
}

}  // namespace

std::string Interpreter::render(const StmtList& body, const ScopePtr& globals) {
  try {
    return render_to_string(body, std::make_shared<Scope>(globals));
  } catch (const TemplateError& e) {
    throw TemplateError(fmt::format("line {}: {}", line_, e.what()));
  }
}

std::string Interpreter::render_to_string(const StmtList& body, const ScopePtr& scope) {
  std::string out;
  exec(body, scope, out);
  return out;
}

void Interpreter::append(std::string& out, const std::string& text) {
  if (out.size() + text.size() > limits_.max_output_bytes)
    fail(fmt::format("rendered output exceeds {} bytes", limits_.max_output_bytes));
  out += text;
}

Interpreter::Flow Interpreter::exec(const StmtList& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    const Flow flow = exec_stmt(*s, scope, out);
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::exec_stmt(const Stmt& s, const ScopePtr& scope, std::string& out) {
  line_ = s.line;
  switch (s.kind) {
    case StmtKind::kOutput: append(out, s.text); return Flow::kNormal;
    case StmtKind::kPrint: append(out, eval(*s.expr, scope).str()); return Flow::kNormal;
    case StmtKind::kIf:
      for (size_t i = 0; i < s.conditions.size(); ++i)
        if (eval(*s.conditions[i], scope).truthy()) return exec(s.bodies[i], scope, out);
      return exec(s.else_body, scope, out);
    case StmtKind::kFor: return exec_for(s, scope, out);
    case StmtKind::kSet: exec_set(s, scope, eval(*s.expr, scope)); return Flow::kNormal;
    case StmtKind::kSetBlock: {
      Value v(render_to_string(s.body, scope));
      if (s.expr) v = eval_filter(*s.expr, v, scope);
      exec_set(s, scope, std::move(v));
      return Flow::kNormal;
    }
    case StmtKind::kMacro: define_macro(s, scope); return Flow::kNormal;
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
    case StmtKind::kFilterBlock: {
      const Value body(render_to_string(s.body, std::make_shared<Scope>(scope)));
      append(out, eval_filter(*s.expr, body, scope).str());
      return Flow::kNormal;
    }
    case StmtKind::kScope: {
      auto inner = std::make_shared<Scope>(scope);
      for (const auto& [name, expr] : s.assignments) inner->set(name, eval(*expr, scope));
      return exec(s.body, inner, out);
    }
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
  std::vector<Value> items = iterate(eval(*s.expr, scope));
  if (s.condition) {
    std::vector<Value> kept;
    for (const Value& item : items) {
      auto probe = std::make_shared<Scope>(scope);
      bind_target(s.target, item, probe);
      if (eval(*s.condition, probe).truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  if (items.empty()) return exec(s.else_body, std::make_shared<Scope>(scope), out);
  for (size_t i = 0; i < items.size(); ++i) {
    auto iteration = std::make_shared<Scope>(scope);
    bind_target(s.target, items[i], iteration);
    iteration->set("loop", make_loop(items, i));
    if (exec(s.body, iteration, out) == Flow::kBreak) break;
  }
  return Flow::kNormal;
}

void Interpreter::bind_target(const AssignTarget& target, const Value& value, const ScopePtr& scope) {
  if (!target.is_tuple) {
    scope->set(target.names[0], value);
    return;
  }
  const std::vector<Value> parts = iterate(value);
  if (parts.size() != target.names.size()) {
    fail(parts.size() > target.names.size()
             ? fmt::format("ValueError: too many values to unpack (expected {})", target.names.size())
             : fmt::format("ValueError: not enough values to unpack (expected {}, got {})", target.names.size(),
                           parts.size()));
  }
  for (size_t i = 0; i < parts.size(); ++i) scope->set(target.names[i], parts[i]);
}

void Interpreter::exec_set(const Stmt& s, const ScopePtr& scope, Value value) {
  if (s.target.attr.empty()) {
    bind_target(s.target, value, scope);
    return;
  }
  const Value* ns = scope->lookup(s.target.names[0]);
  if (!ns || !ns->is_namespace()) fail("Cannot assign attribute on non-namespace object");
  ns->as_namespace()->attrs.set(Value(s.target.attr), std::move(value));
}

void Interpreter::define_macro(const Stmt& s, const ScopePtr& scope) {
  scope->set(s.name, Value(CallablePtr(std::make_shared<Macro>(s, scope))));
}

Value Interpreter::call(const Value& callee, const CallArgs& args) {
  if (callee.is_undefined()) fail("UndefinedError: " + callee.undefined_message());
  if (!callee.is_callable()) fail("TypeError: '" + callee.type_name() + "' object is not callable");
  if (call_depth_ >= limits_.max_call_depth) fail("RecursionError: maximum recursion depth exceeded");
  ++call_depth_;
  struct DepthRestore {
    int& depth;
    ~DepthRestore() { --depth; }
  } restore{call_depth_};
  return callee.as_callable()->call(*this, args);
}

CallArgs Interpreter::eval_args(const Expr& e, size_t first_child, const ScopePtr& scope) {
  CallArgs args;
  for (size_t i = first_child; i < e.children.size(); ++i) args.positional.push_back(eval(*e.children[i], scope));
  for (const auto& [key, expr] : e.kwargs) args.keyword.emplace_back(key, eval(*expr, scope));
  return args;
}

Value Interpreter::eval_filter(const Expr& e, const Value& operand, const ScopePtr& scope) {
  // Chains nest (a | f | g is g(f(a))); inside filter blocks the innermost operand is the rendered body.
  const Expr* inner = e.children[0].get();
  const Value input = !inner ? operand
                      : inner->kind == ExprKind::kFilter ? eval_filter(*inner, operand, scope)
                                                         : eval(*inner, scope);
  const CallArgs args = eval_args(e, 1, scope);
  line_ = e.line;
  return apply_filter(*this, e.name, input, args);
}

Value Interpreter::eval_compare(const Expr& e, const ScopePtr& scope) {
  Value left = eval(*e.children[0], scope);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.children[i + 1], scope);
    line_ = e.line;
    const std::string& op = e.ops[i];
    bool result;
    if (op == "==") result = values_equal(left, right);
    else if (op == "!=") result = !values_equal(left, right);
    else if (op == "in") result = contains(right, left);
    else if (op == "notin") result = !contains(right, left);
    else {
      const int c = compare_values(left, right);
      result = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0 : c >= 0;
    }
    if (!result) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
  line_ = e.line;
  switch (e.kind) {
    case ExprKind::kConst: return e.constant;
    case ExprKind::kName: {
      const Value* v = scope->lookup(e.name);
      return v ? *v : Value::undefined("'" + e.name + "' is undefined");
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      for (const auto& c : e.children) items.push_back(eval(*c, scope));
      return e.kind == ExprKind::kList ? Value::list(std::move(items)) : Value::tuple(std::move(items));
    }
    case ExprKind::kDict: {
      Value d = Value::dict();
      for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
        Value key = eval(*e.children[i], scope);
        if (key.is_list() && !key.is_tuple()) fail("TypeError: unhashable type: 'list'");
        if (key.is_dict()) fail("TypeError: unhashable type: 'dict'");
        d.as_dict()->set(key, eval(*e.children[i + 1], scope));
      }
      return d;
    }
    case ExprKind::kGetAttr: {
      Value obj = eval(*e.children[0], scope);
      line_ = e.line;
      return get_attr(obj, e.name);
    }
    case ExprKind::kGetItem: {
      Value obj = eval(*e.children[0], scope);
      Value key = eval(*e.children[1], scope);
      line_ = e.line;
      return get_item(obj, key);
    }
    case ExprKind::kSlice: {
      Value obj = eval(*e.children[0], scope);
      Value bounds[3];
      for (int i = 0; i < 3; ++i) bounds[i] = e.children[i + 1] ? eval(*e.children[i + 1], scope) : Value(None{});
      line_ = e.line;
      return get_slice(obj, bounds[0], bounds[1], bounds[2]);
    }
    case ExprKind::kCall: {
      Value callee = eval(*e.children[0], scope);
      CallArgs args = eval_args(e, 1, scope);
      line_ = e.line;
      return call(callee, args);
    }
    case ExprKind::kFilter: return eval_filter(e, Value(None{}), scope);
    case ExprKind::kTest: {
      Value operand = eval(*e.children[0], scope);
      CallArgs args = eval_args(e, 1, scope);
      line_ = e.line;
      return Value(apply_test(*this, e.name, operand, args) != e.is_negated);
    }
    case ExprKind::kNot: return Value(!eval(*e.children[0], scope).truthy());
    case ExprKind::kNeg: return negate(eval(*e.children[0], scope));
    case ExprKind::kPos: {
      Value v = eval(*e.children[0], scope);
      if (v.is_undefined()) fail("UndefinedError: " + v.undefined_message());
      if (!v.is_number()) fail("TypeError: bad operand type for unary +: '" + v.type_name() + "'");
      return v.is_bool() ? Value(v.to_int()) : v;
    }
    case ExprKind::kBinary: {
      Value a = eval(*e.children[0], scope);
      Value b = eval(*e.children[1], scope);
      line_ = e.line;
      return binary_op(e.name, a, b);
    }
    case ExprKind::kAnd: {
      Value a = eval(*e.children[0], scope);
      return a.truthy() ? eval(*e.children[1], scope) : a;
    }
    case ExprKind::kOr: {
      Value a = eval(*e.children[0], scope);
      return a.truthy() ? a : eval(*e.children[1], scope);
    }
    case ExprKind::kCompare: return eval_compare(e, scope);
    case ExprKind::kCondExpr:
      if (eval(*e.children[0], scope).truthy()) return eval(*e.children[1], scope);
      if (e.children[2]) return eval(*e.children[2], scope);
      return Value::undefined(fmt::format(
          "the inline if-expression on line {} evaluated to false and no else section was defined.", e.line));
  }
  return Value(None{});
}

}  // namespace pagedllm::jinja
