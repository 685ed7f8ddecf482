// The syntax tree of a parsed template: expressions (Expr) and statements (Stmt). Nodes own their children;
// every node records the template line it starts on, for error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace pagedllm::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

enum class ExprKind {
  kConst,     // constant
  kName,      // name
  kList,      // children: items
  kTuple,     // children: items
  kDict,      // children: key0, value0, key1, value1, ...
  kGetAttr,   // children[0].name
  kGetItem,   // children[0][children[1]]
  kSlice,     // children[0][children[1]:children[2]:children[3]], absent parts null
  kCall,      // children[0](children[1..], kwargs)
  kFilter,    // children[0] | name(children[1..], kwargs); children[0] null inside {% filter %} blocks
  kTest,      // children[0] is [not] name(children[1..], kwargs); is_negated
  kNot,       // not children[0]
  kNeg,       // -children[0]
  kPos,       // +children[0]
  kBinary,    // children[0] op children[1], op one of + - * / // % ** ~
  kAnd,       // children[0] and children[1]
  kOr,        // children[0] or children[1]
  kCompare,   // children[0] ops[0] children[1] ops[1] children[2] ... (ops: == != < <= > >= in notin)
  kCondExpr,  // children[1] if children[0] else children[2] (children[2] null: undefined)
};

struct Expr {
  ExprKind kind;
  int line = 0;
  Value constant;
  std::string name;
  std::vector<ExprPtr> children;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool is_negated = false;
};

// Left side of set/for: one name, a tuple of names to unpack, or a namespace attribute (ns.attr).
struct AssignTarget {
  std::vector<std::string> names;
  bool is_tuple = false;
  std::string attr;  // non-empty: assign names[0].attr
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null when required
};

enum class StmtKind {
  kOutput,       // text
  kPrint,        // {{ expr }}
  kIf,           // conditions[i] → bodies[i]; else_body
  kFor,          // for target in expr [if condition] body [else else_body]
  kSet,          // set target = expr
  kSetBlock,     // set target [| filter] body endset
  kMacro,        // macro name(params) body
  kBreak,
  kContinue,
  kFilterBlock,  // filter expr(filter chain, innermost operand null) body
  kScope,        // body rendered in its own scope ({% generation %}, {% with %}); assignments: with-bindings
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;
  std::string name;
  ExprPtr expr;
  ExprPtr condition;
  AssignTarget target;
  std::vector<ExprPtr> conditions;
  std::vector<StmtList> bodies;
  StmtList body;
  StmtList else_body;
  std::vector<MacroParam> params;
  std::vector<std::pair<std::string, ExprPtr>> assignments;
};

}  // namespace pagedllm::jinja
