#include "structured/byte_nfa.h"

#include "util/error.h"

namespace pagedllm {

// Above this many states a constraint is refused instead of exhausting memory (a maxLength of millions, say).
constexpr int kMaxNfaStates = 4'000'000;

int ByteNfa::add_state() {
  if (num_states() >= kMaxNfaStates) {
    throw_error(ErrorKind::kInvalidArgument, "the constraint is too large (over {} automaton states)", kMaxNfaStates);
  }
  states_.emplace_back();
  return num_states() - 1;
}

NfaFragment ByteNfa::empty() {
  const int s = add_state();
  return {s, s};
}

void ByteNfa::add_edges(int from, const ByteSet& bytes, int to) {
  for (int b = 0; b < 256;) {
    if (!bytes[b]) {
      ++b;
      continue;
    }
    int hi = b;
    while (hi + 1 < 256 && bytes[hi + 1]) ++hi;
    states_[from].edges.push_back({uint8_t(b), uint8_t(hi), to});
    b = hi + 1;
  }
}

NfaFragment ByteNfa::byte_set(const ByteSet& bytes) {
  const int s = add_state();
  const int e = add_state();
  add_edges(s, bytes, e);
  return {s, e};
}

NfaFragment ByteNfa::byte_range(uint8_t lo, uint8_t hi) {
  const int s = add_state();
  const int e = add_state();
  states_[s].edges.push_back({lo, hi, e});
  return {s, e};
}

NfaFragment ByteNfa::literal(std::string_view bytes) {
  const int s = add_state();
  int cur = s;
  for (unsigned char c : bytes) {
    const int next = add_state();
    states_[cur].edges.push_back({c, c, next});
    cur = next;
  }
  return {s, cur};
}

NfaFragment ByteNfa::seq(NfaFragment a, NfaFragment b) {
  add_epsilon(a.end, b.start);
  return {a.start, b.end};
}

NfaFragment ByteNfa::seq(const std::vector<NfaFragment>& parts) {
  if (parts.empty()) return empty();
  NfaFragment f = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) f = seq(f, parts[i]);
  return f;
}

NfaFragment ByteNfa::alt(const std::vector<NfaFragment>& options) {
  if (options.size() == 1) return options[0];
  const int s = add_state();
  const int e = add_state();
  for (const auto& o : options) {
    add_epsilon(s, o.start);
    add_epsilon(o.end, e);
  }
  return {s, e};
}

NfaFragment ByteNfa::optional(NfaFragment f) {
  const int s = add_state();
  const int e = add_state();
  add_epsilon(s, f.start);
  add_epsilon(s, e);
  add_epsilon(f.end, e);
  return {s, e};
}

NfaFragment ByteNfa::star(NfaFragment f) {
  const int s = add_state();
  const int e = add_state();
  add_epsilon(s, f.start);
  add_epsilon(s, e);
  add_epsilon(f.end, f.start);
  add_epsilon(f.end, e);
  return {s, e};
}

NfaFragment ByteNfa::plus(NfaFragment f) {
  const int e = add_state();
  add_epsilon(f.end, f.start);
  add_epsilon(f.end, e);
  return {f.start, e};
}

NfaFragment ByteNfa::repeat(const std::function<NfaFragment()>& make, int min, int max) {
  std::vector<NfaFragment> parts;
  for (int i = 0; i < min; ++i) parts.push_back(make());
  if (max < 0) {
    parts.push_back(star(make()));
  } else {
    // The optional copies nest, (x(x(x)?)?)?, so that a string of k copies has one path only.
    NfaFragment tail = empty();
    for (int i = min; i < max; ++i) tail = optional(seq(make(), tail));
    parts.push_back(tail);
  }
  return seq(parts);
}

}  // namespace pagedllm
