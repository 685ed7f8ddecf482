#include "structured/json_schema_compiler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "structured/json_formats.h"
#include "structured/json_schema_merge.h"
#include "structured/number_ranges.h"
#include "structured/regex_compiler.h"
#include "structured/utf8_ranges.h"
#include "util/error.h"

namespace pagedllm {
namespace {

const std::set<std::string> kAnnotations = {"$schema", "$id", "$comment", "title", "description", "default", "examples",
                                            "deprecated", "readOnly", "writeOnly", "$defs", "definitions"};
const std::set<std::string> kKeywords = {"type", "properties", "required", "additionalProperties", "items", "prefixItems",
                                         "minItems", "maxItems", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
                                         "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
                                         "exclusiveMinimum", "exclusiveMaximum", "nullable"};

// Characters a JSON string holds without an escape: everything from U+0020 but '"' and '\'.
CodePointSet plain_string_chars() {
  CodePointSet s;
  s.add(0x20, 0x10FFFF);
  s.remove('"', '"');
  s.remove('\\', '\\');
  s.remove(0xD800, 0xDFFF);
  return s;
}

// Extra-property keys: identifier characters only (see the header).
ByteSet identifier_bytes() {
  ByteSet b;
  for (int c = 'a'; c <= 'z'; ++c) b.set(c);
  for (int c = 'A'; c <= 'Z'; ++c) b.set(c);
  for (int c = '0'; c <= '9'; ++c) b.set(c);
  b.set('_');
  b.set('-');
  return b;
}

class SchemaCompiler {
 public:
  SchemaCompiler(ByteNfa& nfa, const Json& root, const JsonSchemaOptions& options)
      : nfa_(nfa), root_(root), options_(options) {}

  NfaFragment value(const Json& schema, const std::string& path);
  NfaFragment any_value(int depth);
  NfaFragment object_of_any(int depth);

 private:
  NfaFragment ws() {
    if (!options_.any_whitespace) return nfa_.empty();
    ByteSet b;
    for (char c : {' ', '\t', '\n', '\r'}) b.set(static_cast<unsigned char>(c));
    return nfa_.star(nfa_.byte_set(b));
  }
  // `text` between optional whitespace.
  NfaFragment punct(const char* text) { return nfa_.seq({ws(), nfa_.literal(text), ws()}); }
  NfaFragment literal_value(const Json& v) { return nfa_.literal(v.dump()); }
  NfaFragment typed(const Json& schema, const std::string& type, const std::string& path);
  NfaFragment object(const Json& schema, const std::string& path);
  NfaFragment array(const Json& schema, const std::string& path);
  NfaFragment string(const Json& schema, const std::string& path);
  NfaFragment number(const Json& schema, bool integer, const std::string& path);
  NfaFragment string_char();
  NfaFragment any_string() { return nfa_.seq({nfa_.literal("\""), nfa_.star(string_char()), nfa_.literal("\"")}); }
  NfaFragment extra_key(const std::set<std::string>& excluded);
  // elem (sep elem)* with one copy of elem: the loop goes back to its start.
  NfaFragment separated_list(const std::function<NfaFragment()>& elem);
  void check_keywords(const Json& schema, const std::string& path);

