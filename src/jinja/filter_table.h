// Internal to the filter implementation: the registry that filters.cc and sequence_filters.cc fill.
#pragma once

#include <string>
#include <unordered_map>

#include "jinja/value.h"

namespace pagedllm::jinja {

using FilterFn = Value (*)(Interpreter& interp, const Value& operand, const CallArgs& args);
using FilterTable = std::unordered_map<std::string, FilterFn>;

void add_text_filters(FilterTable& table);      // filters.cc
void add_sequence_filters(FilterTable& table);  // sequence_filters.cc

// Argument `index` of a filter call, positional or by keyword; nullptr when absent.
const Value* filter_arg(const CallArgs& args, size_t index, const char* keyword);
// jinja2's make_attrgetter: "a.b.0" looks up a, then b, then item 0 with the sandbox's getitem rules.
Value lookup_attribute_path(const Value& item, const Value& path);

}  // namespace pagedllm::jinja
