// Python semantics of the operations a template applies to values, as jinja2's sandbox performs them:
// attribute and item lookup (missing → Undefined, never an error; using an Undefined is the error),
// slicing, iteration, membership and arithmetic.
#pragma once

#include <string>
#include <vector>

#include "jinja/value.h"

namespace pagedllm::jinja {

// obj.name: methods of str/dict/list first (mutating methods are unsafe in the immutable sandbox and give
// Undefined), then dict keys and namespace attributes. Fails only when obj is Undefined.
Value get_attr(const Value& obj, const std::string& name);
// obj[key]: dict lookup, sequence/str index (negative from the end); falls back to get_attr for string keys.
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step] for lists, tuples and strings; absent bounds are None.
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// The items a for loop sees: list items, dict keys, string characters; Undefined yields nothing.
std::vector<Value> iterate(const Value& v);
// len(v); fails for values without a length (numbers, None, generators).
int64_t length_of(const Value& v);
// item in container.
bool contains(const Value& container, const Value& item);
// a op b for op in + - * / // % ** ~.
Value binary_op(const std::string& op, const Value& a, const Value& b);
Value negate(const Value& v);

}  // namespace pagedllm::jinja
