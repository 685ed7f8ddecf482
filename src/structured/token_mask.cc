#include "structured/token_mask.h"

namespace pagedllm {

TokenMaskCache::TokenMaskCache(std::shared_ptr<const ByteDfa> dfa, std::shared_ptr<const TokenVocabulary> vocabulary)
    : dfa_(std::move(dfa)), vocabulary_(std::move(vocabulary)), masks_(dfa_->num_states()) {}

const uint64_t* TokenMaskCache::mask(int state) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = masks_[state];
  if (!slot) slot = std::make_unique<TokenBitmask>(compute(state));
  return slot->data();
}

int TokenMaskCache::num_cached() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int n = 0;
  for (const auto& m : masks_) n += m != nullptr;
  return n;
}

TokenBitmask TokenMaskCache::compute(int state) const {
  const TokenVocabulary& v = *vocabulary_;
  TokenBitmask bits((size_t(v.vocab_size()) + 63) / 64, 0);
  auto set = [&](int32_t t) { bits[size_t(t) >> 6] |= uint64_t(1) << (t & 63); };
  if (dfa_->is_accepting(state)) {
    for (int32_t eos : v.eos_token_ids()) {
      if (eos >= 0 && eos < v.vocab_size()) set(eos);
    }
  }
  const auto& trie = v.trie();
  // Depth-first over (trie node, DFA state) pairs whose prefix is still alive.
  std::vector<std::pair<uint32_t, int>> stack{{0u, state}};
  while (!stack.empty()) {
    auto [node, s] = stack.back();
    stack.pop_back();
    const auto& n = trie[node];
    if (node != 0) {
      for (uint32_t i = 0; i < n.num_tokens; ++i) set(v.trie_tokens()[n.first_token + i]);
    }
    for (uint32_t c = 0; c < n.num_children; ++c) {
      const int next = dfa_->next(s, v.child_bytes()[n.first_child + c]);
      if (next != ByteDfa::kDead) stack.emplace_back(v.child_nodes()[n.first_child + c], next);
    }
  }
  return bits;
}

}  // namespace pagedllm
