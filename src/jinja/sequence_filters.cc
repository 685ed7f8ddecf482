// Filters over sequences and mappings: length, first, last, join, list, items, sort, unique, map, select, ...
#include <algorithm>

#include "jinja/filter_table.h"
#include "jinja/filters.h"
#include "jinja/interpreter.h"
#include "jinja/is_tests.h"
#include "jinja/operators.h"
#include "jinja/unicode.h"

namespace pagedllm::jinja {
namespace {

// jinja2's ignore_case postprocessor: strings compare lower-cased unless case_sensitive.
Value sort_key(const Value& v, bool is_case_sensitive) {
  return !is_case_sensitive && v.is_string() ? Value(py_lower(v.as_string())) : v;
}

// Keys for `attribute="a,b"` (several comma-separated paths) or one path, or the item itself.
Value item_key(const Value& item, const Value* attribute, bool is_case_sensitive) {
  if (!attribute || attribute->is_none()) return sort_key(item, is_case_sensitive);
  if (!attribute->is_string()) return sort_key(get_item(item, *attribute), is_case_sensitive);
  const std::string comma = ",";
  std::vector<Value> keys;
  for (const std::string& part : py_split(attribute->as_string(), &comma, -1))
    keys.push_back(sort_key(lookup_attribute_path(item, Value(part)), is_case_sensitive));
  return Value::list(std::move(keys));
}

Value filter_first(Interpreter&, const Value& v, const CallArgs&) {
  std::vector<Value> items = iterate(v);
  return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}

Value filter_last(Interpreter&, const Value& v, const CallArgs&) {
  if (v.is_generator()) fail("TypeError: '" + v.type_name() + "' object is not reversible");
  std::vector<Value> items = iterate(v);
  return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value filter_join(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* sep = filter_arg(args, 0, "d");
  const Value* attribute = filter_arg(args, 1, "attribute");
  const std::string separator = sep ? sep->str() : "";
  std::string out;
  bool is_first = true;
  for (const Value& item : iterate(v)) {
    if (!is_first) out += separator;
    out += (attribute && !attribute->is_none() ? lookup_attribute_path(item, *attribute) : item).str();
    is_first = false;
  }
  return Value(std::move(out));
}

Value filter_items(Interpreter&, const Value& v, const CallArgs&) {
  if (v.is_undefined()) return Value::generator({});
  if (!v.is_dict()) fail("TypeError: Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [k, val] : v.as_dict()->items) pairs.push_back(Value::tuple({k, val}));
  return Value::generator(std::move(pairs));
}

Value filter_unique(Interpreter&, const Value& v, const CallArgs& args) {
  const bool is_case_sensitive = filter_arg(args, 0, "case_sensitive") && filter_arg(args, 0, "case_sensitive")->truthy();
  const Value* attribute = filter_arg(args, 1, "attribute");
  std::vector<Value> seen, out;
  for (const Value& item : iterate(v)) {
    Value key = attribute && !attribute->is_none() ? lookup_attribute_path(item, *attribute) : item;
    key = sort_key(key, is_case_sensitive);
    if (key.is_list() && !key.is_tuple()) fail("TypeError: unhashable type: 'list'");
    if (key.is_dict()) fail("TypeError: unhashable type: 'dict'");
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return values_equal(s, key); })) continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value filter_reverse(Interpreter&, const Value& v, const CallArgs&) {
  if (v.is_string()) {
    std::u32string u = utf8_decode(v.as_string());
    std::reverse(u.begin(), u.end());
    return Value(utf8_encode(u));
  }
  std::vector<Value> items = iterate(v);
  std::reverse(items.begin(), items.end());
  if (v.is_generator()) return Value::list(std::move(items));
  return Value::generator(std::move(items), v.is_dict() ? "dict_reversekeyiterator" : "list_reverseiterator");
}

Value filter_sort(Interpreter&, const Value& v, const CallArgs& args) {
  const bool is_reverse = filter_arg(args, 0, "reverse") && filter_arg(args, 0, "reverse")->truthy();
  const bool is_case_sensitive = filter_arg(args, 1, "case_sensitive") && filter_arg(args, 1, "case_sensitive")->truthy();
  const Value* attribute = filter_arg(args, 2, "attribute");
  std::vector<Value> items = iterate(v);
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items) {
    Value key = item_key(item, attribute, is_case_sensitive);
    // make_multi_attrgetter always yields a list of keys; a single key compares like the bare value.
    keyed.emplace_back(std::move(key), item);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return is_reverse ? compare_values(b.first, a.first) < 0 : compare_values(a.first, b.first) < 0;
  });
  std::vector<Value> out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value filter_dictsort(Interpreter&, const Value& v, const CallArgs& args) {
  if (!v.is_dict()) fail("TypeError: dictsort expects a mapping");
  const bool is_case_sensitive = filter_arg(args, 0, "case_sensitive") && filter_arg(args, 0, "case_sensitive")->truthy();
  const Value* by = filter_arg(args, 1, "by");
  const bool by_value = by && by->str() == "value";
  if (by && by->str() != "key" && !by_value) fail("FilterArgumentError: You can only sort by either \"key\" or \"value\"");
  const bool is_reverse = filter_arg(args, 2, "reverse") && filter_arg(args, 2, "reverse")->truthy();
  std::vector<Value> pairs;
  for (const auto& [k, val] : v.as_dict()->items) pairs.push_back(Value::tuple({k, val}));
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
    const Value ka = sort_key(a.as_list()->items[by_value ? 1 : 0], is_case_sensitive);
    const Value kb = sort_key(b.as_list()->items[by_value ? 1 : 0], is_case_sensitive);
    return is_reverse ? compare_values(kb, ka) < 0 : compare_values(ka, kb) < 0;
  });
  return Value::list(std::move(pairs));
}

