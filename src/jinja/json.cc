#include "jinja/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "jinja/unicode.h"

namespace pagedllm::jinja {
namespace {

void dump_string(const std::string& s, bool ensure_ascii, std::string& out) {
  out.push_back('"');
  for (char32_t cp : utf8_decode(s)) {
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp < 0x20 || (ensure_ascii && cp > 0x7E)) {
          if (cp >= 0x10000) {
            const char32_t v = cp - 0x10000;
            out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
          } else {
            out += fmt::format("\\u{:04x}", static_cast<uint32_t>(cp));
          }
        } else {
          utf8_append(out, cp);
        }
    }
  }
  out.push_back('"');
}

std::string float_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return python_float_repr(d);
}

// json.dumps turns non-string keys into strings: True → "true", None → "null", 1.5 → "1.5".
std::string key_text(const Value& k) {
  if (k.is_string()) return k.as_string();
  if (k.is_bool()) return k.as_bool() ? "true" : "false";
  if (k.is_none()) return "null";
  if (k.is_int()) return std::to_string(k.as_int());
  if (k.is_float()) return float_text(k.as_float());
  fail("TypeError: keys must be str, int, float, bool or None, not " + k.type_name());
}

class Dumper {
 public:
  explicit Dumper(const JsonDumpOptions& o) : o_(o) {}

  void dump(const Value& v, int level, std::string& out) {
    if (level > 200) fail("RecursionError: maximum recursion depth exceeded while encoding a JSON object");
    if (v.is_none()) out += "null";
    else if (v.is_bool()) out += v.as_bool() ? "true" : "false";
    else if (v.is_int()) out += std::to_string(v.as_int());
    else if (v.is_float()) out += float_text(v.as_float());
    else if (v.is_string()) dump_string(v.as_string(), o_.ensure_ascii, out);
    else if (v.is_list() && !v.is_generator()) dump_list(v.as_list()->items, level, out);
    else if (v.is_dict()) dump_dict(*v.as_dict(), level, out);
    else fail("TypeError: Object of type " + v.type_name() + " is not JSON serializable");
  }

 private:
  void newline(int level, std::string& out) const {
    out.push_back('\n');
    for (int i = 0; i < level; ++i) out += *o_.indent;
  }

  void dump_list(const std::vector<Value>& items, int level, std::string& out) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out += o_.item_separator;
      if (o_.indent) newline(level + 1, out);
      dump(items[i], level + 1, out);
    }
    if (o_.indent) newline(level, out);
    out.push_back(']');
  }

  void dump_dict(const Dict& d, int level, std::string& out) {
    if (d.items.empty()) {
      out += "{}";
      return;
    }
    std::vector<std::pair<std::string, const Value*>> entries;
    for (const auto& [k, v] : d.items) entries.emplace_back(key_text(k), &v);
    if (o_.sort_keys) {
      for (const auto& [k, v] : d.items)
        if (!k.is_string()) fail("TypeError: '<' not supported between instances of non-str dict keys");
      std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    out.push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out += o_.item_separator;
      if (o_.indent) newline(level + 1, out);
      dump_string(entries[i].first, o_.ensure_ascii, out);
      out += o_.key_separator;
      dump(*entries[i].second, level + 1, out);
    }
    if (o_.indent) newline(level, out);
    out.push_back('}');
  }

  const JsonDumpOptions& o_;
};

}  // namespace

std::string python_json_dumps(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  Dumper(options).dump(value, 0, out);
  return out;
}

}  // namespace pagedllm::jinja