  ByteNfa& nfa_;
  const Json& root_;
  JsonSchemaOptions options_;
  std::map<const Json*, int> ref_depth_;  // how many times each $ref target is being expanded right now
};

void SchemaCompiler::check_keywords(const Json& schema, const std::string& path) {
  for (auto& [key, v] : schema.items()) {
    if (!kKeywords.count(key) && !kAnnotations.count(key)) {
      throw_error(ErrorKind::kUnsupported, "{}: the JSON Schema keyword '{}' is not supported", path, key);
    }
  }
}

NfaFragment SchemaCompiler::value(const Json& schema, const std::string& path) {
  if (schema.is_boolean()) return schema.get<bool>() ? any_value(options_.max_any_depth) : nfa_.alt({});
  if (!schema.is_object()) throw_error(ErrorKind::kInvalidArgument, "{}: a schema must be an object or a boolean", path);
  check_keywords(schema, path);
  bool has_constraint = false;
  for (auto& [key, v] : schema.items()) has_constraint |= !kAnnotations.count(key);
  if (!has_constraint) return any_value(options_.max_any_depth);

  if (schema.contains("nullable")) {
    if (!schema["nullable"].is_boolean()) throw_error(ErrorKind::kInvalidArgument, "{}: 'nullable' must be a boolean", path);
    Json rest = schema;
    rest.erase("nullable");
    if (!schema["nullable"].get<bool>()) return value(rest, path);
    return nfa_.alt({nfa_.literal("null"), value(rest, path)});
  }
  if (schema.contains("$ref")) {
    if (!schema["$ref"].is_string()) throw_error(ErrorKind::kInvalidArgument, "{}: '$ref' must be a string", path);
    const std::string ref = schema["$ref"].get<std::string>();
    const Json& target = resolve_ref(root_, ref, path);
    Json siblings = schema;
    siblings.erase("$ref");
    bool has_siblings = false;
    for (auto& [key, v] : siblings.items()) has_siblings |= !kAnnotations.count(key);
    if (has_siblings) return value(Json{{"allOf", Json::array({target, siblings})}}, path);
    int& depth = ref_depth_[&target];
    if (depth > options_.max_recursion_depth) return nfa_.alt({});  // the recursion bound: no deeper branch
    ++depth;
    NfaFragment f = value(target, ref);
    --depth;
    return f;
  }
  if (schema.contains("allOf")) {
    const Json& all = schema["allOf"];
    if (!all.is_array() || all.empty()) throw_error(ErrorKind::kInvalidArgument, "{}: 'allOf' must be a non-empty array", path);
    std::vector<Json> parts;
    Json siblings = schema;
    siblings.erase("allOf");
    parts.push_back(siblings);
    for (size_t i = 0; i < all.size(); ++i) {
      // References are inlined before merging; a recursive one inside allOf is beyond the merge.
      Json part = all[i];
      for (int hops = 0; part.is_object() && part.contains("$ref"); ++hops) {
        if (hops > 8) throw_error(ErrorKind::kUnsupported, "{}/allOf/{}: a recursive $ref inside allOf is not supported", path, i);
        Json rest = part;
        rest.erase("$ref");
        Json target = resolve_ref(root_, part["$ref"].get<std::string>(), path);
        part = rest.empty() ? target : merge_all_of({target, rest}, path);
      }
      if (part.is_object() && part.contains("allOf")) {
        Json inner_rest = part;
        inner_rest.erase("allOf");
        std::vector<Json> inner(part["allOf"].begin(), part["allOf"].end());
        inner.push_back(inner_rest);
        part = merge_all_of(inner, path);
      }
      parts.push_back(part);
    }
    return value(merge_all_of(parts, path), path + "/allOf");
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!schema.contains(key)) continue;
    const Json& branches = schema[key];
    if (!branches.is_array() || branches.empty()) throw_error(ErrorKind::kInvalidArgument, "{}: '{}' must be a non-empty array", path, key);
    Json siblings = schema;
    siblings.erase(key);
    bool has_siblings = false;
    for (auto& [k, v] : siblings.items()) has_siblings |= !kAnnotations.count(k);
    std::vector<Json> resolved;
    for (const auto& b : branches) {
      Json r = b;
      if (r.is_object() && r.contains("$ref") && r.size() == 1) r = resolve_ref(root_, r["$ref"].get<std::string>(), path);
      resolved.push_back(r);
    }
    if (std::string(key) == "oneOf") {
      for (size_t i = 0; i < resolved.size(); ++i) {
        for (size_t j = i + 1; j < resolved.size(); ++j) {
          if (!are_disjoint(resolved[i], resolved[j])) {
            throw_error(ErrorKind::kUnsupported,
                        "{}: 'oneOf' branches {} and {} may both match (exclusivity is not enforced; use anyOf, or tell the "
                        "branches apart by type or by a required property's const)", path, i, j);
          }
        }
      }
    }
    std::vector<NfaFragment> options;
    for (size_t i = 0; i < branches.size(); ++i) {
      const std::string branch_path = fmt::format("{}/{}/{}", path, key, i);
      options.push_back(has_siblings ? value(Json{{"allOf", Json::array({siblings, branches[i]})}}, branch_path)
                                     : value(branches[i], branch_path));
    }
    return nfa_.alt(options);
  }
  if (schema.contains("const")) return literal_value(schema["const"]);
  if (schema.contains("enum")) {
    const Json& values = schema["enum"];
    if (!values.is_array() || values.empty()) throw_error(ErrorKind::kInvalidArgument, "{}: 'enum' must be a non-empty array", path);
    std::vector<NfaFragment> options;
    for (const auto& v : values) options.push_back(literal_value(v));
    return nfa_.alt(options);
  }
  std::vector<NfaFragment> options;
  for (const auto& type : schema_types(schema, path)) options.push_back(typed(schema, type, path));
  return nfa_.alt(options);
}

NfaFragment SchemaCompiler::typed(const Json& schema, const std::string& type, const std::string& path) {
  if (type == "object") return object(schema, path);
  if (type == "array") return array(schema, path);
  if (type == "string") return string(schema, path);
  if (type == "integer") return number(schema, true, path);
  if (type == "number") return number(schema, false, path);
  if (type == "boolean") return nfa_.alt({nfa_.literal("true"), nfa_.literal("false")});
  return nfa_.literal("null");
}

NfaFragment SchemaCompiler::separated_list(const std::function<NfaFragment()>& elem) {
  NfaFragment e = elem();
  NfaFragment sep = punct(",");
  nfa_.add_epsilon(e.end, sep.start);
  nfa_.add_epsilon(sep.end, e.start);
  return e;
}

NfaFragment SchemaCompiler::any_value(int depth) {
  std::vector<NfaFragment> options = {any_string(), number(Json::object(), false, ""), nfa_.literal("true"),
                                      nfa_.literal("false"), nfa_.literal("null")};
  if (depth > 0) {
    NfaFragment items = separated_list([&] { return any_value(depth - 1); });
    options.push_back(nfa_.seq({nfa_.literal("["), ws(), nfa_.optional(items), ws(), nfa_.literal("]")}));
    options.push_back(object_of_any(depth));
  }
  return nfa_.alt(options);
}

NfaFragment SchemaCompiler::object_of_any(int depth) {
  NfaFragment members = separated_list([&] { return nfa_.seq({any_string(), punct(":"), any_value(depth - 1)}); });
  return nfa_.seq({nfa_.literal("{"), ws(), nfa_.optional(members), ws(), nfa_.literal("}")});
}

NfaFragment SchemaCompiler::extra_key(const std::set<std::string>& excluded) {
  // The excluded names' trie walked byte by byte: leaving the trie frees the rest of the key; ending inside it
  // is allowed only where no excluded name ends. Keys are non-empty.
  const ByteSet ident = identifier_bytes();
  const int end = nfa_.add_state();
  const int free_loop = nfa_.add_state();
  nfa_.add_edges(free_loop, ident, free_loop);
  nfa_.add_epsilon(free_loop, end);
  std::function<int(const std::string&)> node = [&](const std::string& prefix) -> int {
    const int s = nfa_.add_state();
    if (!prefix.empty() && !excluded.count(prefix)) nfa_.add_epsilon(s, end);
    std::set<unsigned char> children;
    for (const auto& name : excluded) {
      if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) children.insert(name[prefix.size()]);
    }
    ByteSet leave = ident;
    for (unsigned char c : children) {
      if (!ident[c]) continue;
      leave.reset(c);
      ByteSet one;
      one.set(c);
      nfa_.add_edges(s, one, node(prefix + char(c)));
    }
    nfa_.add_edges(s, leave, free_loop);
    return s;
  };
  const int start = node("");
  return nfa_.seq({nfa_.literal("\""), NfaFragment{start, end}, nfa_.literal("\"")});
}