// select/reject/selectattr/rejectattr share jinja2's select_or_reject.
Value select_or_reject(Interpreter& interp, const Value& v, const CallArgs& args, bool is_select, bool has_attribute) {
  size_t next = 0;
  Value attribute;
  if (has_attribute) {
    if (args.positional.empty()) fail("TypeError: Missing parameter for attribute name");
    attribute = args.positional[next++];
  }
  std::string test_name;
  CallArgs test_args;
  if (next < args.positional.size()) {
    test_name = args.positional[next++].str();
    test_args.positional.assign(args.positional.begin() + next, args.positional.end());
    test_args.keyword = args.keyword;
  }
  std::vector<Value> out;
  for (const Value& item : iterate(v)) {
    const Value probe = has_attribute ? lookup_attribute_path(item, attribute) : item;
    const bool passed = test_name.empty() ? probe.truthy() : apply_test(interp, test_name, probe, test_args);
    if (passed == is_select) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

Value filter_map(Interpreter& interp, const Value& v, const CallArgs& args) {
  std::vector<Value> out;
  const Value* attribute = args.find_keyword("attribute");
  if (args.positional.empty() && attribute) {
    const Value* dflt = args.find_keyword("default");
    for (const Value& item : iterate(v)) {
      Value x = lookup_attribute_path(item, *attribute);
      out.push_back(dflt && x.is_undefined() ? *dflt : x);
    }
    return Value::generator(std::move(out));
  }
  if (args.positional.empty()) fail("FilterArgumentError: map requires a filter argument");
  const std::string name = args.positional[0].str();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  const std::vector<Value> items = iterate(v);
  for (const Value& item : items) out.push_back(apply_filter(interp, name, item, rest));
  return Value::generator(std::move(out));
}

Value filter_batch(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* count = filter_arg(args, 0, "linecount");
  if (!count) fail("TypeError: batch() missing required argument 'linecount'");
  const int64_t n = count->to_int();
  if (n <= 0) fail("ValueError: batch size must be positive");
  const Value* fill = filter_arg(args, 1, "fill_with");
  std::vector<Value> out, current;
  for (const Value& item : iterate(v)) {
    current.push_back(item);
    if (static_cast<int64_t>(current.size()) == n) out.push_back(Value::list(std::exchange(current, {})));
  }
  if (!current.empty()) {
    if (fill && !fill->is_none())
      while (static_cast<int64_t>(current.size()) < n) current.push_back(*fill);
    out.push_back(Value::list(std::move(current)));
  }
  return Value::generator(std::move(out));
}

Value filter_sum(Interpreter&, const Value& v, const CallArgs& args) {
  const Value* attribute = filter_arg(args, 0, "attribute");
  const Value* start = filter_arg(args, 1, "start");
  Value total = start ? *start : Value(int64_t{0});
  for (const Value& item : iterate(v))
    total = binary_op("+", total, attribute && !attribute->is_none() ? lookup_attribute_path(item, *attribute) : item);
  return total;
}

Value min_or_max(const Value& v, const CallArgs& args, bool is_max) {
  const bool is_case_sensitive = filter_arg(args, 0, "case_sensitive") && filter_arg(args, 0, "case_sensitive")->truthy();
  const Value* attribute = filter_arg(args, 1, "attribute");
  const std::vector<Value> items = iterate(v);
  if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    const int c = compare_values(item_key(items[i], attribute, is_case_sensitive),
                                 item_key(items[best], attribute, is_case_sensitive));
    if (is_max ? c > 0 : c < 0) best = i;
  }
  return items[best];
}

}  // namespace

void add_sequence_filters(FilterTable& t) {
  t["length"] = t["count"] = [](Interpreter&, const Value& v, const CallArgs&) { return Value(length_of(v)); };
  t["first"] = filter_first;
  t["last"] = filter_last;
  t["join"] = filter_join;
  t["items"] = filter_items;
  t["list"] = [](Interpreter&, const Value& v, const CallArgs&) { return Value::list(iterate(v)); };
  t["unique"] = filter_unique;
  t["reverse"] = filter_reverse;
  t["sort"] = filter_sort;
  t["dictsort"] = filter_dictsort;
  t["select"] = [](Interpreter& i, const Value& v, const CallArgs& a) { return select_or_reject(i, v, a, true, false); };
  t["reject"] = [](Interpreter& i, const Value& v, const CallArgs& a) { return select_or_reject(i, v, a, false, false); };
  t["selectattr"] = [](Interpreter& i, const Value& v, const CallArgs& a) { return select_or_reject(i, v, a, true, true); };
  t["rejectattr"] = [](Interpreter& i, const Value& v, const CallArgs& a) { return select_or_reject(i, v, a, false, true); };
  t["map"] = filter_map;
  t["batch"] = filter_batch;
  t["sum"] = filter_sum;
  t["min"] = [](Interpreter&, const Value& v, const CallArgs& a) { return min_or_max(v, a, false); };
  t["max"] = [](Interpreter&, const Value& v, const CallArgs& a) { return min_or_max(v, a, true); };
}

}  // namespace pagedllm::jinja
