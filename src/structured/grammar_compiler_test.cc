#include "structured/grammar_compiler.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "structured/byte_dfa.h"
#include "util/error.h"

namespace pagedllm {
namespace {

ByteDfa grammar_dfa(const std::string& g, int depth = 3) {
  ByteNfa nfa;
  NfaFragment f = compile_gbnf(nfa, g, depth);
  return ByteDfa(nfa, f);
}

// Every string over `alphabet` up to max_len that the DFA accepts.
std::set<std::string> accepted(const ByteDfa& dfa, const std::string& alphabet, size_t max_len) {
  std::set<std::string> out;
  std::vector<std::pair<std::string, int>> frontier{{"", dfa.start()}};
  while (!frontier.empty()) {
    auto [text, state] = frontier.back();
    frontier.pop_back();
    if (dfa.is_accepting(state)) out.insert(text);
    if (text.size() >= max_len) continue;
    for (char c : alphabet) {
      const int next = dfa.next(state, static_cast<uint8_t>(c));
      if (next != ByteDfa::kDead) frontier.emplace_back(text + c, next);
    }
  }
  return out;
}

// Completeness and soundness: nested parentheses with a recursion bound of 2 (p entered once, then re-entered
// at most twice inside itself), enumerated and compared with the strings built by hand.
TEST(GbnfCompiler, RecursiveGrammarAcceptsExactlyItsBoundedLanguage) {
  ByteDfa dfa = grammar_dfa("root ::= p\np ::= \"(\" p? \")\" | \"x\"\n", 2);
  // Three levels of p: the innermost is "x" or "()".
  const std::set<std::string> expected = {"x", "()", "(x)", "(())", "((x))", "((()))"};
  EXPECT_EQ(accepted(dfa, "()x", 10), expected);
}

TEST(GbnfCompiler, ListsClassesLiteralsAndQuantifiers) {
  const std::string g = R"(# a comma-separated list of 1-2 letter words or quoted digits
root ::= item ("," item){0,2}
item ::= [a-b]{1,2}
       | "\"" [0-1]+ "\""
)";
  ByteDfa dfa = grammar_dfa(g);
  EXPECT_TRUE(dfa.matches("a"));
  EXPECT_TRUE(dfa.matches("ab,\"01\",b"));
  EXPECT_FALSE(dfa.matches("a,b,a,b"));
  EXPECT_FALSE(dfa.matches("abc"));
  EXPECT_FALSE(dfa.matches("\"\""));
  std::set<std::string> short_ones = accepted(dfa, "ab,", 3);
  EXPECT_EQ(short_ones, (std::set<std::string>{"a", "b", "aa", "ab", "ba", "bb", "a,a", "a,b", "b,a", "b,b"}));
}

TEST(GbnfCompiler, EscapesInLiterals) {
  ByteDfa dfa = grammar_dfa(R"(root ::= "tab\there\n\x41\u00e9")");
  EXPECT_TRUE(dfa.matches("tab\there\nA\xC3\xA9"));
}

TEST(GbnfCompiler, ErrorsNameTheRuleOrLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"root ::= item\n", "rule 'item' is used but not defined"},
      {"start ::= \"a\"\n", "there is no 'root' rule"},
      {"root ::= \"a\"\nroot ::= \"b\"\n", "grammar line 2: rule 'root' is defined twice"},
      {"root ::= \"abc\n", "grammar line 1: an unterminated string literal"},
      {"root ::= (\"a\"\n", "an unterminated group"},
  };
  for (const auto& [g, message] : cases) {
    try {
      grammar_dfa(g);
      ADD_FAILURE() << g;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace pagedllm
