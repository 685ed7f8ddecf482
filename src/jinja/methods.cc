#include "jinja/methods.h"

#include <unordered_map>

#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace pagedllm::jinja {
namespace {

using MethodFn = Value (*)(const Value& self, const CallArgs& args);

const Value* arg(const CallArgs& args, size_t index, const char* keyword = nullptr) {
  if (index < args.positional.size()) return &args.positional[index];
  return keyword ? args.find_keyword(keyword) : nullptr;
}

// Optional str argument (None counts as absent).
const std::string* opt_string(const CallArgs& args, size_t index, const char* keyword = nullptr) {
  const Value* v = arg(args, index, keyword);
  if (!v || v->is_none()) return nullptr;
  if (!v->is_string()) fail("TypeError: expected str, got " + v->type_name());
  return &v->as_string();
}

const std::string& req_string(const CallArgs& args, size_t index, const char* what) {
  const std::string* s = opt_string(args, index);
  if (!s) fail(std::string("TypeError: ") + what + " expected a str argument");
  return *s;
}

int64_t opt_int(const CallArgs& args, size_t index, const char* keyword, int64_t dflt) {
  const Value* v = arg(args, index, keyword);
  if (!v || v->is_none()) return dflt;
  return v->to_int();
}

Value string_list(const std::vector<std::string>& parts) {
  std::vector<Value> items(parts.begin(), parts.end());
  return Value::list(std::move(items));
}

// startswith/endswith accept a str or a tuple of str.
bool affix_match(const Value& self, const CallArgs& args, bool is_prefix) {
  const Value* a = arg(args, 0);
  if (!a) fail("TypeError: startswith/endswith takes at least 1 argument");
  const std::string& s = self.as_string();
  auto match = [&](const Value& v) {
    if (!v.is_string()) fail("TypeError: startswith/endswith first arg must be str or a tuple of str");
    const std::string& p = v.as_string();
    if (p.size() > s.size()) return false;
    return is_prefix ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
  };
  if (a->is_tuple()) {
    for (const Value& v : a->as_list()->items)
      if (match(v)) return true;
    return false;
  }
  return match(*a);
}

int64_t code_point_index(const std::string& s, size_t byte_pos) {
  return byte_pos == std::string::npos ? -1 : static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, byte_pos)));
}

bool all_chars(const std::string& s, bool (*pred)(char32_t)) {
  const std::u32string u = utf8_decode(s);
  if (u.empty()) return false;
  for (char32_t cp : u)
    if (!pred(cp)) return false;
  return true;
}

