#include "jinja/is_tests.h"

#include <unordered_map>

#include "jinja/filters.h"
#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace pagedllm::jinja {
namespace {

using TestFn = bool (*)(const Value& v, const CallArgs& args);

const Value& required_arg(const CallArgs& args, const char* test) {
  if (args.positional.empty()) fail(std::string("TypeError: test '") + test + "' missing a required argument");
  return args.positional[0];
}

bool cased_test(const Value& v, bool want_upper) {
  bool has_cased = false;
  for (char32_t c : utf8_decode(v.str())) {
    if (want_upper ? is_lower_cp(c) : is_upper_cp(c)) return false;
    has_cased = has_cased || is_cased(c);
  }
  return has_cased;
}

bool is_sameas(const Value& a, const Value& b) {
  if (a.is_none() || b.is_none()) return a.is_none() && b.is_none();
  if (a.is_bool() || b.is_bool()) return a.is_bool() && b.is_bool() && a.as_bool() == b.as_bool();
  // CPython caches the small integers -5..256, so only those are identical objects.
  if (a.is_int() && b.is_int()) return a.as_int() == b.as_int() && a.as_int() >= -5 && a.as_int() <= 256;
  if (a.is_list() && b.is_list()) return a.as_list() == b.as_list();
  if (a.is_dict() && b.is_dict()) return a.as_dict() == b.as_dict();
  if (a.is_namespace() && b.is_namespace()) return a.as_namespace() == b.as_namespace();
  if (a.is_callable() && b.is_callable()) return a.as_callable() == b.as_callable();
  return false;
}

bool modulo_is(const Value& v, const Value& divisor, int64_t remainder) {
  return values_equal(binary_op("%", v, divisor), Value(remainder));
}

const std::unordered_map<std::string, TestFn>& tests() {
  static const std::unordered_map<std::string, TestFn> table = {
      {"defined", [](const Value& v, const CallArgs&) { return !v.is_undefined(); }},
      {"undefined", [](const Value& v, const CallArgs&) { return v.is_undefined(); }},
      {"none", [](const Value& v, const CallArgs&) { return v.is_none(); }},
      {"boolean", [](const Value& v, const CallArgs&) { return v.is_bool(); }},
      {"true", [](const Value& v, const CallArgs&) { return v.is_bool() && v.as_bool(); }},
      {"false", [](const Value& v, const CallArgs&) { return v.is_bool() && !v.as_bool(); }},
      {"integer", [](const Value& v, const CallArgs&) { return v.is_int(); }},
      {"float", [](const Value& v, const CallArgs&) { return v.is_float(); }},
      {"number", [](const Value& v, const CallArgs&) { return v.is_number(); }},
      {"string", [](const Value& v, const CallArgs&) { return v.is_string(); }},
      {"mapping", [](const Value& v, const CallArgs&) { return v.is_dict(); }},
      {"sequence", [](const Value& v, const CallArgs&) {
         return v.is_undefined() || v.is_string() || v.is_dict() || (v.is_list() && !v.is_generator());
       }},
      {"iterable", [](const Value& v, const CallArgs&) {
         return v.is_undefined() || v.is_string() || v.is_dict() || v.is_list();
       }},
      {"callable", [](const Value& v, const CallArgs&) { return v.is_callable() || v.is_undefined(); }},
      {"escaped", [](const Value&, const CallArgs&) { return false; }},
      {"lower", [](const Value& v, const CallArgs&) { return cased_test(v, false); }},
      {"upper", [](const Value& v, const CallArgs&) { return cased_test(v, true); }},
      {"odd", [](const Value& v, const CallArgs&) { return modulo_is(v, Value(int64_t{2}), 1); }},
      {"even", [](const Value& v, const CallArgs&) { return modulo_is(v, Value(int64_t{2}), 0); }},
      {"divisibleby", [](const Value& v, const CallArgs& a) { return modulo_is(v, required_arg(a, "divisibleby"), 0); }},
      {"sameas", [](const Value& v, const CallArgs& a) { return is_sameas(v, required_arg(a, "sameas")); }},
      {"in", [](const Value& v, const CallArgs& a) { return contains(required_arg(a, "in"), v); }},
      {"filter", [](const Value& v, const CallArgs&) { return v.is_string() && has_filter(v.as_string()); }},
      {"test", [](const Value& v, const CallArgs&) { return v.is_string() && has_test(v.as_string()); }},
      {"eq", [](const Value& v, const CallArgs& a) { return values_equal(v, required_arg(a, "eq")); }},
      {"ne", [](const Value& v, const CallArgs& a) { return !values_equal(v, required_arg(a, "ne")); }},
      {"lt", [](const Value& v, const CallArgs& a) { return compare_values(v, required_arg(a, "lt")) < 0; }},
      {"le", [](const Value& v, const CallArgs& a) { return compare_values(v, required_arg(a, "le")) <= 0; }},
      {"gt", [](const Value& v, const CallArgs& a) { return compare_values(v, required_arg(a, "gt")) > 0; }},
      {"ge", [](const Value& v, const CallArgs& a) { return compare_values(v, required_arg(a, "ge")) >= 0; }},
  };
  return table;
}

// Aliases jinja2 registers for the comparison tests.
const std::string& canonical(const std::string& name) {
  static const std::unordered_map<std::string, std::string> aliases = {
      {"==", "eq"}, {"equalto", "eq"}, {"!=", "ne"}, {"<", "lt"}, {"lessthan", "lt"}, {"<=", "le"},
      {">", "gt"}, {"greaterthan", "gt"}, {">=", "ge"},
  };
  auto it = aliases.find(name);
  return it == aliases.end() ? name : it->second;
}

}  // namespace

bool has_test(const std::string& name) { return tests().count(canonical(name)) != 0; }

bool apply_test(Interpreter&, const std::string& name, const Value& operand, const CallArgs& args) {
  auto it = tests().find(canonical(name));
  if (it == tests().end()) fail("No test named '" + name + "'.");
  return it->second(operand, args);
}

}  // namespace pagedllm::jinja
