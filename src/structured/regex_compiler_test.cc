#include "structured/regex_compiler.h"

#include <gtest/gtest.h>

#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "structured/byte_dfa.h"
#include "util/error.h"

namespace pagedllm {
namespace {

ByteDfa regex_dfa(const std::string& pattern) {
  ByteNfa nfa;
  NfaFragment f = compile_regex(nfa, pattern);
  return ByteDfa(nfa, f);
}

// Every string over `alphabet` up to `max_len` characters.
void for_each_string(const std::string& alphabet, int max_len, const std::function<void(const std::string&)>& fn) {
  std::vector<std::string> level{""};
  fn("");
  for (int len = 1; len <= max_len; ++len) {
    std::vector<std::string> next;
    for (const auto& s : level) {
      for (char c : alphabet) next.push_back(s + c);
    }
    for (const auto& s : next) fn(s);
    level = std::move(next);
  }
}

// The DFA accepts exactly what std::regex (ECMAScript, whole-string match) accepts, for every short string.
TEST(RegexCompiler, AgreesWithStdRegexOnEveryShortString) {
  const std::vector<std::string> patterns = {
      "a*b",        "(ab|a)*",     "a{2,3}b?",     "[a-c]+",    "[^a]c",      "(a|b)(c|)",  "a{2}",
      "a{1,}c",     "(?:ab)+c?",   "\\d\\w?",      "x.y",       "[a\\-c]*",   "(a|ab)(c|bcd)", "b{0,2}a{0}",
      "(a*)*b",     "[\\d]{1,2}",  "a|b|",         "\\.a",
  };
  for (const auto& p : patterns) {
    ByteDfa dfa = regex_dfa(p);
    std::regex re(p);
    for_each_string("abcdxy1.-", 4, [&](const std::string& s) {
      EXPECT_EQ(dfa.matches(s), std::regex_match(s, re)) << "pattern " << p << " string '" << s << "'";
    });
  }
}

TEST(RegexCompiler, DotAndNegatedClassesMatchWholeUtf8Characters) {
  ByteDfa dfa = regex_dfa("a.b[^x]");
  EXPECT_TRUE(dfa.matches("a\xC3\xA9" "b\xE2\x82\xAC"));  // é, €
  EXPECT_TRUE(dfa.matches("a\xF0\x9F\x98\x80" "by"));      // 😀
  EXPECT_FALSE(dfa.matches("a\xC3" "b" "y"));              // a lone lead byte
  EXPECT_FALSE(dfa.matches("a\nby"));
  EXPECT_FALSE(dfa.matches("a\xED\xA0\x80" "by"));         // a surrogate
  EXPECT_FALSE(dfa.matches("a\xC0\xAF" "by"));             // an overlong '/'
}

TEST(RegexCompiler, NonAsciiRangesCoverExactlyTheirCodePoints) {
  ByteDfa dfa = regex_dfa("[\\u00e0-\\u00ff\\u4e00-\\u4e05]");
  EXPECT_TRUE(dfa.matches("\xC3\xA0"));
  EXPECT_TRUE(dfa.matches("\xC3\xBF"));
  EXPECT_FALSE(dfa.matches("\xC3\x9F"));
  EXPECT_TRUE(dfa.matches("\xE4\xB8\x80"));
  EXPECT_TRUE(dfa.matches("\xE4\xB8\x85"));
  EXPECT_FALSE(dfa.matches("\xE4\xB8\x86"));
}

TEST(RegexCompiler, AnchorsAtTheEndsAreAccepted) {
  EXPECT_TRUE(regex_dfa("^ab$").matches("ab"));
  EXPECT_FALSE(regex_dfa("^ab$").matches("abab"));
}

TEST(RegexCompiler, SearchModeMatchesAnywhereUnlessAnchored) {
  ByteNfa nfa;
  RegexOptions options;
  options.search = true;
  ByteDfa dfa(nfa, compile_regex(nfa, "b+c", options));
  EXPECT_TRUE(dfa.matches("abbcd"));
  EXPECT_FALSE(dfa.matches("abd"));
  ByteNfa nfa2;
  ByteDfa anchored(nfa2, compile_regex(nfa2, "^b+c", options));
  EXPECT_FALSE(anchored.matches("abc"));
  EXPECT_TRUE(anchored.matches("bcxx"));
}

TEST(RegexCompiler, UnsupportedConstructsNameThemselves) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"(a)\\1", "backreference"}, {"a(?=b)", "(? group"}, {"\\bword", "word boundary"},
      {"a^b", "anchor"},           {"(ab", "unterminated group"}, {"*a", "nothing to repeat"},
      {"[z-a]", "reversed"},       {"a{3,1}", "m < n"},
  };
  for (const auto& [pattern, what] : cases) {
    try {
      regex_dfa(pattern);
      ADD_FAILURE() << pattern << " compiled";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << pattern;
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  }
}

TEST(RegexCompiler, AnEmptyLanguageIsRefused) {
  EXPECT_THROW(regex_dfa("[^\\s\\S]"), Error);
}

}  // namespace
}  // namespace pagedllm
