// A scan of JSON text run before handing it to nlohmann::json, which builds a tree of any depth: 16 MiB of "["
// became 1.2 GiB of nodes (kept afterwards by malloc), and a 100 MB "[" tokenizer.json peaked at 7.8 GB. The scan
// is O(n) over the bytes and allocates nothing.
//
// It also refuses a NUL byte anywhere: nlohmann's lexer reads NUL as the end of input, so `{...}\0junk` parsed as
// `{...}`; JSON allows no raw control character outside strings nor inside them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pagedllm {

// Nesting allowed in every JSON document pagedllm reads (request bodies, config and tokenizer files). Real
// tokenizer.json files nest under 10 levels; a chat request with content parts about 6.
constexpr int kMaxJsonDepth = 64;

// What makes `text` unacceptable before parsing ("nesting deeper than 64 levels at byte 70"), or nullopt.
// Malformed JSON that passes is left to the parser to report.
std::optional<std::string> find_json_text_problem(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace pagedllm
