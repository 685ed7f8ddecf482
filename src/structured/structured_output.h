// The engine's view of structured outputs: StructuredOutputCompiler turns a request's StructuredOutputsParams
// into a CompiledConstraint (an automaton plus its per-state token masks, cached by the params' key and shared
// by every request and sample that asks for the same thing); a ConstraintMatcher is one sequence's position in
// it. Per step the engine asks the matcher for its mask, samples, then accepts the token.
//
// Thread-safety: the compiler and compiled constraints may be shared across threads; a matcher may not.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sampling/structured_outputs_params.h"
#include "structured/token_mask.h"

namespace pagedllm {

class CompiledConstraint {
 public:
  CompiledConstraint(std::shared_ptr<const ByteDfa> dfa, std::shared_ptr<const TokenVocabulary> vocabulary)
      : masks_(std::move(dfa), std::move(vocabulary)) {}
  TokenMaskCache& masks() { return masks_; }
  const ByteDfa& dfa() const { return masks_.dfa(); }

 private:
  TokenMaskCache masks_;
};

// How deep a recursive JSON Schema ($ref) or GBNF rule is expanded (see json_schema_compiler.h): depth d allows
// d + 1 nested levels. The expansion copies the recursive part once per level, so its automaton roughly doubles
// with each level for a schema that recurses once per level (a tree: depth 3 = 368 states, 6 = 3,112 states in
// 0.2 s, 7 = 6,248 states in ~1 s) and grows faster for several recursive branches (an expression with two
// operands passes the 4,000,000-state cap at depth 7). 7 is the most offered; deeper nesting needs a pushdown
// automaton, which this byte-DFA design does not have.
inline constexpr int kDefaultRecursionDepth = 3;
inline constexpr int kMaxRecursionDepth = 7;

// The automaton of a StructuredOutputsParams (without token masks), for tests and tools.
// Throws Error(kInvalidArgument / kUnsupported) naming the problem in the schema, regex or grammar.
std::shared_ptr<const ByteDfa> compile_structured_output(const StructuredOutputsParams& params,
                                                         int max_recursion_depth = kDefaultRecursionDepth);

class StructuredOutputCompiler {
 public:
  // Throws Error(kInvalidArgument) for a max_recursion_depth outside [1, kMaxRecursionDepth].
  explicit StructuredOutputCompiler(std::shared_ptr<const TokenVocabulary> vocabulary, size_t max_cached = 64,
                                    int max_recursion_depth = kDefaultRecursionDepth);
  std::shared_ptr<CompiledConstraint> compile(const StructuredOutputsParams& params);
  const TokenVocabulary& vocabulary() const { return *vocabulary_; }

 private:
  std::shared_ptr<const TokenVocabulary> vocabulary_;
  size_t max_cached_;
  int max_recursion_depth_;
  std::mutex mutex_;
  std::list<std::string> lru_;  // most recent first; GUARDED_BY(mutex_)
  std::map<std::string, std::pair<std::shared_ptr<CompiledConstraint>, std::list<std::string>::iterator>> cache_;
};

class ConstraintMatcher {
 public:
  explicit ConstraintMatcher(std::shared_ptr<CompiledConstraint> constraint);

  // The tokens allowed next (a bitmask over the vocabulary), or nullptr once the matcher no longer constrains
  // (after EOS, or after a token outside the mask was forced in).
  const uint64_t* allowed_tokens();
  void accept_token(int32_t token);
  // The output so far is complete and nothing but EOS may follow: the engine finishes the sequence.
  bool is_terminated() const;
  bool is_complete() const;  // the output so far is a whole match (EOS would be allowed)

 private:
  std::shared_ptr<CompiledConstraint> constraint_;
  int state_;
  bool done_ = false;
};

}  // namespace pagedllm
