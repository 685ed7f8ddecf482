// GBNF grammars (llama.cpp's format) compiled into a ByteNfa fragment, starting at the rule `root`.
//
//   root   ::= "(" expr ")" | item+
//   expr   ::= item ("," item)*      # comments run to the end of the line
//   item   ::= [a-z0-9]{1,3} | "\"" [^"]* "\""
//
// Elements: "literals" (escapes \n \r \t \\ \" \xHH \uHHHH), [character classes] (negation, ranges and the
// escapes of structured/regex_compiler.h), rule references, ( groups ), alternation |, and the quantifiers
// * + ? {n} {n,} {n,m}. A rule may span lines; a new rule starts at `name ::=`.
// Recursion is expanded to a bounded depth: a rule may be entered again at most max_recursion_depth times
// inside itself, beyond which the recursive alternative is not offered (the same bound as JSON Schema $ref).
// Errors (Error(kInvalidArgument)) name the rule and what is wrong: an undefined rule, a missing root, a
// syntax error with its line.
#pragma once

#include <string_view>

#include "structured/byte_nfa.h"

namespace pagedllm {

NfaFragment compile_gbnf(ByteNfa& nfa, std::string_view grammar, int max_recursion_depth = 3);

}  // namespace pagedllm
