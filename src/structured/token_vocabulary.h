// The exact bytes each token id adds to the output, and a trie over them, for computing token masks.
//
// Bytes come from the vocabulary strings: a byte-level BPE vocabulary (GPT-2 style, 'Ġ' for space) maps each
// code point back to its byte; a SentencePiece-style vocabulary ('▁' for space) reads '▁' as a space and
// <0xNN> byte-fallback pieces as the byte NN. Special tokens (BOS, EOS, chat markers) and ids without a string
// have no bytes: a constraint never allows them, except EOS where the structure is complete.
// Immutable after construction; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace pagedllm {

class TokenVocabulary {
 public:
  // vocab_size: the model's logits width (it may exceed the tokenizer's; the extra ids have no bytes).
  TokenVocabulary(const Tokenizer& tokenizer, int32_t vocab_size, std::vector<int32_t> eos_token_ids);
  // For tests: explicit token bytes ("" = never allowed).
  TokenVocabulary(std::vector<std::string> token_bytes, std::vector<int32_t> eos_token_ids);

  int32_t vocab_size() const { return static_cast<int32_t>(bytes_.size()); }
  const std::string& token_bytes(int32_t id) const { return bytes_[id]; }
  const std::vector<int32_t>& eos_token_ids() const { return eos_token_ids_; }

  // The trie: node 0 is the root; a node's children are sorted by byte; tokens_at(node) end there.
  struct TrieNode {
    uint32_t first_child = 0, num_children = 0;
    uint32_t first_token = 0, num_tokens = 0;
  };
  const std::vector<TrieNode>& trie() const { return trie_; }
  const std::vector<uint8_t>& child_bytes() const { return child_bytes_; }  // by child index
  const std::vector<uint32_t>& child_nodes() const { return child_nodes_; }
  const std::vector<int32_t>& trie_tokens() const { return trie_tokens_; }

 private:
  void build_trie();

  std::vector<std::string> bytes_;
  std::vector<int32_t> eos_token_ids_;
  std::vector<TrieNode> trie_;
  std::vector<uint8_t> child_bytes_;
  std::vector<uint32_t> child_nodes_;
  std::vector<int32_t> trie_tokens_;
};

}  // namespace pagedllm
