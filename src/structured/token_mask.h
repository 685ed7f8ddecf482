// Which tokens may come next in each state of a ByteDfa: a token is allowed when every one of its bytes keeps the
// automaton alive (so the output can still be completed); EOS ids are allowed exactly in accepting states.
// A state's mask is computed once, by walking the vocabulary trie alongside the automaton (a subtree whose
// prefix dies is skipped whole), then cached: decoding costs one cache lookup per token, and the per-step work
// is applying the bits to the logits.
// Thread-safe: masks are computed under a mutex and never change once published.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "structured/byte_dfa.h"
#include "structured/token_vocabulary.h"

namespace pagedllm {

// Bit t of word t / 64 set: token t is allowed. (vocab_size + 63) / 64 words.
using TokenBitmask = std::vector<uint64_t>;

inline bool bitmask_has(const uint64_t* mask, int32_t token) { return (mask[token >> 6] >> (token & 63)) & 1; }

class TokenMaskCache {
 public:
  TokenMaskCache(std::shared_ptr<const ByteDfa> dfa, std::shared_ptr<const TokenVocabulary> vocabulary);

  // The mask of `state` (a live state of the DFA); valid as long as this cache lives.
  const uint64_t* mask(int state);
  const ByteDfa& dfa() const { return *dfa_; }
  const TokenVocabulary& vocabulary() const { return *vocabulary_; }
  int num_cached() const;

 private:
  TokenBitmask compute(int state) const;

  std::shared_ptr<const ByteDfa> dfa_;
  std::shared_ptr<const TokenVocabulary> vocabulary_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<TokenBitmask>> masks_;  // by DFA state; GUARDED_BY(mutex_)
};

}  // namespace pagedllm