const std::unordered_map<std::string, MethodFn>& string_methods() {
  static const std::unordered_map<std::string, MethodFn> methods = {
      {"strip", [](const Value& s, const CallArgs& a) { return Value(py_strip(s.as_string(), opt_string(a, 0), true, true)); }},
      {"lstrip", [](const Value& s, const CallArgs& a) { return Value(py_strip(s.as_string(), opt_string(a, 0), true, false)); }},
      {"rstrip", [](const Value& s, const CallArgs& a) { return Value(py_strip(s.as_string(), opt_string(a, 0), false, true)); }},
      {"split", [](const Value& s, const CallArgs& a) {
         return string_list(py_split(s.as_string(), opt_string(a, 0, "sep"), opt_int(a, 1, "maxsplit", -1)));
       }},
      {"rsplit", [](const Value& s, const CallArgs& a) {
         return string_list(py_rsplit(s.as_string(), opt_string(a, 0, "sep"), opt_int(a, 1, "maxsplit", -1)));
       }},
      {"splitlines", [](const Value& s, const CallArgs& a) {
         std::vector<std::string> lines;
         const std::string& str = s.as_string();
         size_t start = 0;
         for (size_t i = 0; i < str.size(); ++i) {
           if (str[i] == '\n' || str[i] == '\r') {
             lines.push_back(str.substr(start, i - start));
             if (str[i] == '\r' && i + 1 < str.size() && str[i + 1] == '\n') ++i;
             start = i + 1;
           }
         }
         if (start < str.size()) lines.push_back(str.substr(start));
         return string_list(lines);
       }},
      {"startswith", [](const Value& s, const CallArgs& a) { return Value(affix_match(s, a, true)); }},
      {"endswith", [](const Value& s, const CallArgs& a) { return Value(affix_match(s, a, false)); }},
      {"replace", [](const Value& s, const CallArgs& a) {
         return Value(py_replace(s.as_string(), req_string(a, 0, "replace"), req_string(a, 1, "replace"),
                                 opt_int(a, 2, "count", -1)));
       }},
      {"upper", [](const Value& s, const CallArgs&) { return Value(py_upper(s.as_string())); }},
      {"lower", [](const Value& s, const CallArgs&) { return Value(py_lower(s.as_string())); }},
      {"title", [](const Value& s, const CallArgs&) { return Value(py_str_title(s.as_string())); }},
      {"capitalize", [](const Value& s, const CallArgs&) { return Value(py_capitalize(s.as_string())); }},
      {"find", [](const Value& s, const CallArgs& a) {
         return Value(code_point_index(s.as_string(), s.as_string().find(req_string(a, 0, "find"))));
       }},
      {"rfind", [](const Value& s, const CallArgs& a) {
         return Value(code_point_index(s.as_string(), s.as_string().rfind(req_string(a, 0, "rfind"))));
       }},
      {"index", [](const Value& s, const CallArgs& a) {
         const size_t pos = s.as_string().find(req_string(a, 0, "index"));
         if (pos == std::string::npos) fail("ValueError: substring not found");
         return Value(code_point_index(s.as_string(), pos));
       }},
      {"count", [](const Value& s, const CallArgs& a) {
         const std::string& sub = req_string(a, 0, "count");
         if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s.as_string()) + 1));
         int64_t n = 0;
         for (size_t p = s.as_string().find(sub); p != std::string::npos; p = s.as_string().find(sub, p + sub.size())) ++n;
         return Value(n);
       }},
      {"join", [](const Value& s, const CallArgs& a) {
         const Value* items = arg(a, 0);
         if (!items) fail("TypeError: join() takes exactly one argument");
         std::string out;
         bool is_first = true;
         for (const Value& v : iterate(*items)) {
           if (!v.is_string()) fail("TypeError: sequence item: expected str instance, " + v.type_name() + " found");
           if (!is_first) out += s.as_string();
           out += v.as_string();
           is_first = false;
         }
         return Value(std::move(out));
       }},
      {"format", [](const Value& s, const CallArgs& a) { return Value(python_str_format(s.as_string(), a)); }},
      {"isdigit", [](const Value& s, const CallArgs&) {
         return Value(all_chars(s.as_string(), [](char32_t c) { return c >= '0' && c <= '9'; }));
       }},
      {"isalpha", [](const Value& s, const CallArgs&) {
         return Value(all_chars(s.as_string(), [](char32_t c) { return is_cased(c) || (c > 0x7F && !is_py_space(c)); }));
       }},
      {"isspace", [](const Value& s, const CallArgs&) { return Value(all_chars(s.as_string(), is_py_space)); }},
      {"isupper", [](const Value& s, const CallArgs&) {
         const std::u32string u = utf8_decode(s.as_string());
         bool has_cased = false;
         for (char32_t c : u) {
           if (is_lower_cp(c)) return Value(false);
           has_cased = has_cased || is_upper_cp(c);
         }
         return Value(has_cased);
       }},
      {"islower", [](const Value& s, const CallArgs&) {
         const std::u32string u = utf8_decode(s.as_string());
         bool has_cased = false;
         for (char32_t c : u) {
           if (is_upper_cp(c)) return Value(false);
           has_cased = has_cased || is_lower_cp(c);
         }
         return Value(has_cased);
       }},
  };
  return methods;
}

const std::unordered_map<std::string, MethodFn>& dict_methods() {
  static const std::unordered_map<std::string, MethodFn> methods = {
      {"items", [](const Value& d, const CallArgs&) {
         std::vector<Value> items;
         for (const auto& [k, v] : d.as_dict()->items) items.push_back(Value::tuple({k, v}));
         return Value::list(std::move(items));
       }},
      {"keys", [](const Value& d, const CallArgs&) { return Value::list(iterate(d)); }},
      {"values", [](const Value& d, const CallArgs&) {
         std::vector<Value> items;
         for (const auto& kv : d.as_dict()->items) items.push_back(kv.second);
         return Value::list(std::move(items));
       }},
      {"get", [](const Value& d, const CallArgs& a) {
         const Value* key = arg(a, 0);
         if (!key) fail("TypeError: get expected at least 1 argument, got 0");
         if (const Value* v = d.as_dict()->find(*key)) return *v;
         const Value* dflt = arg(a, 1);
         return dflt ? *dflt : Value(None{});
       }},
      {"copy", [](const Value& d, const CallArgs&) {
         Value out = Value::dict();
         out.as_dict()->items = d.as_dict()->items;
         return out;
       }},
  };
  return methods;
}