NfaFragment SchemaCompiler::object(const Json& schema, const std::string& path) {
  Json properties = schema.contains("properties") ? schema["properties"] : Json::object();
  if (!properties.is_object()) throw_error(ErrorKind::kInvalidArgument, "{}: 'properties' must be an object", path);
  std::set<std::string> required;
  if (schema.contains("required")) {
    if (!schema["required"].is_array()) throw_error(ErrorKind::kInvalidArgument, "{}: 'required' must be an array", path);
    for (const auto& r : schema["required"]) {
      if (!r.is_string()) throw_error(ErrorKind::kInvalidArgument, "{}: 'required' must list strings", path);
      required.insert(r.get<std::string>());
    }
  }
  // Absent additionalProperties: no others (see the header). true or a schema: extra keys allowed.
  std::optional<Json> additional;
  if (schema.contains("additionalProperties")) {
    const Json& ap = schema["additionalProperties"];
    if (!ap.is_boolean() && !ap.is_object()) throw_error(ErrorKind::kInvalidArgument, "{}: 'additionalProperties' must be a boolean or a schema", path);
    if (!(ap.is_boolean() && !ap.get<bool>())) additional = ap;
  }
  for (const auto& r : required) {
    if (properties.contains(r)) continue;
    if (schema.contains("additionalProperties") && !additional) {
      throw_error(ErrorKind::kInvalidArgument, "{}: required property '{}' is forbidden by additionalProperties: false", path, r);
    }
    properties[r] = additional ? *additional : Json(true);
  }
  std::vector<std::string> names;
  std::set<std::string> name_set;
  for (auto& [name, sub] : properties.items()) {
    names.push_back(name);
    name_set.insert(name);
  }
  auto member = [&](size_t i) {
    const std::string sub_path = path + "/properties/" + names[i];
    return nfa_.seq({nfa_.literal(Json(names[i]).dump()), punct(":"), value(properties[names[i]], sub_path)});
  };
  auto extra_member = [&]() {
    return nfa_.seq({extra_key(name_set), punct(":"), value(*additional, path + "/additionalProperties")});
  };
  // after[i] / first[i]: the members from i on, after some member / before any. They all end in `end`, so the
  // tails are shared states, not copies.
  const int end = nfa_.add_state();
  const size_t n = names.size();
  std::vector<int> after(n + 1), first(n + 1);
  after[n] = nfa_.add_state();
  first[n] = nfa_.add_state();
  nfa_.add_epsilon(after[n], end);
  nfa_.add_epsilon(first[n], end);
  if (additional) {
    NfaFragment more = nfa_.star(nfa_.seq(punct(","), extra_member()));
    nfa_.add_epsilon(after[n], more.start);
    nfa_.add_epsilon(more.end, end);
    NfaFragment list = separated_list(extra_member);
    nfa_.add_epsilon(first[n], list.start);
    nfa_.add_epsilon(list.end, end);
  }
  for (size_t k = n; k-- > 0;) {
    const bool is_required = required.count(names[k]) > 0;
    after[k] = nfa_.add_state();
    NfaFragment with_comma = nfa_.seq(punct(","), member(k));
    nfa_.add_epsilon(after[k], with_comma.start);
    nfa_.add_epsilon(with_comma.end, after[k + 1]);
    if (!is_required) nfa_.add_epsilon(after[k], after[k + 1]);
    first[k] = nfa_.add_state();
    NfaFragment alone = member(k);
    nfa_.add_epsilon(first[k], alone.start);
    nfa_.add_epsilon(alone.end, after[k + 1]);
    if (!is_required) nfa_.add_epsilon(first[k], first[k + 1]);
  }
  return nfa_.seq({nfa_.literal("{"), ws(), NfaFragment{first[0], end}, ws(), nfa_.literal("}")});
}

