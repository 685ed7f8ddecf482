#include "jinja/globals.h"

#include <ctime>

#include "jinja/operators.h"

namespace pagedllm::jinja {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

void define(Scope& scope, const std::string& name, NativeFunction::Fn fn) {
  scope.set(name, Value(CallablePtr(std::make_shared<NativeFunction>(name, std::move(fn)))));
}

Value range_fn(Interpreter&, const CallArgs& args) {
  const auto& a = args.positional;
  if (a.empty() || a.size() > 3) fail("TypeError: range expected 1 to 3 arguments");
  for (const Value& v : a)
    if (!v.is_integral()) fail("TypeError: '" + v.type_name() + "' object cannot be interpreted as an integer");
  const int64_t start = a.size() == 1 ? 0 : a[0].to_int();
  const int64_t stop = a.size() == 1 ? a[0].to_int() : a[1].to_int();
  const int64_t step = a.size() == 3 ? a[2].to_int() : 1;
  if (step == 0) fail("ValueError: range() arg 3 must not be zero");
  const long double count = step > 0 ? (static_cast<long double>(stop) - start + step - 1) / step
                                     : (static_cast<long double>(start) - stop - step - 1) / -step;
  if (count > kMaxRange)
    fail("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.emplace_back(i);
  return Value::list(std::move(items));
}

// dict(mapping or pairs, **kwargs), as namespace() and dict() take them.
void fill_dict(Dict& d, const CallArgs& args, const char* fn) {
  if (args.positional.size() > 1) fail(std::string("TypeError: ") + fn + " expected at most 1 positional argument");
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.as_dict()->items) d.set(k, v);
    } else {
      for (const Value& pair : iterate(src)) {
        const std::vector<Value> kv = iterate(pair);
        if (kv.size() != 2) fail("ValueError: dictionary update sequence element has wrong length");
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.keyword) d.set(Value(k), v);
}

}  // namespace

void add_builtin_globals(Scope& scope) {
  define(scope, "range", range_fn);
  define(scope, "dict", [](Interpreter&, const CallArgs& args) {
    Value d = Value::dict();
    fill_dict(*d.as_dict(), args, "dict");
    return d;
  });
  define(scope, "namespace", [](Interpreter&, const CallArgs& args) {
    auto ns = std::make_shared<Namespace>();
    fill_dict(ns->attrs, args, "namespace");
    return Value(ns);
  });
  define(scope, "raise_exception", [](Interpreter&, const CallArgs& args) -> Value {
    fail(args.positional.empty() ? std::string() : args.positional[0].str());
  });
  define(scope, "strftime_now", [](Interpreter&, const CallArgs& args) {
    if (args.positional.empty() || !args.positional[0].is_string()) fail("TypeError: strftime_now expects a format string");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[512];
    const size_t n = std::strftime(buf, sizeof(buf), args.positional[0].as_string().c_str(), &local);
    return Value(std::string(buf, n));
  });
}

}  // namespace pagedllm::jinja
