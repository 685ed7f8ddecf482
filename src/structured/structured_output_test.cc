#include "structured/structured_output.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace pagedllm {
namespace {

std::shared_ptr<const TokenVocabulary> small_vocabulary() {
  return std::make_shared<TokenVocabulary>(std::vector<std::string>{"", "a", "b", "{", "}", "\"", ":", "1"},
                                           std::vector<int32_t>{0});
}

StructuredOutputsParams regex(const std::string& r) {
  StructuredOutputsParams p;
  p.regex = r;
  return p;
}

TEST(StructuredOutputCompiler, TheSameConstraintTextGivesTheSameCompiledObject) {
  StructuredOutputCompiler compiler(small_vocabulary());
  StructuredOutputsParams schema;
  schema.json = R"({"type":"object","properties":{"a":{"const":1}},"required":["a"]})";
  std::shared_ptr<CompiledConstraint> first = compiler.compile(schema);
  EXPECT_EQ(compiler.compile(schema), first);
  StructuredOutputsParams any_space = schema;
  any_space.any_whitespace = true;  // another automaton
  EXPECT_NE(compiler.compile(any_space), first);
  EXPECT_NE(compiler.compile(regex("a+")), compiler.compile(regex("b+")));
  EXPECT_EQ(compiler.compile(regex("a+")), compiler.compile(regex("a+")));
}

TEST(StructuredOutputCompiler, TheLeastRecentlyUsedEntryIsCompiledAgain) {
  StructuredOutputCompiler compiler(small_vocabulary(), /*max_cached=*/2);
  std::shared_ptr<CompiledConstraint> a = compiler.compile(regex("a"));
  std::shared_ptr<CompiledConstraint> b = compiler.compile(regex("b"));
  EXPECT_EQ(compiler.compile(regex("a")), a);  // "a" is now the most recent
  compiler.compile(regex("ab"));                // evicts "b"
  EXPECT_EQ(compiler.compile(regex("a")), a);
  EXPECT_NE(compiler.compile(regex("b")), b);
}

TEST(StructuredOutputCompiler, ErrorsNameTheKeywordAndAreNotCached) {
  StructuredOutputCompiler compiler(small_vocabulary());
  StructuredOutputsParams schema;
  schema.json = R"({"type":"array","uniqueItems":true})";
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      compiler.compile(schema);
      ADD_FAILURE() << "compiled";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
      EXPECT_NE(std::string(e.what()).find("uniqueItems"), std::string::npos) << e.what();
    }
  }
}

// A tree {"v": int, "kids": [tree...]} nested `levels` deep.
std::string nested_tree(int levels) {
  std::string text = R"({"v":1})";
  for (int i = 1; i < levels; ++i) text = R"({"v":1,"kids":[)" + text + "]}";
  return text;
}

TEST(StructuredOutputCompiler, RecursionDepthIsConfigurableUpToTheDocumentedLimit) {
  StructuredOutputsParams tree;
  tree.json = R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},)"
              R"("kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"]}},"$ref":"#/$defs/node"})";
  for (int depth : {kDefaultRecursionDepth, 5, kMaxRecursionDepth}) {
    StructuredOutputCompiler compiler(small_vocabulary(), 4, depth);
    const ByteDfa& dfa = compiler.compile(tree)->dfa();
    EXPECT_TRUE(dfa.matches(nested_tree(depth + 1))) << depth;
    EXPECT_FALSE(dfa.matches(nested_tree(depth + 2))) << depth;
  }
  StructuredOutputsParams grammar;
  grammar.grammar = "root ::= \"(\" root? \")\"";
  StructuredOutputCompiler compiler(small_vocabulary(), 4, 5);
  EXPECT_TRUE(compiler.compile(grammar)->dfa().matches("(((((())))))"));
  EXPECT_FALSE(compiler.compile(grammar)->dfa().matches("((((((()))))))"));
  for (int depth : {0, kMaxRecursionDepth + 1}) {
    try {
      StructuredOutputCompiler refused(small_vocabulary(), 4, depth);
      ADD_FAILURE() << "accepted depth " << depth;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), fmt::format("the structured-output recursion depth must be in [1, 7], got {}", depth));
    }
  }
}

}  // namespace
}  // namespace pagedllm
