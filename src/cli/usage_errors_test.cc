#include "cli/usage_errors.h"

#include <gtest/gtest.h>

namespace pagedllm {
namespace {

const std::vector<std::string> kFlags = {"--model", "--max-tokens", "--min-tokens", "--temperature", "--top-p",
                                         "--max-num-seqs", "--enable-prefix-caching"};

TEST(NearestName, RewordingThatKeepsEveryWordOfTheRealFlag) {
  EXPECT_EQ(nearest_name("--max-new-tokens", kFlags), "--max-tokens");
  EXPECT_EQ(nearest_name("--enable-automatic-prefix-caching", kFlags), "--enable-prefix-caching");
}

TEST(NearestName, TyposWithinAThirdOfTheName) {
  EXPECT_EQ(nearest_name("--modle", kFlags), "--model");
  EXPECT_EQ(nearest_name("--tempreature", kFlags), "--temperature");
  EXPECT_EQ(nearest_name("--max-num-seq", kFlags), "--max-num-seqs");
  EXPECT_EQ(nearest_name("-top-p", kFlags), "--top-p");
}

TEST(NearestName, ClosestWinsAndTiesGoToTheFirst) {
  EXPECT_EQ(nearest_name("--max-token", kFlags), "--max-tokens");
  EXPECT_EQ(nearest_name("--m-tokens", kFlags), "--max-tokens");  // two edits from --max-tokens and --min-tokens
}

TEST(NearestName, NothingCloseGivesEmpty) {
  EXPECT_EQ(nearest_name("--frobnicate", kFlags), "");
  EXPECT_EQ(nearest_name("--port", kFlags), "");
  EXPECT_EQ(nearest_name("--max", kFlags), "");
}

TEST(NearestName, SubcommandNames) {
  const std::vector<std::string> commands = {"generate", "chat", "serve", "finetune", "merge"};
  EXPECT_EQ(nearest_name("server", commands), "serve");
  EXPECT_EQ(nearest_name("generat", commands), "generate");
  EXPECT_EQ(nearest_name("train", commands), "");
}

}  // namespace
}  // namespace pagedllm