NfaFragment SchemaCompiler::array(const Json& schema, const std::string& path) {
  std::vector<Json> prefix;
  if (schema.contains("prefixItems")) {
    if (!schema["prefixItems"].is_array()) throw_error(ErrorKind::kInvalidArgument, "{}: 'prefixItems' must be an array", path);
    prefix.assign(schema["prefixItems"].begin(), schema["prefixItems"].end());
  }
  Json items = true;
  if (schema.contains("items")) {
    items = schema["items"];
    if (items.is_array()) throw_error(ErrorKind::kUnsupported, "{}: 'items' as an array is not supported (use prefixItems)", path);
  }
  const bool no_more = items.is_boolean() && !items.get<bool>();
  auto count = [&](const char* key, int fallback) {
    if (!schema.contains(key)) return fallback;
    const Json& v = schema[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) throw_error(ErrorKind::kInvalidArgument, "{}: '{}' must be a non-negative integer", path, key);
    return int(std::min<int64_t>(v.get<int64_t>(), 1'000'000));
  };
  const int k = int(prefix.size());
  const int min_items = count("minItems", 0);
  int max_items = count("maxItems", -1);
  if (no_more) max_items = max_items < 0 ? k : std::min(max_items, k);
  auto elem = [&](int j) {
    return j < k ? value(prefix[j], fmt::format("{}/prefixItems/{}", path, j)) : value(items, path + "/items");
  };
  // rest(j): the elements from position j on, each after a comma, given j elements so far.
  std::function<NfaFragment(int)> rest = [&](int j) -> NfaFragment {
    if (max_items >= 0 && j >= max_items) return nfa_.empty();
    if (j >= k) {
      auto one = [&] { return nfa_.seq(punct(","), elem(j)); };
      if (max_items < 0) {
        const int need = std::max(0, min_items - j);
        return nfa_.seq(nfa_.repeat(one, need, need), nfa_.star(one()));
      }
      return nfa_.repeat(one, std::max(0, min_items - j), max_items - j);
    }
    NfaFragment f = nfa_.seq({punct(","), elem(j), rest(j + 1)});
    return j >= min_items ? nfa_.optional(f) : f;
  };
  NfaFragment body = nfa_.empty();
  if (max_items != 0) {
    body = nfa_.seq(elem(0), rest(1));
    if (min_items == 0) body = nfa_.optional(body);
  } else if (min_items > 0) {
    return nfa_.alt({});
  }
  return nfa_.seq({nfa_.literal("["), ws(), body, ws(), nfa_.literal("]")});
}

