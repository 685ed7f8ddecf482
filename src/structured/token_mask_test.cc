#include "structured/token_mask.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "structured/regex_compiler.h"

namespace pagedllm {
namespace {

constexpr int32_t kEos = 0;

std::shared_ptr<const TokenVocabulary> small_vocabulary() {
  // id 0 is EOS (no bytes); single bytes make every string reachable, longer tokens test multi-byte walks.
  return std::make_shared<TokenVocabulary>(
      std::vector<std::string>{"", "a", "b", "c", "ab", "bc", "abc", "ca", "\"", "aa"}, std::vector<int32_t>{kEos});
}

std::shared_ptr<const ByteDfa> regex(const std::string& p) {
  ByteNfa nfa;
  NfaFragment f = compile_regex(nfa, p);
  return std::make_shared<ByteDfa>(nfa, f);
}

// Every text that ends in EOS through the masks, with at most max_len bytes before EOS.
std::set<std::string> reachable_outputs(TokenMaskCache& cache, size_t max_len) {
  std::set<std::string> out;
  const TokenVocabulary& v = cache.vocabulary();
  std::vector<std::pair<std::string, int>> frontier{{"", cache.dfa().start()}};
  while (!frontier.empty()) {
    auto [text, state] = frontier.back();
    frontier.pop_back();
    const uint64_t* mask = cache.mask(state);
    for (int32_t t = 0; t < v.vocab_size(); ++t) {
      if (!bitmask_has(mask, t)) continue;
      if (t == kEos) {
        out.insert(text);
        continue;
      }
      const std::string next = text + v.token_bytes(t);
      if (next.size() > max_len) continue;
      frontier.emplace_back(next, cache.dfa().walk(state, v.token_bytes(t)));
    }
  }
  return out;
}

std::set<std::string> valid_strings(const ByteDfa& dfa, const std::string& alphabet, size_t max_len) {
  std::set<std::string> out;
  std::vector<std::string> level{""};
  for (size_t len = 0; len <= max_len; ++len) {
    std::vector<std::string> next;
    for (const auto& s : level) {
      if (dfa.matches(s)) out.insert(s);
      for (char c : alphabet) next.push_back(s + c);
    }
    level = std::move(next);
  }
  return out;
}

// Completeness and soundness: the masks reach exactly the valid strings up to a length.
TEST(TokenMask, MasksReachExactlyTheValidStrings) {
  for (const std::string p : {"(ab|c)*", "a{1,3}b?c", "\"[abc]{2,4}\"", "(a|bc)+ca", "abc|ab|c"}) {
    TokenMaskCache cache(regex(p), small_vocabulary());
    EXPECT_EQ(reachable_outputs(cache, 7), valid_strings(cache.dfa(), "abc\"", 7)) << p;
  }
}

TEST(TokenMask, EosOnlyWhereComplete) {
  TokenMaskCache cache(regex("ab"), small_vocabulary());
  const ByteDfa& dfa = cache.dfa();
  const uint64_t* start = cache.mask(dfa.start());
  EXPECT_FALSE(bitmask_has(start, kEos));
  EXPECT_TRUE(bitmask_has(start, 1));   // a
  EXPECT_TRUE(bitmask_has(start, 4));   // ab
  EXPECT_FALSE(bitmask_has(start, 6));  // abc overshoots
  EXPECT_FALSE(bitmask_has(start, 9));  // aa
  const int done = dfa.walk(dfa.start(), "ab");
  EXPECT_TRUE(dfa.is_final(done));
  const uint64_t* end = cache.mask(done);
  for (int32_t t = 0; t < 10; ++t) EXPECT_EQ(bitmask_has(end, t), t == kEos) << t;
}

TEST(TokenMask, MasksAreCachedPerState) {
  TokenMaskCache cache(regex("a*"), small_vocabulary());
  const uint64_t* first = cache.mask(0);
  EXPECT_EQ(cache.mask(0), first);
  EXPECT_EQ(cache.num_cached(), 1);
}

}  // namespace
}  // namespace pagedllm
