#include "structured/json_schema_compiler.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "structured/byte_dfa.h"
#include "util/error.h"

namespace pagedllm {
namespace {

using Json = nlohmann::ordered_json;

ByteDfa schema_dfa(const std::string& schema, JsonSchemaOptions options = {}) {
  ByteNfa nfa;
  NfaFragment f = compile_json_schema(nfa, Json::parse(schema), options);
  return ByteDfa(nfa, f);
}

struct Case {
  std::string schema;
  std::vector<std::string> accepted, rejected;
};

TEST(JsonSchemaCompiler, AcceptsAndRejectsExactInstances) {
  const std::vector<Case> cases = {
      {R"({"type":"boolean"})", {"true", "false"}, {"1", "\"true\"", " true"}},
      {R"({"type":["integer","null"]})", {"0", "-12", "null"}, {"1.5", "\"1\""}},
      {R"({"type":"integer","minimum":-3,"exclusiveMaximum":10})", {"-3", "0", "9"}, {"10", "-4", "1.0"}},
      {R"({"type":"number","minimum":0,"maximum":1})", {"0", "1", "0.5", "0.25"}, {"1.5", "-0.1", "2", "1e1"}},
      {R"({"type":"number","exclusiveMinimum":-2,"maximum":0})", {"-1", "-1.5", "-0.5", "0"}, {"-2", "-2.5", "0.5"}},
      {R"({"type":"number"})", {"1", "-0.5", "3e10", "2.5E-3"}, {"01", ".5", "1."}},
      {R"({"type":"string","minLength":2,"maxLength":3})", {R"("ab")", R"("abc")", R"("é\n")"}, {R"("a")", R"("abcd")"}},
      {R"({"type":"string","pattern":"^[a-z]+\\d$"})", {R"("ab1")"}, {R"("ab")", R"("1")"}},
      {R"({"type":"string","pattern":"ab"})", {R"("xxabyy")", R"("ab")"}, {R"("a b")"}},
      {R"({"type":"string","format":"date"})", {R"("2024-02-28")", R"("1999-12-31")"}, {R"("2024-02-30")", R"("2024-13-01")"}},
      {R"({"type":"string","format":"uuid"})", {R"("123e4567-e89b-12d3-a456-426614174000")"}, {R"("123e4567")"}},
      {R"({"type":"string","format":"ipv4"})", {R"("192.168.0.1")"}, {R"("256.1.1.1")", R"("1.2.3")"}},
      {R"({"enum":["red",1,null,{"a":[true]}]})", {R"("red")", "1", "null", R"({"a":[true]})"}, {R"("blue")"}},
      {R"({"const":"x"})", {R"("x")"}, {R"("y")"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"]})",
       {R"({"a":1,"b":"x"})", R"({"b":""})"}, {R"({"a":1})", R"({})", R"({"b":"x","a":1})", R"({"b":"x","c":1})"}},
      {R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"integer"},"c":{"type":"integer"}}})",
       {"{}", R"({"a":1})", R"({"b":1})", R"({"c":1})", R"({"a":1,"c":2})", R"({"a":1,"b":2,"c":3})"}, {R"({,"b":1})", R"({"a":1,})"}},
      {R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":{"type":"boolean"}})",
       {R"({"id":1})", R"({"id":1,"x":true,"y_2":false})"}, {R"({"id":1,"id":true})", R"({"id":1,"x":1})"}},
      {R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3})", {"[1]", "[1,2,3]"}, {"[]", "[1,2,3,4]", "[1,]"}},
      {R"({"type":"array","prefixItems":[{"type":"string"},{"type":"integer"}],"items":false})",
       {R"([])", R"(["a"])", R"(["a",1])"}, {R"(["a",1,2])", R"([1])"}},
      {R"({"type":"array","prefixItems":[{"const":1}],"minItems":2})", {"[1,\"x\"]", "[1,2,3]"}, {"[1]", "[2,2]"}},
      {R"({"anyOf":[{"type":"string"},{"type":"integer"}]})", {R"("s")", "3"}, {"true"}},
      {R"({"oneOf":[{"type":"object","properties":{"k":{"const":"a"},"x":{"type":"integer"}},"required":["k","x"]},
                    {"type":"object","properties":{"k":{"const":"b"},"y":{"type":"string"}},"required":["k","y"]}]})",
       {R"({"k":"a","x":1})", R"({"k":"b","y":"z"})"}, {R"({"k":"a","y":"z"})"}},
      {R"({"allOf":[{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]},
                    {"properties":{"b":{"type":"boolean"}},"required":["b"]}]})",
       {R"({"a":1,"b":true})"}, {R"({"a":1})", R"({"b":true})"}},
      {R"({"$defs":{"p":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}},"$ref":"#/$defs/p"})",
       {R"({"n":5})"}, {R"({})"}},
      {R"({"type":"string","nullable":true})", {"null", R"("a")"}, {"1"}},
  };
  for (const auto& c : cases) {
    ByteDfa dfa = schema_dfa(c.schema);
    for (const auto& s : c.accepted) EXPECT_TRUE(dfa.matches(s)) << c.schema << " should accept " << s;
    for (const auto& s : c.rejected) EXPECT_FALSE(dfa.matches(s)) << c.schema << " should reject " << s;
  }
}

