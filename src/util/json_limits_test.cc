#include "util/json_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace pagedllm {
namespace {

TEST(JsonLimitsTest, AcceptsNestingUpToTheLimit) {
  std::string text = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(find_json_text_problem(text), std::nullopt);
}

TEST(JsonLimitsTest, RefusesNestingBeyondTheLimitNamingTheByte) {
  std::string text = std::string(65, '[') + std::string(65, ']');
  EXPECT_EQ(find_json_text_problem(text), "nesting deeper than 64 levels at byte 64");
  EXPECT_EQ(find_json_text_problem(R"({"a": {"b": [1]}})", 2), "nesting deeper than 2 levels at byte 12");
}

TEST(JsonLimitsTest, BracketsInsideStringsDoNotCount) {
  std::string text = R"({"prompt": ")" + std::string(1000, '[') + R"(\"[[[", "x": [1]})";
  EXPECT_EQ(find_json_text_problem(text), std::nullopt);
}

TEST(JsonLimitsTest, RefusesNulBytesAnywhere) {
  std::string after_body("{\"prompt\": \"hi\"}\0junk", 21);
  EXPECT_EQ(find_json_text_problem(after_body), "a NUL byte at byte 16");
  std::string in_string("{\"prompt\": \"h\0i\"}", 17);
  EXPECT_EQ(find_json_text_problem(in_string), "a NUL byte at byte 13");
}

TEST(JsonLimitsTest, SixteenMebibytesOfOpenBracketsStopAtTheLimit) {
  std::string text(16u << 20, '[');
  EXPECT_EQ(find_json_text_problem(text), "nesting deeper than 64 levels at byte 64");
}

}  // namespace
}  // namespace pagedllm