NfaFragment SchemaCompiler::string_char() {
  static const CodePointSet plain = plain_string_chars();
  // Escapes: the short ones, or \u of a non-surrogate (so each escape is one character, as ajv counts).
  NfaFragment escape = nfa_.seq(nfa_.literal("\\"), compile_regex(nfa_, "[\"\\\\/bfnrt]|u(?:[0-9a-cA-Ce-fE-F][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2})"));
  return nfa_.alt({utf8_fragment(nfa_, plain), escape});
}

NfaFragment SchemaCompiler::string(const Json& schema, const std::string& path) {
  auto length = [&](const char* key, int fallback) {
    if (!schema.contains(key)) return fallback;
    const Json& v = schema[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) throw_error(ErrorKind::kInvalidArgument, "{}: '{}' must be a non-negative integer", path, key);
    if (v.get<int64_t>() > 100'000) throw_error(ErrorKind::kUnsupported, "{}: '{}' over 100000 is not supported", path, key);
    return int(v.get<int64_t>());
  };
  const int min_len = length("minLength", 0), max_len = length("maxLength", -1);
  const bool has_length = schema.contains("minLength") || schema.contains("maxLength");
  std::optional<std::string> regex;
  if (schema.contains("format")) {
    if (!schema["format"].is_string()) throw_error(ErrorKind::kInvalidArgument, "{}: 'format' must be a string", path);
    regex = json_format_regex(schema["format"].get<std::string>());
    if (!regex) throw_error(ErrorKind::kUnsupported, "{}: the string format '{}' is not supported", path, schema["format"].get<std::string>());
    if (schema.contains("pattern")) throw_error(ErrorKind::kUnsupported, "{}: 'format' together with 'pattern' is not supported", path);
  }
  if (schema.contains("pattern")) {
    if (!schema["pattern"].is_string()) throw_error(ErrorKind::kInvalidArgument, "{}: 'pattern' must be a string", path);
    regex = schema["pattern"].get<std::string>();
  }
  if (regex && has_length) {
    throw_error(ErrorKind::kUnsupported, "{}: minLength/maxLength together with '{}' is not supported", path, schema.contains("pattern") ? "pattern" : "format");
  }
  NfaFragment content = nfa_.empty();
  if (regex) {
    RegexOptions ro;
    ro.allowed = plain_string_chars();
    ro.search = schema.contains("pattern");
    content = compile_regex(nfa_, *regex, ro);
  } else {
    if (max_len >= 0 && max_len < min_len) return nfa_.alt({});
    content = nfa_.repeat([&] { return string_char(); }, min_len, max_len);
  }
  return nfa_.seq({nfa_.literal("\""), content, nfa_.literal("\"")});
}

NfaFragment SchemaCompiler::number(const Json& schema, bool integer, const std::string& path) {
  // Bounds as [lo, hi] over the reals, each inclusive or not; draft-4 boolean exclusives are read too.
  std::optional<double> lo, hi;
  bool lo_exclusive = false, hi_exclusive = false;
  auto bound = [&](const char* key) -> std::optional<double> {
    if (!schema.contains(key) || schema[key].is_boolean()) return std::nullopt;
    if (!schema[key].is_number()) throw_error(ErrorKind::kInvalidArgument, "{}: '{}' must be a number", path, key);
    return schema[key].get<double>();
  };
  lo = bound("minimum");
  hi = bound("maximum");
  if (auto x = bound("exclusiveMinimum"); x && (!lo || *x >= *lo)) lo = x, lo_exclusive = true;
  if (auto x = bound("exclusiveMaximum"); x && (!hi || *x <= *hi)) hi = x, hi_exclusive = true;
  if (schema.contains("exclusiveMinimum") && schema["exclusiveMinimum"].is_boolean()) lo_exclusive = schema["exclusiveMinimum"].get<bool>();
  if (schema.contains("exclusiveMaximum") && schema["exclusiveMaximum"].is_boolean()) hi_exclusive = schema["exclusiveMaximum"].get<bool>();
  constexpr double kLimit = 9.0e18;
  for (auto b : {lo, hi}) {
    if (b && std::fabs(*b) > kLimit) throw_error(ErrorKind::kUnsupported, "{}: a numeric bound beyond ±9e18 is not supported", path);
  }
  // The integers inside the bounds.
  std::optional<int64_t> int_lo, int_hi;
  if (lo) int_lo = int64_t(lo_exclusive ? std::floor(*lo) + 1 : std::ceil(*lo));
  if (hi) int_hi = int64_t(hi_exclusive ? std::ceil(*hi) - 1 : std::floor(*hi));
  if (!integer && !lo && !hi) return compile_regex(nfa_, "-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d{1,2})?");
  NfaFragment integers = integer_range(nfa_, int_lo, int_hi);
  if (integer) return integers;
  // Non-integers i.f (f without trailing zeros) lie strictly inside (i, i+1): allowed when lo <= i and i+1 <= hi;
  // negative ones -j.f lie in (-j-1, -j): allowed when lo <= -j-1 and -j <= hi.
  auto fraction = [&] { return compile_regex(nfa_, "\\.\\d*[1-9]"); };
  std::vector<NfaFragment> options = {integers};
  std::optional<int64_t> i_lo = int64_t(0), i_hi;
  if (lo) i_lo = std::max<int64_t>(0, int64_t(std::ceil(*lo)));
  if (hi) i_hi = int64_t(std::floor(*hi)) - 1;
  if (!i_hi || *i_hi >= *i_lo) options.push_back(nfa_.seq(integer_range(nfa_, i_lo, i_hi), fraction()));
  std::optional<int64_t> j_lo = int64_t(0), j_hi;
  if (hi) j_lo = std::max<int64_t>(0, int64_t(std::ceil(-*hi)));
  if (lo) j_hi = int64_t(std::floor(-*lo)) - 1;
  if (!j_hi || *j_hi >= *j_lo) options.push_back(nfa_.seq({nfa_.literal("-"), integer_range(nfa_, j_lo, j_hi), fraction()}));
  return nfa_.alt(options);
}

}  // namespace

NfaFragment compile_json_schema(ByteNfa& nfa, const Json& schema, const JsonSchemaOptions& options) {
  SchemaCompiler compiler(nfa, schema, options);
  return compiler.value(schema, "#");
}

NfaFragment compile_any_json_object(ByteNfa& nfa, const JsonSchemaOptions& options) {
  const Json root = Json::object();
  SchemaCompiler compiler(nfa, root, options);
  return compiler.object_of_any(options.max_any_depth);
}

}  // namespace pagedllm
