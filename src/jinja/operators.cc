#include "jinja/operators.h"

#include <cmath>

#include "jinja/methods.h"
#include "jinja/unicode.h"

namespace pagedllm::jinja {
namespace {

[[noreturn]] void fail_undefined(const Value& v) { fail("UndefinedError: " + v.undefined_message()); }

Value missing_attribute(const Value& obj, const std::string& name) {
  return Value::undefined("'" + obj.type_name() + " object' has no attribute '" + name + "'");
}

void check_overflow(bool overflowed) {
  if (overflowed) fail("OverflowError: integer result does not fit in 64 bits");
}

int64_t floor_div(int64_t a, int64_t b) {
  if (b == 0) fail("ZeroDivisionError: integer division or modulo by zero");
  if (a == INT64_MIN && b == -1) fail("OverflowError: integer result does not fit in 64 bits");
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) {
  if (b == 0) fail("ZeroDivisionError: integer division or modulo by zero");
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

double float_mod(double a, double b) {
  if (b == 0) fail("ZeroDivisionError: float modulo");
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  if (r == 0) r = std::copysign(0.0, b);
  return r;
}

// CPython's float floor division (float_divmod).
double float_floor_div(double x, double y) {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, x / y);
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return floordiv;
}

Value int_pow(int64_t base, int64_t exp) {
  if (exp < 0) {
    if (base == 0) fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
    return Value(std::pow(static_cast<double>(base), static_cast<double>(exp)));
  }
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) check_overflow(__builtin_mul_overflow(result, base, &result));
    exp >>= 1;
    if (exp > 0) check_overflow(__builtin_mul_overflow(base, base, &base));
  }
  return Value(result);
}

Value repeat(const Value& seq, int64_t times) {
  if (times < 0) times = 0;
  if (seq.is_string()) {
    if (times * seq.as_string().size() > (size_t{1} << 28)) fail("MemoryError: repeated string too large");
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += seq.as_string();
    return Value(std::move(out));
  }
  const auto& items = seq.as_list()->items;
  if (times * items.size() > (size_t{1} << 24)) fail("MemoryError: repeated list too large");
  std::vector<Value> out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  fail("TypeError: unsupported operand type(s) for " + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
}

Value arithmetic(const std::string& op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) unsupported(op, a, b);
  if (op == "/") {
    const double d = b.to_float();
    if (d == 0) fail("ZeroDivisionError: division by zero");
    return Value(a.to_float() / d);
  }
  if (a.is_float() || b.is_float()) {
    const double x = a.to_float(), y = b.to_float();
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "//") {
      if (y == 0) fail("ZeroDivisionError: float floor division by zero");
      return Value(float_floor_div(x, y));
    }
    if (op == "%") return Value(float_mod(x, y));
    if (x == 0 && y < 0) fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
    return Value(std::pow(x, y));
  }
  const int64_t x = a.to_int(), y = b.to_int();
  int64_t r = 0;
  if (op == "+" || op == "-" || op == "*") {
    check_overflow(op == "+" ? __builtin_add_overflow(x, y, &r)
                   : op == "-" ? __builtin_sub_overflow(x, y, &r) : __builtin_mul_overflow(x, y, &r));
    return Value(r);
  }
  if (op == "//") return Value(floor_div(x, y));
  if (op == "%") return Value(floor_mod(x, y));
  return int_pow(x, y);
}

