// Sets of Unicode code points (sorted, disjoint, inclusive intervals) and their compilation into byte automata
// that accept exactly the UTF-8 encodings of the set's members (never a surrogate, never an overlong form).
#pragma once

#include <cstdint>
#include <vector>

#include "structured/byte_nfa.h"

namespace pagedllm {

struct CodePointRange {
  uint32_t lo, hi;  // inclusive
};

class CodePointSet {
 public:
  void add(uint32_t lo, uint32_t hi);
  void add(uint32_t c) { add(c, c); }
  void add(const CodePointSet& other);
  // Everything in [0, 0x10FFFF] outside this set (surrogates excluded).
  CodePointSet complement() const;
  // Removes [lo, hi].
  void remove(uint32_t lo, uint32_t hi);
  const std::vector<CodePointRange>& ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty(); }

 private:
  std::vector<CodePointRange> ranges_;
};

// A fragment that matches one code point of `set`, as UTF-8 bytes.
NfaFragment utf8_fragment(ByteNfa& nfa, const CodePointSet& set);

}  // namespace pagedllm
