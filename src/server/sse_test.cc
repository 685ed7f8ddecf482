#include "server/sse.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

TEST(SseTest, EventIsOneDataLineAndABlankLine) {
  EXPECT_EQ(sse_event({{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(kSseDone, "data: [DONE]\n\n");
}

TEST(SseTest, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(sse_event({{"t", std::string("\xe2\x82")}}), "data: {\"t\":\"\xef\xbf\xbd\"}\n\n");
}

TEST(SseTest, ParserJoinsEventsSplitAcrossReads) {
  SseParser parser;
  EXPECT_EQ(parser.feed("data: {\"a\""), std::vector<std::string>{});
  EXPECT_EQ(parser.feed(":1}\n\n: comment\n\ndata: [DO"), std::vector<std::string>{"{\"a\":1}"});
  EXPECT_EQ(parser.feed("NE]\n\n"), std::vector<std::string>{"[DONE]"});
}

}  // namespace
}  // namespace pagedllm
