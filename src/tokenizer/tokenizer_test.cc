#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "util/error.h"
#include "util/thread_pool.h"

namespace pagedllm {
namespace {

const std::string kTokenizers = std::string(PAGEDLLM_SOURCE_DIR) + "/tests/fixtures/tokenizers/";

std::unique_ptr<Tokenizer> load(const std::string& name) { return Tokenizer::from_path(kTokenizers + name); }

ErrorKind load_error_kind(std::string_view json) {
  try {
    Tokenizer::from_json_string(json, "test.json");
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error for " << json;
  return ErrorKind::kIo;
}

TEST(TokenizerTest, Stories260kEncodesOnceUponATime) {
  const auto t = load("stories260K");
  EXPECT_EQ(t->encode("Once upon a time"), (std::vector<int32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(t->encode("Once upon a time", false), (std::vector<int32_t>{403, 407, 261, 378}));
  EXPECT_EQ(t->decode(std::vector<int32_t>{403, 407, 261, 378}), "Once upon a time");
}

TEST(TokenizerTest, ByteFallbackSplitsUnknownCharacterIntoBytes) {
  const auto t = load("llama2");
  EXPECT_EQ(t->encode("🦙 你好 Hi"),
            (std::vector<int32_t>{1, 29871, 243, 162, 169, 156, 29871, 30919, 31076, 6324}));
  EXPECT_EQ(t->decode(std::vector<int32_t>{29871, 243, 162, 169, 156}), "🦙");
  // An incomplete byte run decodes to one U+FFFD per byte.
  EXPECT_EQ(t->decode(std::vector<int32_t>{243, 162}), "\uFFFD\uFFFD");
}

TEST(TokenizerTest, ByteLevelEncodesAndDecodes) {
  const auto t = load("gpt2");
  const std::vector<int32_t> ids = {15496, 995, 12520, 99, 247, 220, 19526, 254, 25001, 121};
  EXPECT_EQ(t->encode("Hello world 🦙 你好"), ids);
  EXPECT_EQ(t->decode(ids), "Hello world 🦙 你好");
  EXPECT_EQ(t->decode(std::vector<int32_t>{171}), "\uFFFD");  // a lone lead byte
}

TEST(TokenizerTest, InvalidUtf8InputReadsAsReplacementCharacter) {
  const auto t = load("gpt2");
  EXPECT_EQ(t->encode("\xFF abc"), (std::vector<int32_t>{4210, 450, 66}));
  EXPECT_EQ(t->encode("\uFFFD abc"), (std::vector<int32_t>{4210, 450, 66}));
  EXPECT_EQ(t->encode(std::string("\xE4\xBD", 2)), t->encode("\uFFFD"));
}

TEST(TokenizerTest, NormalizedSpecialTokenMatchesOnlyAfterNormalization) {
  const auto t = load("llama2");
  const auto e = t->encode_with_tokens("<s>Hello</s>", false);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{1, 10994, 829, 29879, 29958}));
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"▁<s>", "Hello", "</", "s", ">"}));
  // HF decodes a normalized added token by its normalized content, and then does not recognise it as special.
  EXPECT_EQ(t->id_to_token(1), "▁<s>");
  EXPECT_EQ(t->decode(std::vector<int32_t>{1, 15043, 2}, true), "<s> Hello </s>");
}

TEST(TokenizerTest, SkipSpecialTokensDropsSpecialTokens) {
  const auto t = load("phi3-mini");
  EXPECT_EQ(t->decode(std::vector<int32_t>{1, 15043, 2}, true), "Hello</s>");  // "</s>" is not special here
  EXPECT_TRUE(t->is_special(1));
  EXPECT_FALSE(t->is_special(2));
  EXPECT_FALSE(t->is_special(15043));
}

TEST(TokenizerTest, ConcurrentEncodesMatchSerialEncodes) {
  const auto t = load("gpt2");
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) {
    texts.push_back("text " + std::to_string(i * 7919) + " shares words, 🦙 " + std::to_string(i));
  }
  std::vector<std::vector<int32_t>> serial;
  for (const auto& text : texts) serial.push_back(t->encode(text));
  const auto fresh = load("gpt2");  // an empty word cache, filled by all threads at once
  std::vector<std::vector<int32_t>> parallel(texts.size());
  set_num_threads(4);
  parallel_for(static_cast<int64_t>(texts.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) parallel[i] = fresh->encode(texts[i]);
  });
  EXPECT_EQ(parallel, serial);
}

TEST(TokenizerTest, VocabularyLookups) {
  const auto t = load("gpt2");
  EXPECT_EQ(t->vocab_size(), 50257);
  EXPECT_EQ(t->token_to_id("Hello"), 15496);
  EXPECT_EQ(t->token_to_id("<|endoftext|>"), 50256);
  EXPECT_EQ(t->token_to_id("no such token"), std::nullopt);
  EXPECT_EQ(t->id_to_token(995), "Ġworld");
  EXPECT_EQ(t->id_to_token(999999), "");
  EXPECT_EQ(t->decode(std::vector<int32_t>{15496, -1, 999999}), "Hello");
}