// A recursive schema expands to max_recursion_depth nested levels, no further.
TEST(JsonSchemaCompiler, RecursionIsExpandedToTheConfiguredDepth) {
  const std::string tree = R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
      "kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"]}},"$ref":"#/$defs/node"})";
  JsonSchemaOptions options;
  options.max_recursion_depth = 2;
  ByteDfa dfa = schema_dfa(tree, options);
  EXPECT_TRUE(dfa.matches(R"({"v":1})"));
  EXPECT_TRUE(dfa.matches(R"({"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4}]})"));
  EXPECT_FALSE(dfa.matches(R"({"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[{"v":4,"kids":[]}]}]}]})"));
}

TEST(JsonSchemaCompiler, AnyWhitespaceAllowsSpacesBetweenTokens) {
  const std::string schema = R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}}},"required":["a"]})";
  EXPECT_FALSE(schema_dfa(schema).matches("{ \"a\": [1, 2] }"));
  JsonSchemaOptions options;
  options.any_whitespace = true;
  EXPECT_TRUE(schema_dfa(schema, options).matches("{ \"a\": [1, 2] }"));
  EXPECT_TRUE(schema_dfa(schema, options).matches("{\"a\":[1,2]}"));
}

TEST(JsonSchemaCompiler, AnyJsonObject) {
  ByteNfa nfa;
  NfaFragment f = compile_any_json_object(nfa);
  ByteDfa dfa(nfa, f);
  EXPECT_TRUE(dfa.matches(R"({})"));
  EXPECT_TRUE(dfa.matches(R"({"a":[1,{"b":null}],"c":"d"})"));
  EXPECT_FALSE(dfa.matches(R"([1])"));
  EXPECT_FALSE(dfa.matches(R"({"a":1,})"));
}

// Unsupported keywords and malformed schemas are errors that name the keyword and where it is.
TEST(JsonSchemaCompiler, ErrorsNameTheProblem) {
  const std::vector<std::tuple<std::string, ErrorKind, std::string>> cases = {
      {R"({"type":"array","uniqueItems":true})", ErrorKind::kUnsupported, "#: the JSON Schema keyword 'uniqueItems' is not supported"},
      {R"({"type":"object","properties":{"a":{"type":"integer","multipleOf":2}}})", ErrorKind::kUnsupported,
       "#/properties/a: the JSON Schema keyword 'multipleOf' is not supported"},
      {R"({"type":"strin"})", ErrorKind::kInvalidArgument, "#: 'type' \"strin\" is not a JSON Schema type"},
      {R"({"$ref":"#/$defs/missing"})", ErrorKind::kInvalidArgument, "#: $ref '#/$defs/missing' does not resolve"},
      {R"({"$ref":"http://x/y.json"})", ErrorKind::kUnsupported, "points outside the schema"},
      {R"({"type":"string","format":"hostname"})", ErrorKind::kUnsupported, "the string format 'hostname' is not supported"},
      {R"({"oneOf":[{"type":"string"},{"type":"string","maxLength":2}]})", ErrorKind::kUnsupported, "'oneOf' branches 0 and 1 may both match"},
      {R"({"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false})", ErrorKind::kInvalidArgument,
       "required property 'b' is forbidden"},
  };
  for (const auto& [schema, kind, message] : cases) {
    try {
      schema_dfa(schema);
      ADD_FAILURE() << schema << " compiled";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), kind) << schema;
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

// Completeness for a small schema: every JSON text up to a length that the schema's compiled language should
// contain is accepted, and the accepted set is exactly the enumerated instances.
TEST(JsonSchemaCompiler, SmallSchemaLanguageIsExactlyItsInstances) {
  ByteDfa dfa = schema_dfa(R"({"type":"object","properties":{"a":{"type":"boolean"},"b":{"enum":[0,1]}},"required":["b"]})");
  std::set<std::string> expected;
  for (const std::string b : {"0", "1"}) {
    expected.insert("{\"b\":" + b + "}");
    for (const std::string a : {"true", "false"}) expected.insert("{\"a\":" + a + ",\"b\":" + b + "}");
  }
  // Walk the DFA over every byte, collecting accepted strings up to 20 bytes.
  std::set<std::string> accepted;
  std::vector<std::pair<std::string, int>> frontier{{"", dfa.start()}};
  while (!frontier.empty()) {
    auto [text, state] = frontier.back();
    frontier.pop_back();
    if (dfa.is_accepting(state)) accepted.insert(text);
    if (text.size() >= 20) continue;
    for (int b = 0; b < 256; ++b) {
      const int next = dfa.next(state, uint8_t(b));
      if (next != ByteDfa::kDead) frontier.emplace_back(text + char(b), next);
    }
  }
  EXPECT_EQ(accepted, expected);
}

}  // namespace
}  // namespace pagedllm
