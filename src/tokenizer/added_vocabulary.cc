#include "tokenizer/added_vocabulary.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "tokenizer/json_fields.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace pagedllm {

namespace {

AddedToken parse_added_token(const nlohmann::json& j) {
  AddedToken t;
  t.content = string_field(j, "content", "added token");
  t.single_word = bool_field(j, "single_word", false);
  t.lstrip = bool_field(j, "lstrip", false);
  t.rstrip = bool_field(j, "rstrip", false);
  t.normalized = bool_field(j, "normalized", true);
  t.special = bool_field(j, "special", false);
  return t;
}

bool same_token(const AddedToken& a, const AddedToken& b) {
  return a.content == b.content && a.single_word == b.single_word && a.lstrip == b.lstrip && a.rstrip == b.rstrip &&
         a.normalized == b.normalized && a.special == b.special;
}

char32_t last_code_point(std::string_view s) {
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return next_code_point(s, start);
}

// Start of the run of whitespace that ends `s`.
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    if (!is_whitespace(next_code_point(s, pos))) break;
    end = start;
  }
  return end;
}

size_t leading_space_length(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = pos;
    if (!is_whitespace(next_code_point(s, next))) break;
    pos = next;
  }
  return pos;
}

}  // namespace

void AddedVocabulary::Trie::insert(std::string_view pattern, int32_t token_id) {
  if (pattern.empty()) return;
  first_bytes[static_cast<unsigned char>(pattern[0])] = true;
  int32_t node = 0;
  for (char ch : pattern) {
    const auto byte = static_cast<unsigned char>(ch);
    auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(byte, int32_t{-1}));
    if (it != children.end() && it->first == byte) {
      node = it->second;
      continue;
    }
    const auto child = static_cast<int32_t>(nodes.size());
    children.insert(it, {byte, child});
    nodes.emplace_back();
    node = child;
  }
  if (nodes[node].token_id < 0) nodes[node].token_id = token_id;
}

std::pair<size_t, int32_t> AddedVocabulary::Trie::longest_match(std::string_view text, size_t pos) const {
  std::pair<size_t, int32_t> best{0, -1};
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(byte, int32_t{-1}));
    if (it == children.end() || it->first != byte) break;
    node = it->second;
    if (nodes[node].token_id >= 0) best = {i + 1 - pos, nodes[node].token_id};
  }
  return best;
}

AddedVocabulary::AddedVocabulary(const nlohmann::json& tokens, const BpeModel& model, const Normalizer* normalizer) {
  if (!tokens.is_array()) throw_error(ErrorKind::kCorrupt, "\"added_tokens\" must be an array");
  std::vector<AddedToken> parsed;
  for (const auto& j : tokens) parsed.push_back(parse_added_token(j));
  std::vector<std::string> special_order;  // HF matches special tokens first, then the others, in file order
  for (const auto& t : parsed) {
    if (t.special && !t.content.empty() && special_contents_.insert(t.content).second) {
      special_order.push_back(t.content);
    }
  }
  std::vector<std::string> ordinary_order;
  for (const auto& t : parsed) {
    if (t.content.empty()) continue;
    const bool is_duplicate = std::any_of(by_id_.begin(), by_id_.end(),
                                          [&](const auto& entry) { return same_token(entry.second, t); });
    if (is_duplicate) continue;
    std::optional<int32_t> id = token_to_id(t.content);
    if (!id) id = model.token_to_id(t.content);
    if (!id) {
      const int32_t max = max_id();
      id = (max < 0) ? model.vocab_size() : (max >= model.vocab_size() ? max + 1 : model.vocab_size());
    }
    content_to_id_[t.content] = *id;
    by_id_[*id] = t;
    if (!special_contents_.count(t.content)) ordinary_order.push_back(t.content);
  }
  special_order.insert(special_order.end(), ordinary_order.begin(), ordinary_order.end());
  for (const auto& content : special_order) {
    const int32_t id = content_to_id_.at(content);
    const AddedToken& t = by_id_.at(id);
    if (!t.normalized) {
      raw_trie_.insert(content, id);
    } else {
      normalized_trie_.insert(normalizer ? normalizer->normalize(content) : content, id);
    }
  }
  for (const auto& [id, t] : by_id_) {
    decoded_by_id_[id] = (t.normalized && normalizer) ? normalizer->normalize(t.content) : t.content;
  }
}

std::optional<int32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  const auto it = content_to_id_.find(content);
  if (it == content_to_id_.end()) return std::nullopt;
  return it->second;
}

const std::string* AddedVocabulary::id_to_token(int32_t id) const {
  const auto it = decoded_by_id_.find(id);
  return it == decoded_by_id_.end() ? nullptr : &it->second;
}

bool AddedVocabulary::is_special_id(int32_t id) const {
  const auto it = by_id_.find(id);
  return it != by_id_.end() && special_contents_.count(it->second.content) > 0;
}

int32_t AddedVocabulary::max_id() const {
  int32_t max = -1;
  for (const auto& [id, token] : by_id_) max = std::max(max, id);
  return max;
}

std::vector<TextSegment> AddedVocabulary::split(std::string_view text, bool use_normalized_tokens) const {
  const Trie& trie = use_normalized_tokens ? normalized_trie_ : raw_trie_;
  std::vector<TextSegment> segments;
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.first_bytes[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [length, id] = trie.longest_match(text, pos);
    if (length == 0) {
      ++pos;
      continue;
    }
    size_t start = pos;
    size_t stop = pos + length;
    pos = stop;
    const AddedToken& token = by_id_.at(id);
    if (token.single_word) {
      const bool word_before = start > 0 && is_word_char(last_code_point(text.substr(0, start)));
      size_t after = stop;
      const bool word_after = stop < text.size() && is_word_char(next_code_point(text, after));
      if (word_before || word_after) continue;
    }
    if (token.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (token.rstrip) stop += leading_space_length(text.substr(stop));
    if (start_offset < start) segments.push_back({start_offset, start, std::nullopt});
    segments.push_back({start, stop, id});
    start_offset = stop;
  }
  if (start_offset != text.size() || text.empty()) segments.push_back({start_offset, text.size(), std::nullopt});
  return segments;
}

}  // namespace pagedllm
