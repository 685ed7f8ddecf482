// The values a Jinja template computes with, modelled on the Python objects jinja2 hands around.
//
// Strings are UTF-8. Lists and dicts are shared by pointer (Python reference semantics); the sandbox that
// transformers uses forbids mutating them, so only Namespace objects change after creation. Dicts keep insertion
// order like Python dicts. Undefined carries the message jinja2 would raise when it is used.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace pagedllm::jinja {

// A template failure (jinja2's TemplateError family); the renderer adds the template line before it reaches users.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);

class Value;
struct List;
struct Dict;
struct Namespace;
class Callable;

struct Undefined {
  std::string message;  // what jinja2's UndefinedError says when the value is used, e.g. "'x' is undefined"
};
struct None {};

using ListPtr = std::shared_ptr<List>;
using DictPtr = std::shared_ptr<Dict>;
using NamespacePtr = std::shared_ptr<Namespace>;
using CallablePtr = std::shared_ptr<Callable>;

class Value {
 public:
  Value() : v_(Undefined{"value is undefined"}) {}
  Value(Undefined u) : v_(std::move(u)) {}
  Value(None) : v_(None{}) {}
  Value(bool b) : v_(b) {}
  Value(int i) : v_(int64_t{i}) {}
  Value(int64_t i) : v_(i) {}
  Value(double d) : v_(d) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(ListPtr l) : v_(std::move(l)) {}
  Value(DictPtr d) : v_(std::move(d)) {}
  Value(NamespacePtr n) : v_(std::move(n)) {}
  Value(CallablePtr c) : v_(std::move(c)) {}

  static Value undefined(std::string message) { return Value(Undefined{std::move(message)}); }
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items);
  static Value generator(std::vector<Value> items, std::string python_type = "generator");
  static Value dict();
  static Value from_json(const nlohmann::ordered_json& j);  // objects keep their key order

  bool is_undefined() const { return std::holds_alternative<Undefined>(v_); }
  bool is_none() const { return std::holds_alternative<None>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  bool is_number() const { return is_bool() || is_int() || is_float(); }  // Python's numbers.Number
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_list() const { return std::holds_alternative<ListPtr>(v_); }  // lists and tuples
  bool is_dict() const { return std::holds_alternative<DictPtr>(v_); }
  bool is_namespace() const { return std::holds_alternative<NamespacePtr>(v_); }
  bool is_callable() const { return std::holds_alternative<CallablePtr>(v_); }
  bool is_tuple() const;
  bool is_generator() const;

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const ListPtr& as_list() const { return std::get<ListPtr>(v_); }
  const DictPtr& as_dict() const { return std::get<DictPtr>(v_); }
  const NamespacePtr& as_namespace() const { return std::get<NamespacePtr>(v_); }
  const CallablePtr& as_callable() const { return std::get<CallablePtr>(v_); }
  const std::string& undefined_message() const { return std::get<Undefined>(v_).message; }

  // Integer view of bool/int (Python bools are ints); fails on other types.
  int64_t to_int() const;
  // Float view of any number; fails on other types.
  double to_float() const;
  bool is_integral() const { return is_bool() || is_int(); }

  bool truthy() const;               // Python bool()
  std::string str() const;           // Python str(); undefined → ""
  std::string repr() const;          // Python repr()
  std::string type_name() const;     // Python type name for messages: 'str', 'int', 'dict', ...

 private:
  std::variant<Undefined, None, bool, int64_t, double, std::string, ListPtr, DictPtr, NamespacePtr, CallablePtr> v_;
};

struct List {
  std::vector<Value> items;
  bool is_tuple = false;
  // A one-shot iterator (what jinja2 filters such as map/select/unique return): always truthy, no len(),
  // not subscriptable, not JSON serializable. generator_type names its Python type for messages.
  bool is_generator = false;
  std::string generator_type;
};

// Insertion-ordered map with Python key equality (1 == 1.0 == True). Linear lookup: template dicts are small.
struct Dict {
  std::vector<std::pair<Value, Value>> items;
  const Value* find(const Value& key) const;
  void set(const Value& key, Value value);
};

struct Namespace {
  Dict attrs;  // keys are strings
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  // The keyword argument `name`, or nullptr.
  const Value* find_keyword(const std::string& name) const;
};

class Interpreter;

// A function a template can call: a macro, a global such as range(), or a bound method such as s.strip.
class Callable {
 public:
  virtual ~Callable() = default;
  virtual Value call(Interpreter& interp, const CallArgs& args) = 0;
  virtual std::string repr() const = 0;
};

// Adapts a lambda into a Callable.
class NativeFunction : public Callable {
 public:
  using Fn = std::function<Value(Interpreter&, const CallArgs&)>;
  NativeFunction(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  Value call(Interpreter& interp, const CallArgs& args) override { return fn_(interp, args); }
  std::string repr() const override { return "<built-in function " + name_ + ">"; }

 private:
  std::string name_;
  Fn fn_;
};

// Python ==, with int/float/bool cross-type equality and undefined == undefined.
bool values_equal(const Value& a, const Value& b);
// Python <, for numbers, strings and sequences; fails like Python on other types. Returns -1/0/1.
int compare_values(const Value& a, const Value& b);

// Python repr of a string: quotes chosen as Python does, control and unprintable characters escaped.
std::string python_string_repr(const std::string& s);
// Python repr of a float: shortest round-trip digits, "1e+16", "1e-05", "2.0", "inf", "nan".
std::string python_float_repr(double d);

}  // namespace pagedllm::jinja
