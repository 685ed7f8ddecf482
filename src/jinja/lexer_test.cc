#include "jinja/lexer.h"

#include <gtest/gtest.h>

#include "jinja/value.h"

namespace pagedllm::jinja {
namespace {

// Concatenated data tokens: the literal text the template outputs around its tags.
std::string data_of(const std::string& source) {
  std::string out;
  for (const Token& t : tokenize(source))
    if (t.kind == TokenKind::kData) out += t.text + "|";
  return out;
}

TEST(JinjaLexer, TrimBlocksDropsFirstNewlineAfterBlockTag) {
  EXPECT_EQ(data_of("{% if x %}\nA\n{% endif %}\nB"), "A\n|B|");
}

TEST(JinjaLexer, TrimBlocksKeepsNewlineAfterVariable) { EXPECT_EQ(data_of("{{ x }}\nA"), "\nA|"); }

TEST(JinjaLexer, LstripBlocksRemovesIndentBeforeBlockTagsOnly) {
  EXPECT_EQ(data_of("x\n    {% if y %}\n    {{ z }}\n"), "x\n|    |");
  EXPECT_EQ(data_of("x  {% if y %}"), "x  |");  // text before the tag on the same line stays
}

TEST(JinjaLexer, LstripAppliesAtLineStartAfterTrimmedNewline) {
  EXPECT_EQ(data_of("{% if a %}\n    {% if b %}x"), "x|");
}

TEST(JinjaLexer, MinusStripsAllWhitespaceOnItsSide) {
  EXPECT_EQ(data_of("a  \n {%- if x -%} \n\n b"), "a|b|");
  EXPECT_EQ(data_of("a \n {{- x -}} \n b"), "a|b|");
}

TEST(JinjaLexer, PlusDisablesLstripAndTrim) {
  EXPECT_EQ(data_of("x\n    {%+ if y %}"), "x\n    |");
  EXPECT_EQ(data_of("{% if y +%}\nA"), "\nA|");
}

TEST(JinjaLexer, CommentsVanishAndTrimLikeBlocks) {
  EXPECT_EQ(data_of("a\n  {# note\n more #}\nb"), "a\n|b|");
}

TEST(JinjaLexer, RawBlockIsOneDataToken) {
  EXPECT_EQ(data_of("{% raw %}{{ x }}{% if %}{% endraw %}!"), "{{ x }}{% if %}|!|");
  // trim_blocks does not apply after {% raw %} itself, only after {% endraw %}.
  EXPECT_EQ(data_of("{% raw %}\na\n{% endraw %}\nb"), "\na\n|b|");
}

TEST(JinjaLexer, NewlinesNormalizedAndOneTrailingNewlineDropped) {
  EXPECT_EQ(data_of("a\r\nb\rc\n"), "a\nb\nc|");
  EXPECT_EQ(data_of("a\n\n"), "a\n|");
}

TEST(JinjaLexer, TokensCarryLineNumbers) {
  const std::vector<Token> tokens = tokenize("a\n{{ x\n + 1 }}\n{% if y %}");
  ASSERT_GE(tokens.size(), 7u);
  EXPECT_EQ(tokens[1].kind, TokenKind::kVariableBegin);
  EXPECT_EQ(tokens[1].line, 2);
  EXPECT_EQ(tokens[3].text, "+");
  EXPECT_EQ(tokens[3].line, 3);
  EXPECT_EQ(tokens.back().kind, TokenKind::kEof);
}

TEST(JinjaLexer, NumbersAndOperators) {
  const std::vector<Token> t = tokenize("{{ 0x1F 1_000 2.5e3 x.0 a//b**c }}");
  EXPECT_EQ(t[1].kind, TokenKind::kInteger);
  EXPECT_EQ(t[1].int_value, 31);
  EXPECT_EQ(t[2].int_value, 1000);
  EXPECT_EQ(t[3].kind, TokenKind::kFloat);
  EXPECT_DOUBLE_EQ(t[3].float_value, 2500.0);
  EXPECT_EQ(t[5].text, ".");
  EXPECT_EQ(t[6].kind, TokenKind::kInteger);  // after a dot, "0" is an item index, not a float
  EXPECT_EQ(t[8].text, "//");
  EXPECT_EQ(t[10].text, "**");
}

TEST(JinjaLexer, StringEscapesFollowPython) {
  const std::vector<Token> t = tokenize(R"({{ 'a\n\t\\\'\x41\u00e9\U0001F600\q\101' }})");
  EXPECT_EQ(t[1].text, "a\n\t\\'A\xC3\xA9\xF0\x9F\x98\x80\\qA");
}

TEST(JinjaLexer, BracketsInsideVariableDoNotEndIt) {
  const std::vector<Token> t = tokenize("{{ {'a': {'b': 1}} }}");
  EXPECT_EQ(t.back().kind, TokenKind::kEof);
  EXPECT_EQ(t[t.size() - 2].kind, TokenKind::kVariableEnd);
}

TEST(JinjaLexer, MalformedInputFailsWithLine) {
  EXPECT_THROW(tokenize("a\n{# never closed"), TemplateError);
  EXPECT_THROW(tokenize("{% raw %}x"), TemplateError);
  EXPECT_THROW(tokenize("{{ (1 ] }}"), TemplateError);
  try {
    tokenize("\n\n{{ 'open }}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("line 3:", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace pagedllm::jinja
