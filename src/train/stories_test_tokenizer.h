// Test helper: a tokenizer for the stories260K vocabulary without the tokenizer library (train/ does not link it):
// SentencePiece-style normalization (prepend "▁", spaces → "▁"), then greedy longest match over the vocabulary with
// byte fallback (<0xXX>). Its ids are valid for the model though not always the BPE merges' choice; training and
// generation in the tests use it consistently.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/mapped_file.h"

namespace pagedllm {

class StoriesTestTokenizer {
 public:
  explicit StoriesTestTokenizer(const std::string& model_dir) {
    const auto json = nlohmann::json::parse(read_text_file(model_dir + "/tokenizer.json"));
    for (const auto& [piece, id] : json["model"]["vocab"].items()) vocab_[piece] = id.get<int32_t>();
    for (const auto& [piece, id] : vocab_) max_len_ = std::max(max_len_, piece.size());
  }

  std::vector<int32_t> encode(const std::string& text, bool add_special) const {
    std::string s = "\xE2\x96\x81";  // ▁
    for (const char ch : text) s += ch == ' ' ? std::string("\xE2\x96\x81") : std::string(1, ch);
    std::vector<int32_t> ids;
    if (add_special) ids.push_back(1);
    for (size_t i = 0; i < s.size();) {
      size_t len = std::min(max_len_, s.size() - i);
      for (; len > 0; --len) {
        const auto it = vocab_.find(s.substr(i, len));
        if (it != vocab_.end() && it->second > 2) {
          ids.push_back(it->second);
          break;
        }
      }
      if (len == 0) {
        ids.push_back(vocab_.at(fmt::format("<0x{:02X}>", static_cast<uint8_t>(s[i]))));
        len = 1;
      }
      i += len;
    }
    return ids;
  }

 private:
  std::map<std::string, int32_t> vocab_;
  size_t max_len_ = 0;
};

}  // namespace pagedllm
