#include "tokenizer/decoder.h"

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/regex.h"
#include "tokenizer/split.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

namespace {

class ByteLevelDecoder : public Decoder {
 public:
  // A token made only of byte-level characters becomes those bytes; any other token keeps its UTF-8 bytes.
  // All bytes are then read as UTF-8, lossily.
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& token : tokens) {
      const size_t mark = bytes.size();
      size_t pos = 0;
      bool is_byte_level = true;
      while (pos < token.size()) {
        const int b = byte_level_char_to_byte(next_code_point(token, pos));
        if (b < 0) {
          is_byte_level = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
      }
      if (!is_byte_level) {
        bytes.resize(mark);
        bytes.append(token);
      }
    }
    tokens.assign(1, utf8_lossy(bytes));
  }
};

class ReplaceDecoder : public Decoder {
 public:
  explicit ReplaceDecoder(const nlohmann::json& config) {
    const auto& pattern = required_field(config, "pattern", "Replace decoder");
    content_ = string_field(config, "content", "Replace decoder");
    if (pattern.contains("String")) {
      literal_ = string_field(pattern, "String", "Replace pattern");
    } else if (pattern.contains("Regex")) {
      regex_ = std::make_unique<Regex>(string_field(pattern, "Regex", "Replace pattern"));
    } else {
      throw_error(ErrorKind::kCorrupt, "Replace pattern must have \"String\" or \"Regex\"");
    }
  }
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) {
      const auto spans = regex_ ? find_regex_spans(*regex_, token) : find_literal_spans(literal_, token);
      std::string out;
      for (const auto& s : spans) {
        if (s.is_match) {
          out.append(content_);
        } else {
          out.append(token, s.begin, s.end - s.begin);
        }
      }
      token = std::move(out);
    }
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

int hex_digit(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// The byte of a "<0xHH>" token, or -1 (HF parses HH with u8::from_str_radix, which also takes "+H").
int byte_token_value(const std::string& token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return -1;
  if (token[3] == '+') return hex_digit(token[4]);
  const int hi = hex_digit(token[3]);
  const int lo = hex_digit(token[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class ByteFallbackDecoder : public Decoder {
 public:
  // Runs of byte tokens become their UTF-8 text, or one U+FFFD per byte when the run is not valid UTF-8.
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending.size(); ++i) out.emplace_back(kReplacementChar);
      }
      pending.clear();
    };
    for (auto& token : tokens) {
      const int b = byte_token_value(token);
      if (b >= 0) {
        pending.push_back(static_cast<char>(b));
        continue;
      }
      flush();
      out.push_back(std::move(token));
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens) const override {
    std::string joined;
    for (const auto& t : tokens) joined.append(t);
    tokens.assign(1, std::move(joined));
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character from every token.
class StripDecoder : public Decoder {
 public:
  explicit StripDecoder(const nlohmann::json& config) {
    const std::string content = string_field(config, "content", "Strip decoder");
    size_t pos = 0;
    if (content.empty()) throw_error(ErrorKind::kCorrupt, "Strip decoder: content must be one character");
    content_ = next_code_point(content, pos);
    start_ = count_field(config, "start");
    stop_ = count_field(config, "stop");
  }
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (auto& token : tokens) {
      std::vector<std::pair<size_t, char32_t>> chars;  // (byte offset, code point)
      size_t pos = 0;
      while (pos < token.size()) {
        const size_t at = pos;
        chars.emplace_back(at, next_code_point(token, pos));
      }
      size_t start_cut = 0;
      for (size_t i = 0; i < std::min(start_, chars.size()) && chars[i].second == content_; ++i) start_cut = i + 1;
      size_t stop_cut = chars.size();
      for (size_t i = 0; i < stop_ && i < chars.size(); ++i) {
        const size_t index = chars.size() - i - 1;
        if (chars[index].second != content_) break;
        stop_cut = index;
      }
      if (stop_cut <= start_cut) {
        token.clear();
        continue;
      }
      const size_t begin = start_cut < chars.size() ? chars[start_cut].first : token.size();
      const size_t end = stop_cut < chars.size() ? chars[stop_cut].first : token.size();
      token = token.substr(begin, end - begin);
    }
  }

 private:
  static size_t count_field(const nlohmann::json& config, const char* key) {
    const auto& v = required_field(config, key, "Strip decoder");
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      throw_error(ErrorKind::kCorrupt, "Strip decoder: \"{}\" must be a non-negative integer", key);
    }
    return v.get<size_t>();
  }
  char32_t content_ = ' ';
  size_t start_ = 0;
  size_t stop_ = 0;
};

// Replacement characters become spaces, except in the first token (prepend_scheme other than "never"), where they
// are dropped.
class MetaspaceDecoder : public Decoder {
 public:
  explicit MetaspaceDecoder(const nlohmann::json& config) {
    const std::string replacement = string_field(config, "replacement", "Metaspace decoder");
    size_t pos = 0;
    if (replacement.empty()) throw_error(ErrorKind::kCorrupt, "Metaspace decoder: replacement must be one character");
    replacement_ = next_code_point(replacement, pos);
    const auto it = config.find("prepend_scheme");
    if (it != config.end() && it->is_string()) {
      strips_first_ = it->get<std::string>() != "never";
    } else {
      strips_first_ = bool_field(config, "add_prefix_space", true);
    }
  }
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      size_t pos = 0;
      const std::string& token = tokens[i];
      while (pos < token.size()) {
        const char32_t c = next_code_point(token, pos);
        if (c != replacement_) {
          append_utf8(out, c);
        } else if (i != 0 || !strips_first_) {
          out.push_back(' ');
        }
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  char32_t replacement_ = 0x2581;
  bool strips_first_ = true;
};

class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string replacement = i + 1 == tokens.size() ? "" : " ";
      std::string out;
      const std::string& token = tokens[i];
      for (const auto& s : find_literal_spans(suffix_, token)) {
        out.append(s.is_match ? replacement : token.substr(s.begin, s.end - s.begin));
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode_chain(std::vector<std::string>& tokens) const override {
    for (const auto& step : steps_) step->decode_chain(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> parse_decoder(const nlohmann::json& config) {
  const std::string type = type_field(config, "decoder");
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(config);
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") return std::make_unique<StripDecoder>(config);
  if (type == "Metaspace") return std::make_unique<MetaspaceDecoder>(config);
  if (type == "BPEDecoder") {
    const auto it = config.find("suffix");
    return std::make_unique<BpeSuffixDecoder>(it != config.end() && it->is_string() ? it->get<std::string>()
                                                                                     : std::string("</w>"));
  }
  if (type == "Sequence") {
    const auto& list = required_field(config, "decoders", "Sequence decoder");
    if (!list.is_array()) throw_error(ErrorKind::kCorrupt, "Sequence decoder: \"decoders\" must be a list");
    std::vector<std::unique_ptr<Decoder>> steps;
    for (const auto& item : list) steps.push_back(parse_decoder(item));
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  throw_error(ErrorKind::kUnsupported, "decoder type {:?} is not supported", type);
}

std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens) {
  std::string text;
  if (decoder == nullptr) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text.push_back(' ');
      text.append(tokens[i]);
    }
    return text;
  }
  decoder->decode_chain(tokens);
  for (const auto& t : tokens) text.append(t);
  return text;
}

}  // namespace pagedllm
