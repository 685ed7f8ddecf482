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

}  // namespace
}  // namespace pagedllm
