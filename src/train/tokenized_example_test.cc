#include "train/tokenized_example.h"

#include <gtest/gtest.h>

#include "kernels/cross_entropy.h"

namespace pagedllm {
namespace {

// One id per character (its byte + 10), BOS = 1 when add_special; EOS = 2.
std::vector<int32_t> char_tokenize(const std::string& text, bool add_special) {
  std::vector<int32_t> ids;
  if (add_special) ids.push_back(1);
  for (unsigned char c : text) ids.push_back(c + 10);
  return ids;
}

constexpr int32_t I = kIgnoreTarget;

TEST(TokenizedExampleTest, MasksSourceAndAppendsEos) {
  const auto t = tokenize_example({"ab", "c"}, char_tokenize, {2, false, 100});
  EXPECT_EQ(t.input_ids, (std::vector<int32_t>{1, 'a' + 10, 'b' + 10, 'c' + 10, 2}));
  EXPECT_EQ(t.labels, (std::vector<int32_t>{I, I, I, 'c' + 10, 2}));
}

TEST(TokenizedExampleTest, TrainOnSourceKeepsSourceLabels) {
  const auto t = tokenize_example({"ab", "c"}, char_tokenize, {2, true, 100});
  EXPECT_EQ(t.labels, t.input_ids);
}

TEST(TokenizedExampleTest, PlainTextGetsBosFromTargetAndIsAllLabels) {
  const auto t = tokenize_example({"", "xy"}, char_tokenize, {-1, false, 100});
  EXPECT_EQ(t.input_ids, (std::vector<int32_t>{1, 'x' + 10, 'y' + 10}));
  EXPECT_EQ(t.labels, t.input_ids);
}

TEST(TokenizedExampleTest, TruncatesToMaxSeqLen) {
  const auto t = tokenize_example({"abc", "def"}, char_tokenize, {2, false, 5});
  EXPECT_EQ(t.input_ids, (std::vector<int32_t>{1, 'a' + 10, 'b' + 10, 'c' + 10, 'd' + 10}));
  EXPECT_EQ(t.labels, (std::vector<int32_t>{I, I, I, I, 'd' + 10}));
}

}  // namespace
}  // namespace pagedllm