// Python slice bounds for a sequence of length n (CPython's PySlice_AdjustIndices).
std::vector<int64_t> slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step) {
  auto as_index = [](const Value& v) {
    if (!v.is_integral()) fail("TypeError: slice indices must be integers or None");
    return v.to_int();
  };
  const int64_t st = step.is_none() ? 1 : as_index(step);
  if (st == 0) fail("ValueError: slice step cannot be zero");
  auto adjust = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t i = as_index(v);
    if (i < 0) {
      i += n;
      if (i < 0) i = st < 0 ? -1 : 0;
    } else if (i >= n) {
      i = st < 0 ? n - 1 : n;
    }
    return i;
  };
  const int64_t b = adjust(start, st < 0 ? n - 1 : 0);
  const int64_t e = adjust(stop, st < 0 ? -1 : n);
  std::vector<int64_t> idx;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) idx.push_back(i);
  return idx;
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (auto method = find_method(obj, name)) return *method;
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict()->find(Value(name))) return *v;
  } else if (obj.is_namespace()) {
    if (const Value* v = obj.as_namespace()->attrs.find(Value(name))) return *v;
  }
  return missing_attribute(obj, name);
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict()->find(key)) return *v;
  } else if ((obj.is_list() && !obj.is_generator()) || obj.is_string()) {
    if (key.is_integral()) {
      int64_t i = key.to_int();
      if (obj.is_list()) {
        const auto& items = obj.as_list()->items;
        const int64_t n = static_cast<int64_t>(items.size());
        if (i < 0) i += n;
        if (i >= 0 && i < n) return items[i];
      } else {
        const std::u32string u = utf8_decode(obj.as_string());
        const int64_t n = static_cast<int64_t>(u.size());
        if (i < 0) i += n;
        if (i >= 0 && i < n) return Value(utf8_encode(u.substr(i, 1)));
      }
      return Value::undefined(obj.type_name() + " object has no element " + key.repr());
    }
  }
  if (key.is_string()) return get_attr(obj, key.as_string());
  return Value::undefined(obj.type_name() + " object has no element " + key.repr());
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_string()) {
    const std::u32string u = utf8_decode(obj.as_string());
    std::u32string out;
    for (int64_t i : slice_indices(static_cast<int64_t>(u.size()), start, stop, step)) out.push_back(u[i]);
    return Value(utf8_encode(out));
  }
  if (obj.is_list() && !obj.is_generator()) {
    const auto& items = obj.as_list()->items;
    std::vector<Value> out;
    for (int64_t i : slice_indices(static_cast<int64_t>(items.size()), start, stop, step)) out.push_back(items[i]);
    return obj.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
  }
  return Value::undefined(obj.type_name() + " object has no element slice");
}

std::vector<Value> iterate(const Value& v) {
  if (v.is_undefined()) return {};
  if (v.is_list()) return v.as_list()->items;
  if (v.is_dict()) {
    std::vector<Value> keys;
    for (const auto& kv : v.as_dict()->items) keys.push_back(kv.first);
    return keys;
  }
  if (v.is_string()) {
    std::vector<Value> chars;
    for (char32_t cp : utf8_decode(v.as_string())) chars.emplace_back(utf8_encode(std::u32string(1, cp)));
    return chars;
  }
  fail("TypeError: '" + v.type_name() + "' object is not iterable");
}

int64_t length_of(const Value& v) {
  if (v.is_undefined()) return 0;
  if (v.is_string()) return static_cast<int64_t>(utf8_length(v.as_string()));
  if (v.is_list() && !v.is_generator()) return static_cast<int64_t>(v.as_list()->items.size());
  if (v.is_dict()) return static_cast<int64_t>(v.as_dict()->items.size());
  fail("TypeError: object of type '" + v.type_name() + "' has no len()");
}

bool contains(const Value& container, const Value& item) {
  if (container.is_string()) {
    if (item.is_undefined()) fail_undefined(item);
    if (!item.is_string())
      fail("TypeError: 'in <string>' requires string as left operand, not " + item.type_name());
    return container.as_string().find(item.as_string()) != std::string::npos;
  }
  if (container.is_dict()) return container.as_dict()->find(item) != nullptr;
  if (container.is_list() || container.is_undefined()) {
    for (const Value& v : iterate(container))
      if (values_equal(v, item)) return true;
    return false;
  }
  fail("TypeError: argument of type '" + container.type_name() + "' is not iterable");
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value(a.str() + b.str());
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if (a.is_list() && b.is_list() && !a.is_generator() && !b.is_generator() && a.is_tuple() == b.is_tuple()) {
      std::vector<Value> out = a.as_list()->items;
      out.insert(out.end(), b.as_list()->items.begin(), b.as_list()->items.end());
      return a.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    if (a.is_string() || b.is_string())
      fail("TypeError: can only concatenate str (not \"" + (a.is_string() ? b : a).type_name() + "\") to str");
  }
  if (op == "*") {
    if ((a.is_string() || (a.is_list() && !a.is_generator())) && b.is_integral()) return repeat(a, b.to_int());
    if ((b.is_string() || (b.is_list() && !b.is_generator())) && a.is_integral()) return repeat(b, a.to_int());
  }
  if (op == "%" && a.is_string()) fail("TypeError: printf-style string formatting is not supported");
  return arithmetic(op, a, b);
}

Value negate(const Value& v) {
  if (v.is_undefined()) fail_undefined(v);
  if (v.is_float()) return Value(-v.as_float());
  if (v.is_integral()) {
    if (v.to_int() == INT64_MIN) fail("OverflowError: integer result does not fit in 64 bits");
    return Value(-v.to_int());
  }
  fail("TypeError: bad operand type for unary -: '" + v.type_name() + "'");
}

}  // namespace pagedllm::jinja
