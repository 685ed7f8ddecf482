#include "structured/byte_dfa.h"

#include <algorithm>
#include <map>

#include "util/error.h"

namespace pagedllm {
namespace {

// Sorted set of NFA states closed under epsilon moves.
std::vector<int> epsilon_closure(const ByteNfa& nfa, std::vector<int> seeds, std::vector<char>& seen) {
  std::vector<int> out;
  while (!seeds.empty()) {
    const int s = seeds.back();
    seeds.pop_back();
    if (seen[s]) continue;
    seen[s] = 1;
    out.push_back(s);
    for (int t : nfa.states()[s].epsilons) {
      if (!seen[t]) seeds.push_back(t);
    }
  }
  for (int s : out) seen[s] = 0;
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ByteDfa::ByteDfa(const ByteNfa& nfa, NfaFragment fragment, int max_states) {
  // Byte classes: a boundary wherever some edge's range starts or ends.
  std::array<bool, 257> boundary{};
  for (const auto& st : nfa.states()) {
    for (const auto& e : st.edges) {
      boundary[e.lo] = true;
      boundary[e.hi + 1] = true;
    }
  }
  std::vector<uint8_t> class_first_byte;
  for (int b = 0; b < 256; ++b) {
    if (b == 0 || boundary[b]) class_first_byte.push_back(uint8_t(b));
    byte_class_[b] = uint8_t(class_first_byte.size() - 1);
  }
  num_classes_ = static_cast<int>(class_first_byte.size());

  std::vector<char> seen(nfa.num_states(), 0);
  std::map<std::vector<int>, int> ids;
  std::vector<std::vector<int>> sets;
  std::vector<int32_t> table;
  auto intern = [&](std::vector<int> set) {
    auto [it, inserted] = ids.emplace(std::move(set), int(sets.size()));
    if (inserted) {
      if (int(sets.size()) >= max_states) {
        throw_error(ErrorKind::kInvalidArgument, "the constraint is too large (its automaton passes {} states)", max_states);
      }
      sets.push_back(it->first);
      table.resize(sets.size() * num_classes_, kDead);
    }
    return it->second;
  };
  intern(epsilon_closure(nfa, {fragment.start}, seen));
  std::vector<std::vector<int>> targets(num_classes_);
  for (size_t d = 0; d < sets.size(); ++d) {
    for (auto& t : targets) t.clear();
    for (int s : sets[d]) {
      for (const auto& e : nfa.states()[s].edges) {
        for (int c = byte_class_[e.lo]; c <= byte_class_[e.hi]; ++c) targets[c].push_back(e.target);
      }
    }
    for (int c = 0; c < num_classes_; ++c) {
      if (targets[c].empty()) continue;
      const int id = intern(epsilon_closure(nfa, targets[c], seen));
      table[d * num_classes_ + c] = id;
    }
  }

  // Keep only states that can reach acceptance; renumber them with the start first.
  const int n = static_cast<int>(sets.size());
  std::vector<bool> accepting(n);
  for (int d = 0; d < n; ++d) accepting[d] = std::binary_search(sets[d].begin(), sets[d].end(), fragment.end);
  std::vector<std::vector<int>> reverse(n);
  for (int d = 0; d < n; ++d) {
    for (int c = 0; c < num_classes_; ++c) {
      if (int t = table[size_t(d) * num_classes_ + c]; t != kDead) reverse[t].push_back(d);
    }
  }
  std::vector<bool> live(n, false);
  std::vector<int> stack;
  for (int d = 0; d < n; ++d) {
    if (accepting[d]) {
      live[d] = true;
      stack.push_back(d);
    }
  }
  while (!stack.empty()) {
    const int d = stack.back();
    stack.pop_back();
    for (int p : reverse[d]) {
      if (!live[p]) {
        live[p] = true;
        stack.push_back(p);
      }
    }
  }
  if (!live[0]) throw_error(ErrorKind::kInvalidArgument, "the constraint admits no string at all");
  std::vector<int> renumber(n, kDead);
  int num_live = 0;
  for (int d = 0; d < n; ++d) {
    if (live[d]) renumber[d] = num_live++;
  }
  table_.assign(size_t(num_live) * num_classes_, kDead);
  accepting_.assign(num_live, false);
  has_next_.assign(num_live, false);
  for (int d = 0; d < n; ++d) {
    if (!live[d]) continue;
    const int r = renumber[d];
    accepting_[r] = accepting[d];
    for (int c = 0; c < num_classes_; ++c) {
      const int t = table[size_t(d) * num_classes_ + c];
      const int mapped = t == kDead ? kDead : renumber[t];
      table_[size_t(r) * num_classes_ + c] = mapped;
      if (mapped != kDead) has_next_[r] = true;
    }
  }
}

int ByteDfa::walk(int state, std::string_view bytes) const {
  for (unsigned char b : bytes) {
    if (state == kDead) return kDead;
    state = next(state, b);
  }
  return state;
}

bool ByteDfa::matches(std::string_view bytes) const {
  const int s = walk(start(), bytes);
  return s != kDead && is_accepting(s);
}

}  // namespace pagedllm
