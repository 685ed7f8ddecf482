#include "cli/tokenize_command.h"

#include <gtest/gtest.h>

#include <sstream>

namespace pagedllm {
namespace {

const std::string kStories = std::string(PAGEDLLM_SOURCE_DIR) + "/tests/fixtures/tokenizers/stories260K";

TEST(TokenizeCommandTest, WritesIdsAndTokensPerLine) {
  std::istringstream in("{\"text\": \"Once upon a time\"}\n{\"text\": \"\"}\n");
  std::ostringstream out;
  EXPECT_EQ(run_tokenize_command(kStories, true, in, out), 0);
  EXPECT_EQ(out.str(),
            "{\"ids\":[1,403,407,261,378],\"tokens\":[\"<s>\",\"▁Once\",\"▁upon\",\"▁a\",\"▁time\"]}\n"
            "{\"ids\":[1],\"tokens\":[\"<s>\"]}\n");
}

TEST(TokenizeCommandTest, NoSpecialTokensAndBadLines) {
  std::istringstream in("{\"text\": \"Once\"}\nnot json\n{\"ids\": []}\n");
  std::ostringstream out;
  EXPECT_EQ(run_tokenize_command(kStories, false, in, out), 1);
  std::istringstream lines(out.str());
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "{\"ids\":[403],\"tokens\":[\"▁Once\"]}");
  std::getline(lines, line);
  EXPECT_TRUE(line.starts_with("{\"error\":"));
  std::getline(lines, line);
  EXPECT_TRUE(line.starts_with("{\"error\":"));
}

TEST(TokenizeCommandTest, DetokenizesWithAndWithoutSpecialTokens) {
  std::istringstream in("{\"ids\": [1, 403, 407]}\n");
  std::ostringstream out;
  EXPECT_EQ(run_detokenize_command(kStories, false, in, out), 0);
  EXPECT_EQ(out.str(), "{\"text\":\"<s> Once upon\"}\n");
  std::istringstream in2("{\"ids\": [1, 403, 407]}\n");
  std::ostringstream out2;
  EXPECT_EQ(run_detokenize_command(kStories, true, in2, out2), 0);
  EXPECT_EQ(out2.str(), "{\"text\":\"Once upon\"}\n");
}

}  // namespace
}  // namespace pagedllm
