// A deterministic automaton over bytes, made from a ByteNfa by subset construction over byte classes (bytes that
// every NFA edge treats alike share a column). States from which no accepting state can be reached are removed,
// so "alive" (next() >= 0) means "this prefix can still be completed".
// Immutable after construction; safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "structured/byte_nfa.h"

namespace pagedllm {

class ByteDfa {
 public:
  static constexpr int kDead = -1;

  // Throws Error(kInvalidArgument) when the language is empty or the automaton passes max_states.
  ByteDfa(const ByteNfa& nfa, NfaFragment fragment, int max_states = 200'000);

  int start() const { return 0; }
  int next(int state, uint8_t byte) const { return table_[size_t(state) * num_classes_ + byte_class_[byte]]; }
  // The state after `bytes` from `state`, or kDead.
  int walk(int state, std::string_view bytes) const;
  bool is_accepting(int state) const { return accepting_[state]; }
  // True when the state accepts and no byte leads on: the only continuation is the end of output.
  bool is_final(int state) const { return accepting_[state] && !has_next_[state]; }
  bool matches(std::string_view bytes) const;
  int num_states() const { return static_cast<int>(accepting_.size()); }

 private:
  std::array<uint8_t, 256> byte_class_{};
  int num_classes_ = 0;
  std::vector<int32_t> table_;  // (num_states, num_classes)
  std::vector<bool> accepting_;
  std::vector<bool> has_next_;
};

}  // namespace pagedllm
