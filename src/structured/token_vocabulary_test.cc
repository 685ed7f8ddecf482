#include "structured/token_vocabulary.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/utf8.h"

namespace pagedllm {
namespace {

std::vector<std::string> fixture_strings() {
  std::ifstream in(PAGEDLLM_SOURCE_DIR "/tests/fixtures/tokenizers/strings.jsonl");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  }
  return out;
}

// The bytes of an encoding's tokens, joined, are its decoded text (SentencePiece adds one leading space, which its
// decoder strips).
TEST(TokenVocabulary, TokenBytesJoinToTheEncodedText) {
  const auto strings = fixture_strings();
  ASSERT_GT(strings.size(), 20u);
  for (const std::string name : {"gpt2", "llama2", "smollm", "phi3-mini", "deepseek-coder", "falcon", "gpt-neox-20b",
                                 "starcoder", "stories260K"}) {
    auto tok = Tokenizer::from_path(std::string(PAGEDLLM_SOURCE_DIR "/tests/fixtures/tokenizers/") + name);
    TokenVocabulary vocab(*tok, tok->vocab_size(), {});
    int checked = 0;
    for (const auto& text : strings) {
      std::string joined;
      bool has_special = false;
      const std::vector<int32_t> ids = tok->encode(text, false);
      const std::string decoded = tok->decode(ids, false);
      for (int32_t id : ids) {
        has_special |= tok->is_special(id);
        joined += vocab.token_bytes(id);
      }
      if (has_special) continue;
      // Decoding shows invalid UTF-8 (deepseek-coder's 'ö' token is the lone byte 0xF6) as U+FFFD.
      joined = utf8_lossy(joined);
      if (joined != decoded) {
        EXPECT_EQ(joined, " " + decoded) << name;
      }
      ++checked;
    }
    EXPECT_GT(checked, 20) << name;
  }
}

TEST(TokenVocabulary, ByteFallbackAndSpecialTokens) {
  auto tok = Tokenizer::from_path(PAGEDLLM_SOURCE_DIR "/tests/fixtures/tokenizers/llama2");
  TokenVocabulary vocab(*tok, tok->vocab_size(), {2});
  EXPECT_EQ(vocab.token_bytes(*tok->token_to_id("<0x0A>")), "\n");
  EXPECT_EQ(vocab.token_bytes(*tok->token_to_id("<0xE2>")), "\xE2");
  EXPECT_EQ(vocab.token_bytes(1), "");  // <s>
  EXPECT_EQ(vocab.token_bytes(2), "");  // </s>
  EXPECT_EQ(vocab.token_bytes(*tok->token_to_id("▁the")), " the");
}

TEST(TokenVocabulary, ByteLevelTokensMapBackToBytes) {
  auto tok = Tokenizer::from_path(PAGEDLLM_SOURCE_DIR "/tests/fixtures/tokenizers/smollm");
  TokenVocabulary vocab(*tok, 49152, {});
  EXPECT_EQ(vocab.vocab_size(), 49152);
  EXPECT_EQ(vocab.token_bytes(*tok->token_to_id("Ġthe")), " the");
  EXPECT_EQ(vocab.token_bytes(*tok->token_to_id("Ċ")), "\n");
  EXPECT_EQ(vocab.token_bytes(*tok->token_to_id("<|im_start|>")), "");
}

}  // namespace
}  // namespace pagedllm
