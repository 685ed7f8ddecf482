#include "structured/token_vocabulary.h"

#include <algorithm>
#include <numeric>

#include "tokenizer/byte_level.h"

namespace pagedllm {
namespace {

// Decodes UTF-8 into code points; invalid input yields an empty vector.
std::vector<char32_t> code_points(const std::string& s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return {};
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Byte-level vocabularies spell a space 'Ġ' (U+0120); SentencePiece ones '▁' (U+2581).
bool is_byte_level_vocabulary(const std::vector<std::string>& strings) {
  size_t g = 0, sp = 0;
  for (const auto& s : strings) {
    if (s.find("\xC4\xA0") != std::string::npos) ++g;
    if (s.find("\xE2\x96\x81") != std::string::npos) ++sp;
  }
  return g > sp;
}

std::string byte_level_bytes(const std::string& token) {
  std::string out;
  for (char32_t c : code_points(token)) {
    const int b = byte_level_char_to_byte(c);
    if (b < 0) return token;  // an added token written as plain text
    out.push_back(static_cast<char>(b));
  }
  return out;
}

std::string sentencepiece_bytes(const std::string& token) {
  if (token.size() == 6 && token.compare(0, 3, "<0x") == 0 && token[5] == '>') {
    return std::string(1, static_cast<char>(std::stoi(token.substr(3, 2), nullptr, 16)));
  }
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token.compare(i, 3, "\xE2\x96\x81") == 0) {
      out.push_back(' ');
      i += 2;
    } else {
      out.push_back(token[i]);
    }
  }
  return out;
}

}  // namespace

TokenVocabulary::TokenVocabulary(const Tokenizer& tokenizer, int32_t vocab_size, std::vector<int32_t> eos_token_ids)
    : eos_token_ids_(std::move(eos_token_ids)) {
  std::vector<std::string> strings(vocab_size);
  const int32_t n = std::min(vocab_size, tokenizer.vocab_size());
  for (int32_t id = 0; id < n; ++id) {
    if (!tokenizer.is_special(id)) strings[id] = tokenizer.id_to_token(id);
  }
  const bool byte_level = is_byte_level_vocabulary(strings);
  bytes_.resize(vocab_size);
  for (int32_t id = 0; id < vocab_size; ++id) {
    if (!strings[id].empty()) bytes_[id] = byte_level ? byte_level_bytes(strings[id]) : sentencepiece_bytes(strings[id]);
  }
  build_trie();
}

TokenVocabulary::TokenVocabulary(std::vector<std::string> token_bytes, std::vector<int32_t> eos_token_ids)
    : bytes_(std::move(token_bytes)), eos_token_ids_(std::move(eos_token_ids)) {
  build_trie();
}

// Tokens sorted by bytes make each trie node's tokens and children contiguous, built in one pass per level.
void TokenVocabulary::build_trie() {
  std::vector<int32_t> order;
  for (int32_t id = 0; id < vocab_size(); ++id) {
    if (!bytes_[id].empty()) order.push_back(id);
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return bytes_[a] != bytes_[b] ? bytes_[a] < bytes_[b] : a < b; });
  // Each pending node covers order[begin, end) at depth `depth`.
  struct Pending {
    uint32_t node;
    size_t begin, end, depth;
  };
  trie_.assign(1, TrieNode{});
  std::vector<Pending> queue{{0, 0, order.size(), 0}};
  for (size_t q = 0; q < queue.size(); ++q) {
    const Pending p = queue[q];
    size_t i = p.begin;
    trie_[p.node].first_token = static_cast<uint32_t>(trie_tokens_.size());
    while (i < p.end && bytes_[order[i]].size() == p.depth) trie_tokens_.push_back(order[i++]);
    trie_[p.node].num_tokens = static_cast<uint32_t>(trie_tokens_.size()) - trie_[p.node].first_token;
    trie_[p.node].first_child = static_cast<uint32_t>(child_bytes_.size());
    // Children are appended contiguously now; their own children later, from the queue.
    while (i < p.end) {
      const uint8_t b = static_cast<uint8_t>(bytes_[order[i]][p.depth]);
      size_t j = i;
      while (j < p.end && static_cast<uint8_t>(bytes_[order[j]][p.depth]) == b) ++j;
      const uint32_t child = static_cast<uint32_t>(trie_.size());
      trie_.push_back(TrieNode{});
      child_bytes_.push_back(b);
      child_nodes_.push_back(child);
      ++trie_[p.node].num_children;
      queue.push_back({child, i, j, p.depth + 1});
      i = j;
    }
  }
}

}  // namespace pagedllm