const std::unordered_map<std::string, MethodFn>& list_methods() {
  static const std::unordered_map<std::string, MethodFn> methods = {
      {"index", [](const Value& l, const CallArgs& a) {
         const Value* x = arg(a, 0);
         if (!x) fail("TypeError: index expected at least 1 argument, got 0");
         const auto& items = l.as_list()->items;
         for (size_t i = 0; i < items.size(); ++i)
           if (values_equal(items[i], *x)) return Value(static_cast<int64_t>(i));
         fail("ValueError: " + x->repr() + " is not in list");
       }},
      {"count", [](const Value& l, const CallArgs& a) {
         const Value* x = arg(a, 0);
         if (!x) fail("TypeError: count() takes exactly one argument (0 given)");
         int64_t n = 0;
         for (const Value& v : l.as_list()->items) n += values_equal(v, *x);
         return Value(n);
       }},
      {"copy", [](const Value& l, const CallArgs&) { return Value::list(l.as_list()->items); }},
  };
  return methods;
}

bool is_unsafe(const Value& obj, const std::string& name) {
  static const char* const kListMutators[] = {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"};
  static const char* const kDictMutators[] = {"pop", "popitem", "setdefault", "update", "clear"};
  if (obj.is_list() && !obj.is_tuple() && !obj.is_generator()) {
    for (const char* m : kListMutators)
      if (name == m) return true;
  }
  if (obj.is_dict()) {
    for (const char* m : kDictMutators)
      if (name == m) return true;
  }
  return false;
}

}  // namespace

std::optional<Value> find_method(const Value& obj, const std::string& name) {
  const std::unordered_map<std::string, MethodFn>* table = nullptr;
  if (obj.is_string()) table = &string_methods();
  else if (obj.is_dict()) table = &dict_methods();
  else if (obj.is_list() && !obj.is_generator()) table = &list_methods();
  if (is_unsafe(obj, name)) {
    return Value::undefined("access to attribute '" + name + "' of '" + obj.type_name() + "' object is unsafe.");
  }
  if (!table) return std::nullopt;
  auto it = table->find(name);
  if (it == table->end()) return std::nullopt;
  if (obj.is_list() && obj.is_tuple() && name == "copy") return std::nullopt;
  const MethodFn fn = it->second;
  const Value self = obj;
  auto bound = std::make_shared<NativeFunction>(
      name, [fn, self](Interpreter&, const CallArgs& args) { return fn(self, args); });
  return Value(CallablePtr(bound));
}

std::string python_str_format(const std::string& format, const CallArgs& args) {
  std::string out;
  size_t next_auto = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') ++i;
      else fail("ValueError: Single '}' encountered in format string");
      out.push_back('}');
      continue;
    }
    if (c != '{') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out.push_back('{');
      ++i;
      continue;
    }
    const size_t close = format.find('}', i);
    if (close == std::string::npos) fail("ValueError: Single '{' encountered in format string");
    const std::string field = format.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!.[") != std::string::npos) fail("ValueError: format specs are not supported");
    const Value* v = nullptr;
    if (field.empty()) {
      if (next_auto < args.positional.size()) v = &args.positional[next_auto];
      ++next_auto;
    } else if (field.find_first_not_of("0123456789") == std::string::npos) {
      const size_t index = std::stoul(field);
      if (index < args.positional.size()) v = &args.positional[index];
    } else {
      v = args.find_keyword(field);
      if (!v) fail("KeyError: '" + field + "'");
    }
    if (!v) fail("IndexError: Replacement index out of range for positional args tuple");
    out += v->str();
    i = close;
  }
  return out;
}

}  // namespace pagedllm::jinja
