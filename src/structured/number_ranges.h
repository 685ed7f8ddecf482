// JSON integers within bounds as byte automata: the decimal spellings (no leading zeros) of every integer in
// [lo, hi], built digit by digit like UTF-8 ranges (a shared prefix, then a low edge, full middle digits and a
// high edge), so the automaton has O(digits) states whatever the range.
#pragma once

#include <cstdint>
#include <optional>

#include "structured/byte_nfa.h"

namespace pagedllm {

// Integers in [lo, hi]; an absent bound is unbounded. Matches nothing when lo > hi.
NfaFragment integer_range(ByteNfa& nfa, std::optional<int64_t> lo, std::optional<int64_t> hi);

}  // namespace pagedllm
