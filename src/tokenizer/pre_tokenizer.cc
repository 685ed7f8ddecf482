#include "tokenizer/pre_tokenizer.h"

#include <nlohmann/json.hpp>

#include <functional>

#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

namespace {

constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Replaces every piece by the sub-pieces `ranges_of` selects from it; empty sub-pieces are dropped. Only a
// sub-piece starting at byte 0 keeps its parent's origin flag.
void split_each(std::vector<PreToken>& pieces,
                const std::function<std::vector<ByteRange>(const std::string&)>& ranges_of) {
  std::vector<PreToken> out;
  out.reserve(pieces.size() * 2);
  for (auto& piece : pieces) {
    for (const auto& [begin, end] : ranges_of(piece.text)) {
      if (begin == end) continue;
      out.push_back({piece.text.substr(begin, end - begin), piece.is_at_origin && begin == 0});
    }
  }
  pieces = std::move(out);
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern) : nullptr) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    if (add_prefix_space_) {
      for (auto& p : pieces) {
        if (!p.text.starts_with(' ')) p.text.insert(0, 1, ' ');
      }
    }
    if (regex_) {
      split_each(pieces, [&](const std::string& text) {
        return apply_split_behavior(find_regex_spans(*regex_, text), SplitBehavior::kIsolated);
      });
    }
    for (auto& p : pieces) p.text = bytes_to_byte_level(p.text);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  explicit SplitPreTokenizer(const nlohmann::json& config) {
    const auto& pattern = required_field(config, "pattern", "Split pre-tokenizer");
    if (pattern.contains("String")) {
      literal_ = string_field(pattern, "String", "Split pattern");
    } else if (pattern.contains("Regex")) {
      regex_ = std::make_unique<Regex>(string_field(pattern, "Regex", "Split pattern"));
    } else {
      throw_error(ErrorKind::kCorrupt, "Split pattern must have \"String\" or \"Regex\"");
    }
    behavior_ = parse_split_behavior(string_field(config, "behavior", "Split pre-tokenizer"));
    invert_ = bool_field(config, "invert", false);
  }
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_each(pieces, [&](const std::string& text) {
      auto spans = regex_ ? find_regex_spans(*regex_, text) : find_literal_spans(literal_, text);
      if (invert_) invert_spans(spans);
      return apply_split_behavior(spans, behavior_);
    });
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_ = SplitBehavior::kIsolated;
  bool invert_ = false;
};

// Splits on single characters chosen by a predicate (Digits, Punctuation, WhitespaceSplit, CharDelimiterSplit).
class CharSplitPreTokenizer : public PreTokenizer {
 public:
  CharSplitPreTokenizer(std::function<bool(char32_t)> predicate, SplitBehavior behavior)
      : predicate_(std::move(predicate)), behavior_(behavior) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_each(pieces, [&](const std::string& text) {
      return apply_split_behavior(find_char_spans(predicate_, text), behavior_);
    });
  }

 private:
  std::function<bool(char32_t)> predicate_;
  SplitBehavior behavior_;
};

