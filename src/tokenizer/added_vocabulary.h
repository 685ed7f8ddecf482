// Added tokens of tokenizer.json ("added_tokens"): special and ordinary tokens matched in the text before the model
// runs (Hugging Face tokenizers/src/tokenizer/added_vocabulary.rs).
//
// Matching is leftmost-longest over all token contents. Tokens with normalized=false match the raw text; tokens
// with normalized=true match the normalized text, as their own normalized content. single_word, lstrip and rstrip
// are applied to each match exactly as HF's find_matches does.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/bpe_model.h"
#include "tokenizer/normalizer.h"

namespace pagedllm {

struct AddedToken {
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A piece of text: either an added token (token_id set) or text for the model.
struct TextSegment {
  size_t begin;
  size_t end;
  std::optional<int32_t> token_id;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `tokens` is tokenizer.json's "added_tokens" array; ids are assigned as HF does (an existing vocabulary entry
  // keeps its id, new contents get ids after the model's vocabulary). `normalizer` may be null.
  AddedVocabulary(const nlohmann::json& tokens, const BpeModel& model, const Normalizer* normalizer);

  // Splits `text` on the tokens matched against raw (normalized=false) or normalized text; the segments cover
  // `text` in order (token segments may include the whitespace lstrip/rstrip took).
  std::vector<TextSegment> split(std::string_view text, bool use_normalized_tokens) const;

  std::optional<int32_t> token_to_id(std::string_view content) const;
  // The string HF decodes an added token as: its content, normalized when the token is normalized=true
  // (llama2's "<s>" decodes as "▁<s>"); null for ids that are not added tokens.
  const std::string* id_to_token(int32_t id) const;
  // Whether the token of `id` has the content of a special token.
  bool is_special_id(int32_t id) const;
  bool is_special_content(const std::string& content) const { return special_contents_.count(content) > 0; }
  // The largest id any added token has, or -1 when there are none.
  int32_t max_id() const;

 private:
  struct TrieNode {
    std::vector<std::pair<unsigned char, int32_t>> children;  // sorted by byte
    int32_t token_id = -1;                                     // id of the first pattern ending here
  };
  struct Trie {
    std::vector<TrieNode> nodes{1};
    bool first_bytes[256] = {};
    void insert(std::string_view pattern, int32_t token_id);
    // Length of the longest pattern starting at text[pos] and its id; {0, -1} when none.
    std::pair<size_t, int32_t> longest_match(std::string_view text, size_t pos) const;
  };

  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> content_to_id_;
  std::unordered_map<int32_t, AddedToken> by_id_;
  std::unordered_map<int32_t, std::string> decoded_by_id_;
  std::unordered_set<std::string> special_contents_;
  Trie raw_trie_;
  Trie normalized_trie_;
};

}  // namespace pagedllm
