#include "tokenizer/normalizer.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

namespace {

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string normalize(std::string_view text) const override {
    std::string s(text);
    for (const auto& step : steps_) s = step->normalize(s);
    return s;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalizationForm form) : form_(form) {}
  std::string normalize(std::string_view text) const override { return unicode_normalize(text, form_); }

 private:
  NormalizationForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override { return unicode_lowercase(text); }
};

// Prepend/Append leave an empty string empty.
class AffixNormalizer : public Normalizer {
 public:
  AffixNormalizer(std::string affix, bool is_prefix) : affix_(std::move(affix)), is_prefix_(is_prefix) {}
  std::string normalize(std::string_view text) const override {
    if (text.empty()) return {};
    return is_prefix_ ? affix_ + std::string(text) : std::string(text) + affix_;
  }

 private:
  std::string affix_;
  bool is_prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  explicit ReplaceNormalizer(const nlohmann::json& config) {
    const auto& pattern = required_field(config, "pattern", "Replace normalizer");
    content_ = string_field(config, "content", "Replace normalizer");
    if (pattern.contains("String")) {
      literal_ = string_field(pattern, "String", "Replace pattern");
    } else if (pattern.contains("Regex")) {
      regex_ = std::make_unique<Regex>(string_field(pattern, "Regex", "Replace pattern"));
    } else {
      throw_error(ErrorKind::kCorrupt, "Replace pattern must have \"String\" or \"Regex\"");
    }
  }
  std::string normalize(std::string_view text) const override {
    const auto spans = regex_ ? find_regex_spans(*regex_, text) : find_literal_spans(literal_, text);
    std::string out;
    out.reserve(text.size());
    for (const auto& s : spans) {
      if (s.is_match) {
        out.append(content_);
      } else {
        out.append(text.substr(s.begin, s.end - s.begin));
      }
    }
    return out;
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string_view text) const override {
    size_t begin = 0;
    size_t end = text.size();
    if (left_) {
      while (begin < end) {
        size_t pos = begin;
        if (!is_whitespace(next_code_point(text, pos))) break;
        begin = pos;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        size_t pos = start;
        if (!is_whitespace(next_code_point(text, pos))) break;
        end = start;
      }
    }
    return std::string(text.substr(begin, end - begin));
  }

 private:
  bool left_;
  bool right_;
};

class StripAccentsNormalizer : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override {
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
      const char32_t c = next_code_point(text, pos);
      if (!is_combining_mark(c)) append_utf8(out, c);
    }
    return out;
  }
};

class ByteLevelNormalizer : public Normalizer {
 public:
  std::string normalize(std::string_view text) const override { return bytes_to_byte_level(text); }
};

bool is_bert_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

class BertNormalizer : public Normalizer {
 public:
  explicit BertNormalizer(const nlohmann::json& config) {
    clean_text_ = bool_field(config, "clean_text", true);
    handle_chinese_chars_ = bool_field(config, "handle_chinese_chars", true);
    lowercase_ = bool_field(config, "lowercase", true);
    strip_accents_ = bool_field(config, "strip_accents", lowercase_);
  }
  std::string normalize(std::string_view text) const override {
    std::string s;
    size_t pos = 0;
    while (pos < text.size()) {
      const char32_t c = next_code_point(text, pos);
      if (clean_text_) {
        if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
        if (c == '\t' || c == '\n' || c == '\r' || is_whitespace(c)) {
          s.push_back(' ');
          continue;
        }
      }
      if (handle_chinese_chars_ && is_bert_chinese_char(c)) {
        s.push_back(' ');
        append_utf8(s, c);
        s.push_back(' ');
        continue;
      }
      append_utf8(s, c);
    }
    if (strip_accents_) s = strip_nonspacing_marks(unicode_normalize(s, NormalizationForm::kNfd));
    if (lowercase_) s = unicode_lowercase(s);
    return s;
  }

 private:
  static bool is_bert_control(char32_t c);
  static std::string strip_nonspacing_marks(std::string_view text);
  bool clean_text_ = true;
  bool handle_chinese_chars_ = true;
  bool strip_accents_ = true;
  bool lowercase_ = true;
};

std::unique_ptr<Normalizer> parse_sequence(const nlohmann::json& config) {
  std::vector<std::unique_ptr<Normalizer>> steps;
  const auto& list = required_field(config, "normalizers", "Sequence normalizer");
  if (!list.is_array()) throw_error(ErrorKind::kCorrupt, "Sequence normalizer: \"normalizers\" must be an array");
  for (const auto& item : list) steps.push_back(parse_normalizer(item));
  return std::make_unique<SequenceNormalizer>(std::move(steps));
}

}  // namespace

std::unique_ptr<Normalizer> parse_normalizer(const nlohmann::json& config) {
  const std::string type = type_field(config, "normalizer");
  if (type == "Sequence") return parse_sequence(config);
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Prepend") return std::make_unique<AffixNormalizer>(string_field(config, "prepend", "Prepend"), true);
  if (type == "Append") return std::make_unique<AffixNormalizer>(string_field(config, "append", "Append"), false);
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(config);
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(bool_field(config, "strip_left", true),
                                             bool_field(config, "strip_right", true));
  }
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "BertNormalizer") return std::make_unique<BertNormalizer>(config);
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  throw_error(ErrorKind::kUnsupported, "normalizer type {:?} is not supported", type);
}

bool BertNormalizer::is_bert_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return is_other_category(c);
}

std::string BertNormalizer::strip_nonspacing_marks(std::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const char32_t c = next_code_point(text, pos);
    if (!is_nonspacing_mark(c)) append_utf8(out, c);
  }
  return out;
}

}  // namespace pagedllm