// Keeps the matches of \w+|[^\w\s]+ (runs of word characters, runs of other non-space characters).
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_each(pieces, [](const std::string& text) {
      std::vector<ByteRange> runs;
      int run_kind = 0;  // 0 none, 1 word, 2 other non-space
      size_t pos = 0;
      while (pos < text.size()) {
        const size_t begin = pos;
        const char32_t c = next_code_point(text, pos);
        const int kind = is_word_char(c) ? 1 : is_whitespace(c) ? 0 : 2;
        if (kind != 0 && kind == run_kind) {
          runs.back().second = pos;
        } else if (kind != 0) {
          runs.emplace_back(begin, pos);
        }
        run_kind = kind;
      }
      return runs;
    });
  }
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };
  explicit MetaspacePreTokenizer(const nlohmann::json& config) {
    replacement_ = string_field(config, "replacement", "Metaspace pre-tokenizer");
    size_t pos = 0;
    if (replacement_.empty() || (next_code_point(replacement_, pos), pos != replacement_.size())) {
      throw_error(ErrorKind::kCorrupt, "Metaspace replacement must be one character");
    }
    prepend_ = parse_prepend_scheme(config);
    split_ = bool_field(config, "split", true);
  }
  static Prepend parse_prepend_scheme(const nlohmann::json& config) {
    const auto it = config.find("prepend_scheme");
    if (it == config.end() || it->is_null()) {
      return bool_field(config, "add_prefix_space", true) ? Prepend::kAlways : Prepend::kNever;
    }
    const std::string scheme = it->is_string() ? it->get<std::string>() : "";
    if (scheme == "always") return Prepend::kAlways;
    if (scheme == "first") return Prepend::kFirst;
    if (scheme == "never") return Prepend::kNever;
    throw_error(ErrorKind::kCorrupt, "Metaspace prepend_scheme must be always, first or never");
  }
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    for (auto& p : pieces) {
      std::string replaced;
      replaced.reserve(p.text.size() + replacement_.size());
      for (char ch : p.text) {
        if (ch == ' ') {
          replaced.append(replacement_);
        } else {
          replaced.push_back(ch);
        }
      }
      const bool wants_prefix =
          prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && p.is_at_origin);
      if (wants_prefix && !replaced.starts_with(replacement_)) replaced.insert(0, replacement_);
      p.text = std::move(replaced);
    }
    if (split_) {
      split_each(pieces, [&](const std::string& text) {
        return apply_split_behavior(find_literal_spans(replacement_, text), SplitBehavior::kMergedWithNext);
      });
    }
  }

 private:
  std::string replacement_;
  Prepend prepend_ = Prepend::kAlways;
  bool split_ = true;
};

std::unique_ptr<PreTokenizer> parse_sequence(const nlohmann::json& config) {
  const auto& list = required_field(config, "pretokenizers", "Sequence pre-tokenizer");
  if (!list.is_array()) throw_error(ErrorKind::kCorrupt, "Sequence: \"pretokenizers\" must be an array");
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  for (const auto& item : list) steps.push_back(parse_pre_tokenizer(item));
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

std::unique_ptr<PreTokenizer> parse_bert(const nlohmann::json&) {
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(std::make_unique<CharSplitPreTokenizer>(is_whitespace, SplitBehavior::kRemoved));
  steps.push_back(std::make_unique<CharSplitPreTokenizer>(is_punctuation, SplitBehavior::kIsolated));
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

std::unique_ptr<PreTokenizer> parse_char_delimiter(const nlohmann::json& config) {
  const std::string delimiter = string_field(config, "delimiter", "CharDelimiterSplit");
  size_t pos = 0;
  if (delimiter.empty()) throw_error(ErrorKind::kCorrupt, "CharDelimiterSplit delimiter must be one character");
  const char32_t d = next_code_point(delimiter, pos);
  return std::make_unique<CharSplitPreTokenizer>([d](char32_t c) { return c == d; }, SplitBehavior::kRemoved);
}

}  // namespace

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const nlohmann::json& config) {
  const std::string type = type_field(config, "pre_tokenizer");
  if (type == "Sequence") return parse_sequence(config);
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(bool_field(config, "add_prefix_space", true),
                                                   bool_field(config, "use_regex", true));
  }
  if (type == "Split") return std::make_unique<SplitPreTokenizer>(config);
  if (type == "Metaspace") return std::make_unique<MetaspacePreTokenizer>(config);
  if (type == "Digits") {
    const bool individual = bool_field(config, "individual_digits", false);
    return std::make_unique<CharSplitPreTokenizer>(
        is_numeric, individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous);
  }
  if (type == "Punctuation") {
    const auto it = config.find("behavior");
    const SplitBehavior behavior = (it == config.end() || it->is_null())
                                       ? SplitBehavior::kIsolated
                                       : parse_split_behavior(string_field(config, "behavior", "Punctuation"));
    return std::make_unique<CharSplitPreTokenizer>(is_punctuation, behavior);
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharSplitPreTokenizer>(is_whitespace, SplitBehavior::kRemoved);
  }
  if (type == "BertPreTokenizer") return parse_bert(config);
  if (type == "CharDelimiterSplit") return parse_char_delimiter(config);
  throw_error(ErrorKind::kUnsupported, "pre_tokenizer type {:?} is not supported", type);
}

}  // namespace pagedllm
