// Pipeline pieces against values Hugging Face tokenizers (npm 0.23.2) gives for the same component and input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {
namespace {

std::vector<std::string> pieces_of(const std::string& config, const std::string& text) {
  const auto p = parse_pre_tokenizer(nlohmann::json::parse(config));
  std::vector<PreToken> pieces = {{text, true}};
  p->pre_tokenize(pieces);
  std::vector<std::string> out;
  for (const auto& piece : pieces) out.push_back(piece.text);
  return out;
}

std::string normalized(const std::string& config, const std::string& text) {
  return parse_normalizer(nlohmann::json::parse(config))->normalize(text);
}

std::string decoded(const std::string& config, std::vector<std::string> tokens) {
  const auto d = parse_decoder(nlohmann::json::parse(config));
  return decode_tokens(d.get(), std::move(tokens));
}

std::vector<std::string> split_dashes(SplitBehavior behavior) {
  const std::string text = "the-final--countdown";
  std::vector<std::string> out;
  for (const auto& [b, e] : apply_split_behavior(find_literal_spans("-", text), behavior)) {
    if (b != e) out.push_back(text.substr(b, e - b));
  }
  return out;
}

TEST(SplitTest, EveryBehaviorOnDashes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_dashes(SplitBehavior::kRemoved), (V{"the", "final", "countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kIsolated), (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kMergedWithPrevious), (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kMergedWithNext), (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_dashes(SplitBehavior::kContiguous), (V{"the", "-", "final", "--", "countdown"}));
}

TEST(SplitTest, InvertKeepsMatches) {
  EXPECT_EQ(pieces_of(R"({"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Removed", "invert": true})",
                      "ab12cd345"),
            (std::vector<std::string>{"12", "345"}));
}

TEST(RegexTest, WhitespaceClassIsUnicodeWhiteSpace) {
  const Regex re(R"(\s+)");
  std::vector<ByteRange> m;
  re.find_all("a\u00A0\u3000b\u180Ec", m);  // U+180E is not White_Space
  EXPECT_EQ(m, (std::vector<ByteRange>{{1, 6}}));
  EXPECT_EQ(translate_onig_pattern(R"([^\s\d])"),
            "[^\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}"
            "\\x{3000}\\d]");
}

TEST(RegexTest, CategoriesIncludeCharactersAddedInUnicode16) {
  // U+13460 (Egyptian hieroglyph, Unicode 16) is a letter to Hugging Face's Oniguruma; PCRE2 10.42 predates it.
  const Regex re(R"(\p{L}+|[^\s\p{L}]+)");
  std::vector<ByteRange> m;
  re.find_all("a\U00013460b", m);
  EXPECT_EQ(m, (std::vector<ByteRange>{{0, 6}}));
  EXPECT_EQ(translate_onig_pattern(R"(\p{Lu})"),
            "[\\p{Lu}\\x{1C89}\\x{A7CB}-\\x{A7CC}\\x{A7DA}\\x{A7DC}\\x{10D50}-\\x{10D65}]");
}

TEST(RegexTest, EmptyMatchesAdvanceOneCharacter) {
  const Regex re("x*");
  std::vector<ByteRange> m;
  re.find_all("aéxx", m);
  EXPECT_EQ(m, (std::vector<ByteRange>{{0, 0}, {1, 1}, {3, 5}}));
}

TEST(RegexTest, BadPatternThrows) {
  EXPECT_THROW({ const Regex re("(unclosed"); }, Error);
}

TEST(PreTokenizerTest, ByteLevelSplitsLikeGpt2) {
  EXPECT_EQ(pieces_of(R"({"type": "ByteLevel", "add_prefix_space": false})", "Hello world's  2024!"),
            (std::vector<std::string>{"Hello", "Ġworld", "'s", "Ġ", "Ġ2024", "!"}));
  EXPECT_EQ(pieces_of(R"({"type": "ByteLevel", "add_prefix_space": true, "use_regex": false})", "a\nb"),
            (std::vector<std::string>{"ĠaĊb"}));
}

TEST(PreTokenizerTest, MetaspacePrependsOnlyAtTheStartForFirst) {
  const std::string first = R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true})";
  EXPECT_EQ(pieces_of(first, "Hey friend  there"),
            (std::vector<std::string>{"▁Hey", "▁friend", "▁", "▁there"}));
  const auto p = parse_pre_tokenizer(nlohmann::json::parse(first));
  std::vector<PreToken> not_at_start = {{"Hey", false}};
  p->pre_tokenize(not_at_start);
  EXPECT_EQ(not_at_start[0].text, "Hey");
  EXPECT_EQ(pieces_of(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": false})",
                      "a b"),
            (std::vector<std::string>{"a▁b"}));
}

TEST(PreTokenizerTest, WhitespaceDigitsPunctuation) {
  EXPECT_EQ(pieces_of(R"({"type": "Whitespace"})", "Hey, friend!! ça va_1? "),
            (std::vector<std::string>{"Hey", ",", "friend", "!!", "ça", "va_1", "?"}));
  EXPECT_EQ(pieces_of(R"({"type": "Digits", "individual_digits": false})", "ab123c4"),
            (std::vector<std::string>{"ab", "123", "c", "4"}));
  EXPECT_EQ(pieces_of(R"({"type": "Digits", "individual_digits": true})", "a12"),
            (std::vector<std::string>{"a", "1", "2"}));
  EXPECT_EQ(pieces_of(R"({"type": "Punctuation"})", "hi!!, there"),
            (std::vector<std::string>{"hi", "!", "!", ",", " there"}));
  EXPECT_EQ(pieces_of(R"({"type": "WhitespaceSplit"})", " a\u3000b  c "), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(NormalizerTest, UnicodeFormsLowercaseStrip) {
  EXPECT_EQ(normalized(R"({"type": "NFKC"})", "ﬁ①ｶ"), "fi1カ");
  EXPECT_EQ(normalized(R"({"type": "NFD"})", "é"), "e\u0301");
  EXPECT_EQ(normalized(R"({"type": "NFC"})", "e\u0301"), "é");
  EXPECT_EQ(normalized(R"({"type": "Lowercase"})", "İΣAB"), "i̇σab");
  EXPECT_EQ(normalized(R"({"type": "Strip", "strip_left": true, "strip_right": true})", "\u3000 hi \n"), "hi");
  EXPECT_EQ(normalized(R"({"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                          {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})",
                       "a b"),
            "▁a▁b");
  EXPECT_EQ(normalized(R"({"type": "Prepend", "prepend": "▁"})", ""), "");
}

TEST(DecoderTest, MetaspaceDropsEveryReplacementOfTheFirstToken) {
  EXPECT_EQ(decoded(R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"})",
                    {"▁Hey▁you", "▁▁friend"}),
            "Heyyou  friend");
}

TEST(DecoderTest, ByteFallbackFuseStrip) {
  const std::string llama = R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})";
  EXPECT_EQ(decoded(llama, {"▁Hi", "<0xE4>", "<0xBD>", "<0xA0>", "▁", "<0xFF>", "<0x41>"}), "Hi你 \uFFFD\uFFFD");
}

TEST(Utf8Test, LossyReplacesMaximalSubparts) {
  EXPECT_EQ(utf8_lossy("a\xF0\x9F\x98" "b"), "a\uFFFDb");
  EXPECT_EQ(utf8_lossy("\xC0\x80"), "\uFFFD\uFFFD");
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");  // a surrogate
}

}  // namespace
}  // namespace pagedllm
