#include "engine/stop_strings.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

TEST(StopStrings, FindsMatchSpanningOldAndNewText) {
  std::string text = "Hello wor";
  text += "ld!";
  auto m = find_stop_string(text, 3, {"world"}, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stop, "world");
  EXPECT_EQ(text.substr(0, m->truncate_to), "Hello ");
  m = find_stop_string(text, 3, {"world"}, true);
  EXPECT_EQ(text.substr(0, m->truncate_to), "Hello world");
}

TEST(StopStrings, IgnoresMatchesEntirelyInOldText) {
  EXPECT_FALSE(find_stop_string("world and more", 4, {"world"}, false));
}

TEST(StopStrings, FirstStopInListOrderWins) {
  auto m = find_stop_string("a b c", 5, {"c", "a"}, false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->stop, "c");
  EXPECT_EQ(m->truncate_to, 4u);
}

TEST(StopStrings, HoldbackIsLongestStopMinusOne) {
  EXPECT_EQ(stop_holdback_bytes({"ab", "wxyz"}, false), 3u);
  EXPECT_EQ(stop_holdback_bytes({"ab"}, true), 0u);
  EXPECT_EQ(stop_holdback_bytes({}, false), 0u);
}

TEST(StopStrings, Utf8SafePrefixNeverSplitsACharacter) {
  const std::string text = "a\xC3\xA9" "b\xF0\x9F\x98\x80";  // a é b 😀
  EXPECT_EQ(utf8_safe_prefix(text, 2), 1u);   // inside é
  EXPECT_EQ(utf8_safe_prefix(text, 3), 3u);
  EXPECT_EQ(utf8_safe_prefix(text, 6), 4u);   // inside the emoji
  EXPECT_EQ(utf8_safe_prefix(text, 8), 8u);
  EXPECT_EQ(utf8_safe_prefix(text, 100), 8u);
}

}  // namespace
}  // namespace pagedllm
