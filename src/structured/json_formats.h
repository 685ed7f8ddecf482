// Regexes for the JSON Schema string formats the constraint enforces. Each is a subset of what ajv-formats
// ("full" mode) accepts, chosen so that every generated string validates: dates stop at day 28 of February
// (no leap-year arithmetic), times always carry a zone and never a leap second, emails and URIs take a plain
// common shape.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pagedllm {

// The regex of a format (date, time, date-time, email, uuid, ipv4, uri), or nullopt for any other name.
std::optional<std::string> json_format_regex(std::string_view format);

}  // namespace pagedllm