TEST(TokenizerTest, ReadsBosEosAndChatTemplateFromConfig) {
  const auto llama = load("llama2");
  EXPECT_EQ(llama->bos_token(), "<s>");
  EXPECT_EQ(llama->eos_token(), "</s>");
  EXPECT_EQ(llama->bos_token_id(), 1);
  EXPECT_EQ(llama->eos_token_id(), 2);
  EXPECT_EQ(llama->chat_template(), std::nullopt);
  const auto phi = load("phi3-mini");
  EXPECT_EQ(phi->eos_token(), "<|endoftext|>");
  EXPECT_EQ(phi->eos_token_id(), 32000);
  ASSERT_TRUE(phi->chat_template().has_value());
  EXPECT_TRUE(phi->chat_template()->starts_with("{% for message in messages %}"));
  const auto falcon = load("falcon");  // no tokenizer_config.json
  EXPECT_EQ(falcon->bos_token(), "");
  EXPECT_EQ(falcon->bos_token_id(), std::nullopt);
}

TEST(TokenizerTest, ChatTemplateListTakesDefaultEntry) {
  const auto dir = std::filesystem::temp_directory_path() / "pagedllm_tokenizer_test_config";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kTokenizers + "stories260K/tokenizer.json", dir / "tokenizer.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir / "tokenizer_config.json")
      << R"({"bos_token": {"content": "<s>"}, "chat_template": [{"name": "tool_use", "template": "T"},
            {"name": "default", "template": "D"}]})";
  const auto t = Tokenizer::from_path(dir.string());
  EXPECT_EQ(t->chat_template(), "D");
  EXPECT_EQ(t->bos_token(), "<s>");
  EXPECT_EQ(t->bos_token_id(), 1);
  std::filesystem::remove_all(dir);
}

TEST(TokenizerTest, TokenizerJsonFileLoadsDirectly) {
  const auto t = Tokenizer::from_path(kTokenizers + "stories260K/tokenizer.json");
  EXPECT_EQ(t->encode("Once upon a time"), (std::vector<int32_t>{1, 403, 407, 261, 378}));
}

TEST(TokenizerTest, MissingPathIsNotFound) {
  try {
    Tokenizer::from_path("/nonexistent/tokenizer/folder");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
  try {
    Tokenizer::from_path(PAGEDLLM_SOURCE_DIR "/tests/fixtures");  // a folder without tokenizer files
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
}

constexpr const char* kTinyModel = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";

TEST(TokenizerTest, MalformedTokenizerJsonIsCorrupt) {
  EXPECT_EQ(load_error_kind("{not json"), ErrorKind::kCorrupt);
  EXPECT_EQ(load_error_kind("[]"), ErrorKind::kCorrupt);
  EXPECT_EQ(load_error_kind("{}"), ErrorKind::kCorrupt);
  EXPECT_EQ(load_error_kind(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a c"]}})"),
            ErrorKind::kCorrupt);
  EXPECT_EQ(load_error_kind(R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})"), ErrorKind::kCorrupt);
  EXPECT_EQ(load_error_kind(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}})"), ErrorKind::kCorrupt);
  const std::string bad_regex =
      R"(, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(["}, "behavior": "Isolated"}})";
  EXPECT_EQ(load_error_kind(std::string("{") + kTinyModel + bad_regex), ErrorKind::kCorrupt);
  EXPECT_EQ(load_error_kind(std::string("{") + kTinyModel + R"(, "decoder": {"type": "Strip"}})"), ErrorKind::kCorrupt);
  EXPECT_EQ(load_error_kind(std::string("{") + kTinyModel + R"(, "added_tokens": [{"id": 3}]})"), ErrorKind::kCorrupt);
}

TEST(TokenizerTest, UnknownComponentsAreUnsupported) {
  EXPECT_EQ(load_error_kind(R"({"model": {"type": "WordPiece", "vocab": {}}})"), ErrorKind::kUnsupported);
  EXPECT_EQ(load_error_kind(std::string("{") + kTinyModel + R"(, "normalizer": {"type": "Precompiled"}})"),
            ErrorKind::kUnsupported);
}

TEST(TokenizerTest, ErrorNamesTheSource) {
  try {
    Tokenizer::from_json_string(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a c"]}})", "my.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("my.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("merge 0"), std::string::npos);
  }
}

TEST(TokenizerTest, MinimalTokenizerMergesWithoutOtherComponents) {
  const auto t = Tokenizer::from_json_string(std::string("{") + kTinyModel + "}", "tiny");
  EXPECT_EQ(t->encode("abba"), (std::vector<int32_t>{2, 1, 0}));
  EXPECT_EQ(t->decode(std::vector<int32_t>{2, 1, 0}), "ab b a");  // no decoder: tokens joined by spaces
}

}  // namespace
}  // namespace pagedllm
