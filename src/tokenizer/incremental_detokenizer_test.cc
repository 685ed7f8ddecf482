#include "tokenizer/incremental_detokenizer.h"

#include <gtest/gtest.h>

#include "tokenizer/utf8.h"

namespace pagedllm {
namespace {

const std::string kTokenizers = std::string(PAGEDLLM_SOURCE_DIR) + "/tests/fixtures/tokenizers/";

const std::vector<std::string> kTexts = {
    "Hello world",
    "  leading spaces and trailing  ",
    "🦙 llamas 👨‍👩‍👧‍👦 family 🇫🇷 flag",
    "日本語のテキスト、中文文本，한국어 텍스트",
    "Ünïcödé ẞ ǅ ﬁ 𝔘𝔫𝔦",
    "<s>special</s> tokens <|endoftext|> inside",
    "line one\nline two\r\n\ttabbed",
};

// Feeds `ids` one by one; checks that no delta splits a character and returns the concatenated text.
std::string stream(const Tokenizer& t, std::span<const int32_t> prompt, std::span<const int32_t> ids, bool skip) {
  IncrementalDetokenizer detok(t, prompt, skip);
  std::string text;
  for (const int32_t id : ids) {
    const std::string delta = detok.add(id);
    EXPECT_TRUE(is_valid_utf8(delta)) << "delta splits a character after id " << id;
    EXPECT_FALSE(delta.ends_with(kReplacementChar)) << "delta ends in U+FFFD after id " << id;
    text += delta;
  }
  text += detok.flush();
  return text;
}

class IncrementalDetokenizerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(IncrementalDetokenizerTest, DeltasConcatenateToDecode) {
  const auto t = Tokenizer::from_path(kTokenizers + GetParam());
  for (const auto& text : kTexts) {
    for (const bool add_special : {false, true}) {
      const auto ids = t->encode(text, add_special);
      for (const bool skip : {false, true}) {
        EXPECT_EQ(stream(*t, {}, ids, skip), t->decode(ids, skip)) << text << " skip=" << skip;
      }
    }
  }
}

TEST_P(IncrementalDetokenizerTest, PromptContextKeepsLeadingSpaceOfFirstNewToken) {
  const auto t = Tokenizer::from_path(kTokenizers + GetParam());
  for (const auto& text : kTexts) {
    const auto ids = t->encode(text, true);
    for (size_t split = 1; split < ids.size(); ++split) {
      const std::span<const int32_t> all(ids);
      const std::string prompt_text = t->decode(all.first(split), false);
      const std::string full_text = t->decode(ids, false);
      // Only where the prompt's text is a prefix of the whole text is "the text the new ids add" defined.
      if (!full_text.starts_with(prompt_text) || prompt_text.ends_with(kReplacementChar)) continue;
      EXPECT_EQ(stream(*t, all.first(split), all.subspan(split), false), full_text.substr(prompt_text.size()))
          << text << " split=" << split;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, IncrementalDetokenizerTest,
                         ::testing::Values("llama2", "gpt2", "phi3-mini", "deepseek-coder", "stories260K"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(IncrementalDetokenizerBytes, HoldsByteFallbackBytesUntilTheCharacterCompletes) {
  const auto t = Tokenizer::from_path(kTokenizers + "llama2");
  IncrementalDetokenizer detok(*t, {}, false);
  EXPECT_EQ(detok.add(15043), "Hello");  // "▁Hello": the leading space of the first token is stripped
  EXPECT_EQ(detok.add(29871), " ");      // "▁"
  EXPECT_EQ(detok.add(243), "");         // <0xF0>
  EXPECT_EQ(detok.add(162), "");         // <0x9F>
  EXPECT_EQ(detok.add(169), "");         // <0xA6>
  EXPECT_EQ(detok.add(156), "🦙");       // <0x99> completes U+1F999
  EXPECT_EQ(detok.flush(), "");
}

TEST(IncrementalDetokenizerBytes, ByteLevelHoldsPartialUtf8AndFlushesItAsReplacement) {
  const auto t = Tokenizer::from_path(kTokenizers + "gpt2");
  IncrementalDetokenizer detok(*t, {}, false);
  EXPECT_EQ(detok.add(15496), "Hello");
  EXPECT_EQ(detok.add(12520), "");  // " \xF0\x9F": an unfinished 4-byte sequence
  EXPECT_EQ(detok.flush(), " \uFFFD");
}

TEST(IncrementalDetokenizerBytes, SkippedSpecialPromptStillGivesContext) {
  const auto t = Tokenizer::from_path(kTokenizers + "stories260K");
  const std::vector<int32_t> prompt = {1, 403};  // <s> ▁Once
  IncrementalDetokenizer detok(*t, prompt, true);
  EXPECT_EQ(detok.add(407), " upon");
  IncrementalDetokenizer bos_only(*t, std::vector<int32_t>{1}, true);
  EXPECT_EQ(bos_only.add(403), "Once");  // the start of the text: the leading space is stripped as decode does
}

}  // namespace
}  // namespace pagedllm
