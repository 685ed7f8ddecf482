// Every tokenizer in shared/tokenizers/ against expected.jsonl, which Hugging Face tokenizers (npm 0.23.2) produced
// from strings.jsonl: ids with and without special tokens, token strings, and the three decodes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "tokenizer/tokenizer.h"

namespace pagedllm {
namespace {

const std::string kTokenizersDir = std::string(PAGEDLLM_SOURCE_DIR) + "/tests/fixtures/tokenizers";

std::vector<std::string> tokenizer_names() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kTokenizersDir)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "expected.jsonl")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ExpectedJsonlTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ExpectedJsonlTest, EveryLineMatchesHuggingFace) {
  const std::string dir = kTokenizersDir + "/" + GetParam();
  const auto tokenizer = Tokenizer::from_path(dir);
  std::ifstream in(dir + "/expected.jsonl");
  std::string line;
  int num_lines = 0;
  while (std::getline(in, line)) {
    const auto e = nlohmann::json::parse(line);
    const std::string text = e["text"];
    const std::string id = e["id"];
    ++num_lines;
    const auto with_special = tokenizer->encode(text, true);
    const auto plain = tokenizer->encode_with_tokens(text, false);
    EXPECT_EQ(with_special, e["ids_add_special"].get<std::vector<int32_t>>()) << id << " " << text;
    EXPECT_EQ(plain.ids, e["ids_no_special"].get<std::vector<int32_t>>()) << id << " " << text;
    EXPECT_EQ(plain.tokens, e["tokens_no_special"].get<std::vector<std::string>>()) << id << " " << text;
    const auto expected_no_special = e["ids_no_special"].get<std::vector<int32_t>>();
    const auto expected_add_special = e["ids_add_special"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer->decode(expected_no_special, false), e["decode_ids_no_special"].get<std::string>()) << id;
    EXPECT_EQ(tokenizer->decode(expected_add_special, false), e["decode_ids_add_special"].get<std::string>()) << id;
    EXPECT_EQ(tokenizer->decode(expected_add_special, true),
              e["decode_ids_add_special_skip_special"].get<std::string>())
        << id;
  }
  EXPECT_EQ(num_lines, 175);
}

INSTANTIATE_TEST_SUITE_P(SharedTokenizers, ExpectedJsonlTest, ::testing::ValuesIn(tokenizer_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace pagedllm
