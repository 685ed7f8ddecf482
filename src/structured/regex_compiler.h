// Regular expressions compiled into a ByteNfa fragment. The whole output must match (as vLLM's guided_regex
// and JSON Schema's anchored use of it); ^ at the start and $ at the end are accepted and change nothing.
//
// Syntax: literals (UTF-8), escapes \d \D \w \W \s \S \n \r \t \f \v \xHH \uHHHH and escaped punctuation,
// `.` (any character but \n), classes [a-z] [^...] with those escapes, groups (...) (?:...) (?<name>...)
// (?P<name>...), alternation |, quantifiers * + ? {n} {n,} {n,m} (a lazy/possessive suffix ? or + is accepted:
// it changes which match a search finds, never which strings match). Anything else — backreferences,
// lookaround, \b, anchors in the middle — throws Error(kUnsupported) naming it.
#pragma once

#include <string_view>

#include "structured/byte_nfa.h"
#include "structured/utf8_ranges.h"

namespace pagedllm {

struct RegexOptions {
  // Characters outside this set never match, whatever the regex says (a JSON string's content excludes '"',
  // '\' and control characters, which would need escapes). Empty: no restriction.
  CodePointSet allowed;
  // A JSON Schema "pattern" matches anywhere in the string: unanchored ends get ".*".
  bool search = false;
};

NfaFragment compile_regex(ByteNfa& nfa, std::string_view pattern, const RegexOptions& options = {});

}  // namespace pagedllm
