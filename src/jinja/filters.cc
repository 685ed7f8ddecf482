#include "jinja/filters.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "jinja/filter_table.h"
#include "jinja/json.h"
#include "jinja/methods.h"
#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace pagedllm::jinja {

const Value* filter_arg(const CallArgs& args, size_t index, const char* keyword) {
  if (index < args.positional.size()) return &args.positional[index];
  return keyword ? args.find_keyword(keyword) : nullptr;
}

Value lookup_attribute_path(const Value& item, const Value& path) {
  if (!path.is_string()) return get_item(item, path);
  Value v = item;
  static const std::string kDot = ".";
  for (const std::string& part : py_split(path.as_string(), &kDot, -1)) {
    const bool is_digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    v = get_item(v, is_digits ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
  }
  return v;
}

namespace {

std::string arg_string(const CallArgs& args, size_t index, const char* keyword, const std::string& dflt) {
  const Value* v = filter_arg(args, index, keyword);
  return v ? v->str() : dflt;
}

bool arg_bool(const CallArgs& args, size_t index, const char* keyword, bool dflt) {
  const Value* v = filter_arg(args, index, keyword);
  return v ? v->truthy() : dflt;
}

// Python int(str, base): surrounding whitespace, sign, underscores between digits, 0x/0o/0b prefixes for base 0/16/8/2.
std::optional<int64_t> parse_python_int(const std::string& text, int base) {
  std::string s = py_strip(text, nullptr, true, true);
  bool is_negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    is_negative = s[0] == '-';
    s.erase(0, 1);
  }
  if (s.size() > 1 && s[0] == '0') {
    const char p = s[1] | 0x20;
    const int prefix_base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
    if (prefix_base && (base == 0 || base == prefix_base)) {
      base = prefix_base;
      s.erase(0, 2);
      if (!s.empty() && s[0] == '_') s.erase(0, 1);
    }
  }
  if (base == 0) base = 10;
  if (s.empty() || s.front() == '_' || s.back() == '_' || s.find("__") != std::string::npos) return std::nullopt;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  int64_t value = 0;
  for (char c : s) {
    const char l = c | 0x20;
    const int d = (c >= '0' && c <= '9') ? c - '0' : (l >= 'a' && l <= 'z') ? l - 'a' + 10 : 99;
    if (d >= base) return std::nullopt;
    if (__builtin_mul_overflow(value, base, &value) || __builtin_add_overflow(value, d, &value)) return std::nullopt;
  }
  return is_negative ? -value : value;
}

// Python float(str): whitespace, underscores between digits, inf/nan spellings.
std::optional<double> parse_python_float(const std::string& text) {
  std::string s = py_strip(text, nullptr, true, true);
  if (s.empty() || s.front() == '_' || s.back() == '_' || s.find("__") != std::string::npos) return std::nullopt;
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  const std::string lower = py_lower(s);
  const std::string body = !lower.empty() && (lower[0] == '+' || lower[0] == '-') ? lower.substr(1) : lower;
  const double sign = !lower.empty() && lower[0] == '-' ? -1.0 : 1.0;
  if (body == "inf" || body == "infinity") return sign * INFINITY;
  if (body == "nan") return NAN;
  if (body.find_first_not_of("0123456789.e+-") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return d;
}

Value filter_int(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* dflt = filter_arg(args, 0, "default");
  const Value fallback = dflt ? *dflt : Value(int64_t{0});
  const Value* base_arg = filter_arg(args, 1, "base");
  const int base = base_arg ? static_cast<int>(base_arg->to_int()) : 10;
  if (v.is_integral()) return Value(v.to_int());
  if (v.is_float()) {
    if (!std::isfinite(v.as_float())) return fallback;
    return Value(static_cast<int64_t>(std::trunc(v.as_float())));
  }
  if (v.is_string()) {
    if (auto i = parse_python_int(v.as_string(), base)) return Value(*i);
    if (auto d = parse_python_float(v.as_string()); d && std::isfinite(*d)) return Value(static_cast<int64_t>(std::trunc(*d)));
  }
  return fallback;
}

Value filter_float(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* dflt = filter_arg(args, 0, "default");
  if (v.is_number()) return Value(v.to_float());
  if (v.is_string())
    if (auto d = parse_python_float(v.as_string())) return Value(*d);
  return dflt ? *dflt : Value(0.0);
}

Value filter_round(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* p = filter_arg(args, 0, "precision");
  const int64_t precision = p ? p->to_int() : 0;
  const std::string method = arg_string(args, 1, "method", "common");
  if (method != "common" && method != "ceil" && method != "floor")
    fail("FilterArgumentError: method must be common, ceil or floor");
  if (!v.is_number()) fail("TypeError: type " + v.type_name() + " doesn't define __round__ method");
  if (method == "common") {
    if (v.is_integral()) return Value(v.to_int());
    if (!std::isfinite(v.as_float()) || precision > 300) return v;
    if (precision < 0) {
      const double scale = std::pow(10.0, static_cast<double>(-precision));
      return Value(std::nearbyint(v.as_float() / scale) * scale);
    }
    // printf rounds the exact binary value half-to-even, as CPython's round() does.
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), v.as_float());
    return Value(std::strtod(buf, nullptr));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.to_float() * scale;
  return Value((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Value filter_tojson(Interpreter&, const Value& v, const CallArgs& args) {
  JsonDumpOptions o;
  o.ensure_ascii = arg_bool(args, 0, "ensure_ascii", false);
  if (const Value* indent = filter_arg(args, 1, "indent"); indent && !indent->is_none()) {
    o.indent = indent->is_string() ? indent->as_string() : std::string(std::max<int64_t>(0, indent->to_int()), ' ');
    o.item_separator = ",";
  }
  if (const Value* sep = filter_arg(args, 2, "separators"); sep && !sep->is_none()) {
    const std::vector<Value> parts = iterate(*sep);
    if (parts.size() != 2) fail("ValueError: separators must be a pair of strings");
    o.item_separator = parts[0].str();
    o.key_separator = parts[1].str();
  }
  o.sort_keys = arg_bool(args, 3, "sort_keys", false);
  return Value(python_json_dumps(v, o));
}

// Python str.splitlines() line boundaries.
std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  const std::u32string u = utf8_decode(s);
  size_t start = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    const char32_t c = u[i];
    const bool is_break = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 ||
                          c == 0x2028 || c == 0x2029;
    if (!is_break) continue;
    lines.push_back(utf8_encode(std::u32string_view(u).substr(start, i - start)));
    if (c == '\r' && i + 1 < u.size() && u[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < u.size()) lines.push_back(utf8_encode(std::u32string_view(u).substr(start)));
  return lines;
}

Value filter_indent(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* width = filter_arg(args, 0, "width");
  const std::string indention =
      !width ? "    " : width->is_string() ? width->as_string() : std::string(std::max<int64_t>(0, width->to_int()), ' ');
  const bool first = arg_bool(args, 1, "first", false);
  const bool blank = arg_bool(args, 2, "blank", false);
  std::vector<std::string> lines = split_lines(v.str() + "\n");
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += "\n" + (lines[i].empty() ? "" : indention) + lines[i];
  }
  return Value(first ? indention + rv : rv);
}

// jinja2's title: split on runs of whitespace, '-', '(', '{', '[', '<'; upper-case each piece's first character.
Value filter_title(Interpreter&, const Value& v, const CallArgs&) {
  std::u32string u = utf8_decode(v.str());
  auto is_boundary = [](char32_t c) { return is_py_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; };
  bool at_piece_start = true;
  for (char32_t& c : u) {
    const bool boundary = is_boundary(c);
    if (boundary) {
      at_piece_start = true;
      continue;
    }
    c = at_piece_start ? to_upper_cp(c) : to_lower_cp(c);
    at_piece_start = false;
  }
  return Value(utf8_encode(u));
}

Value filter_wordcount(Interpreter&, const Value& v, const CallArgs&) {
  int64_t count = 0;
  bool in_word = false;
  for (char32_t c : utf8_decode(v.str())) {
    const bool is_word = (c >= '0' && c <= '9') || c == '_' || is_cased(c) || (c > 0x7F && !is_py_space(c) && is_py_printable(c) &&
                                                                                  !(c >= 0x2000 && c <= 0x206F) && !(c >= 0x3000 && c <= 0x303F));
    if (is_word && !in_word) ++count;
    in_word = is_word;
  }
  return Value(count);
}

Value filter_escape(Interpreter&, const Value& v, const CallArgs&) {
  std::string out;
  for (char c : v.str()) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return Value(std::move(out));
}

// printf-style `format` filter: %s, %r, %d, %i, %f and %% with positional arguments.
Value filter_format(Interpreter&, const Value& v, const CallArgs& args) {
  const std::string fmt_text = v.str();
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < fmt_text.size(); ++i) {
    if (fmt_text[i] != '%') {
      out.push_back(fmt_text[i]);
      continue;
    }
    if (i + 1 >= fmt_text.size()) fail("ValueError: incomplete format");
    const char spec = fmt_text[++i];
    if (spec == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= args.positional.size()) fail("TypeError: not enough arguments for format string");
    const Value& a = args.positional[next++];
    if (spec == 's') out += a.str();
    else if (spec == 'r') out += a.repr();
    else if (spec == 'd' || spec == 'i') out += std::to_string(a.is_float() ? static_cast<int64_t>(a.as_float()) : a.to_int());
    else if (spec == 'f') out += fmt::format("{:.6f}", a.to_float());
    else fail(std::string("ValueError: unsupported format character '") + spec + "'");
  }
  if (next < args.positional.size()) fail("TypeError: not all arguments converted during string formatting");
  return Value(std::move(out));
}

Value filter_center(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* w = filter_arg(args, 0, "width");
  const int64_t width = w ? w->to_int() : 80;
  const std::string s = v.str();
  const int64_t n = static_cast<int64_t>(utf8_length(s));
  if (width <= n) return Value(s);
  const int64_t pad = width - n;
  const int64_t left = pad / 2 + (pad & width & 1);
  return Value(std::string(left, ' ') + s + std::string(pad - left, ' '));
}

}  // namespace

void add_text_filters(FilterTable& t) {
  t["int"] = filter_int;
  t["float"] = filter_float;
  t["round"] = filter_round;
  t["tojson"] = filter_tojson;
  t["indent"] = filter_indent;
  t["title"] = filter_title;
  t["wordcount"] = filter_wordcount;
  t["escape"] = t["e"] = t["forceescape"] = filter_escape;
  t["format"] = filter_format;
  t["center"] = filter_center;
  t["upper"] = [](Interpreter&, const Value& v, const CallArgs&) { return Value(py_upper(v.str())); };
  t["lower"] = [](Interpreter&, const Value& v, const CallArgs&) { return Value(py_lower(v.str())); };
  t["capitalize"] = [](Interpreter&, const Value& v, const CallArgs&) { return Value(py_capitalize(v.str())); };
  t["string"] = [](Interpreter&, const Value& v, const CallArgs&) { return Value(v.str()); };
  t["safe"] = [](Interpreter&, const Value& v, const CallArgs&) { return Value(v.str()); };
  t["trim"] = [](Interpreter&, const Value& v, const CallArgs& a) {
    const Value* chars = filter_arg(a, 0, "chars");
    const std::string set = chars && !chars->is_none() ? chars->str() : "";
    return Value(py_strip(v.str(), chars && !chars->is_none() ? &set : nullptr, true, true));
  };
  t["replace"] = [](Interpreter&, const Value& v, const CallArgs& a) {
    const Value* old_text = filter_arg(a, 0, "old");
    const Value* new_text = filter_arg(a, 1, "new");
    if (!old_text || !new_text) fail("TypeError: replace() missing required arguments 'old' and 'new'");
    const Value* count = filter_arg(a, 2, "count");
    return Value(py_replace(v.str(), old_text->str(), new_text->str(), count && !count->is_none() ? count->to_int() : -1));
  };
  t["abs"] = [](Interpreter&, const Value& v, const CallArgs&) {
    if (v.is_float()) return Value(std::fabs(v.as_float()));
    if (v.is_integral()) return Value(v.to_int() < 0 ? -v.to_int() : v.to_int());
    fail("TypeError: bad operand type for abs(): '" + v.type_name() + "'");
  };
  t["default"] = t["d"] = [](Interpreter&, const Value& v, const CallArgs& a) {
    const Value* dflt = filter_arg(a, 0, "default_value");
    const bool boolean = arg_bool(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return dflt ? *dflt : Value("");
    return v;
  };
  t["attr"] = [](Interpreter&, const Value& v, const CallArgs& a) {
    const Value* name = filter_arg(a, 0, "name");
    if (!name || !name->is_string()) fail("TypeError: attr() expects an attribute name");
    // Python getattr only: methods and namespace attributes, never dict keys.
    if (auto method = find_method(v, name->as_string())) return *method;
    if (v.is_namespace())
      if (const Value* attr = v.as_namespace()->attrs.find(*name)) return *attr;
    return Value::undefined("'" + v.type_name() + " object' has no attribute '" + name->as_string() + "'");
  };
}

namespace {
const FilterTable& filters() {
  static const FilterTable table = [] {
    FilterTable t;
    add_text_filters(t);
    add_sequence_filters(t);
    return t;
  }();
  return table;
}
}  // namespace

bool has_filter(const std::string& name) { return filters().count(name) != 0; }

Value apply_filter(Interpreter& interp, const std::string& name, const Value& operand, const CallArgs& args) {
  auto it = filters().find(name);
  if (it == filters().end()) fail("No filter named '" + name + "'.");
  return it->second(interp, operand, args);
}

}  // namespace pagedllm::jinja
