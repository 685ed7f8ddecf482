// tokenizer.json and tokenizer_config.json go through util/json_limits.h before nlohmann builds a tree: a 100 MB
// "[" tokenizer.json peaked at 7.8 GB before `generate` gave up.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/process_memory.h"

namespace pagedllm {
namespace {

std::string error_of_loading(const std::string& folder) {
  try {
    Tokenizer::from_path(folder);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt);
    return e.what();
  }
  return "no error";
}

TEST(TokenizerJsonLimitsTest, DeeplyNestedTokenizerJsonIsRefusedWithoutBuildingIt) {
  const std::string folder = ::testing::TempDir() + "/deep_tokenizer";
  std::filesystem::create_directories(folder);
  std::ofstream(folder + "/tokenizer.json") << std::string(32u << 20, '[');
  const size_t resident_before = resident_bytes();
  EXPECT_EQ(error_of_loading(folder),
            folder + "/tokenizer.json: not acceptable JSON: nesting deeper than 64 levels at byte 64");
  // The file's text (32 MiB) is read; nothing near the gigabytes a tree of 32 Mi nested arrays would take.
  EXPECT_LT(resident_bytes(), resident_before + (96u << 20));
}

TEST(TokenizerJsonLimitsTest, DeeplyNestedTokenizerConfigIsRefused) {
  const std::string folder = ::testing::TempDir() + "/deep_tokenizer_config";
  std::filesystem::create_directories(folder);
  std::filesystem::copy_file(PAGEDLLM_SOURCE_DIR "/models/stories260K/tokenizer.json", folder + "/tokenizer.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(folder + "/tokenizer_config.json") << "{\"a\": " << std::string(100, '[') << std::string(100, ']')
                                                  << "}";
  EXPECT_EQ(error_of_loading(folder),
            folder + "/tokenizer_config.json: not acceptable JSON: nesting deeper than 64 levels at byte 69");
}

}  // namespace
}  // namespace pagedllm
