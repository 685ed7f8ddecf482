// A Thompson NFA over bytes, built from fragments. Every constraint kind (regex, choice, JSON Schema, grammar)
// compiles into one ByteNfa, which ByteDfa then determinizes; the compilers never produce text regexes for each
// other, so a JSON Schema's shared tails (optional properties) are shared states rather than copied text.
//
// A Fragment has one entry and one exit state; the exit has no outgoing edges until a combinator links it.
#pragma once

#include <bitset>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace pagedllm {

using ByteSet = std::bitset<256>;

struct NfaFragment {
  int start = 0;
  int end = 0;
};

class ByteNfa {
 public:
  struct Edge {
    uint8_t lo, hi;  // inclusive byte range
    int target;
  };
  struct State {
    std::vector<Edge> edges;
    std::vector<int> epsilons;
  };

  int add_state();
  NfaFragment empty();                 // matches ""
  NfaFragment byte_set(const ByteSet& bytes);
  NfaFragment byte_range(uint8_t lo, uint8_t hi);
  NfaFragment literal(std::string_view bytes);
  NfaFragment seq(NfaFragment a, NfaFragment b);
  NfaFragment seq(const std::vector<NfaFragment>& parts);  // empty() when parts is empty
  NfaFragment alt(const std::vector<NfaFragment>& options);  // matches nothing when options is empty
  NfaFragment optional(NfaFragment f);
  NfaFragment star(NfaFragment f);
  NfaFragment plus(NfaFragment f);
  // min..max copies of make() (max < 0: unbounded). make is called once per copy because a fragment's states can
  // appear in one place only.
  NfaFragment repeat(const std::function<NfaFragment()>& make, int min, int max);
  void add_epsilon(int from, int to) { states_[from].epsilons.push_back(to); }
  // Edges from `from` to `to` on every byte of `bytes`.
  void add_edges(int from, const ByteSet& bytes, int to);

  const std::vector<State>& states() const { return states_; }
  int num_states() const { return static_cast<int>(states_.size()); }

 private:
  std::vector<State> states_;
};

}  // namespace pagedllm
